/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's steps on the guest side (see run.h): start QEMU on a copy of
 * the image, connect QMP, upload the workload, follow its markers on the
 * serial channel, collect its exit status.
 */
#include "run.h"

#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "report_json.h"
#include "workload.h"

/* ---- waiting for the workload's markers ---- */

typedef struct Expect {
    Session *s;
    const char *text;
    GString *before;
    Progress *progress;
} Expect;

static WaitPoll poll_marker(Wait *w, void *data, GError **err)
{
    Expect *x = data;
    g_autoptr(GError) e = NULL;
    gint64 slice = MIN(w->deadline, deadline_in(SLICE_US));
    if (serial_expect(x->s->vm.serial, x->text, slice, x->before, &e)) {
        return WAIT_DONE;
    }
    if (!g_error_matches(e, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT)) {
        g_propagate_error(err, g_steal_pointer(&e));
        return WAIT_FAILED;
    }
    return WAIT_PENDING;
}

static void tick(void *data)
{
    Expect *x = data;
    if (x->progress) {
        progress_tick(x->progress);
    }
}

bool expect_marker(Session *s, const char *text, gint64 span_us,
                   GString *before, Progress *progress, GError **err)
{
    g_autofree char *what = g_strdup_printf("\"%s\" from the workload", text);
    Expect x = { .s = s, .text = text, .before = before,
                 .progress = progress };
    Wait w = {
        .what = what, .span_us = span_us, .wake_fd = -1,
        .poll = poll_marker, .data = &x, .idle = tick,
        .watch = session_watch, .watch_ctx = s,
    };
    return wait_until(&w, err);
}

bool write_executable1(Session *s, GError **err)
{
    g_autofree char *script = workload_script(s->o, false);
    if (!g_file_set_contents_full(s->executable1, script, -1,
                                  G_FILE_SET_CONTENTS_NONE, 0500, err)) {
        return false;
    }
    return true;
}

bool start_qemu(Session *s, GError **err)
{
    g_autoptr(GuestConf) conf = NULL;
    VmSetup setup = {
        .qemu = s->o->qemu_binary,
        .firmware_dir = s->o->firmware_dir,
        .image = s->o->guest_image_path,
        .copy_image = true,
        .plain_memory_mb = s->o->guest_ram_mb,
        .plain_snapshot = s->o->snapshot_name,
        .plain_smp = s->o->has_num_vcpus ? (unsigned)s->o->num_vcpus : 1,
        .loadvm = true,
    };
    s->o->num_vcpus = setup.plain_smp;
    if (s->o->guest_conf_path) {
        /* The embedded guest, or an image with our guest.conf beside it. */
        conf = guest_conf_load(s->o->guest_conf_path, err);
        if (!conf) {
            return false;
        }
        if (s->o->guest_ram_mb > 0) {
            conf->memory_mb = (guint)s->o->guest_ram_mb;
        }
        /* A snapshot restores only with the vCPUs it was saved with. */
        if (s->o->has_num_vcpus && conf->smp != (guint)s->o->num_vcpus) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "guest_num_of_vCPUs is %ld, but the snapshot of %s "
                        "was saved with %u vCPU%s (smp in %s); give %u or "
                        "leave the option out", s->o->num_vcpus,
                        conf->image, conf->smp, conf->smp > 1 ? "s" : "",
                        s->o->guest_conf_path, conf->smp);
            return false;
        }
        s->o->num_vcpus = conf->smp;
        if (!s->o->embedded_guest) {
            g_free(conf->snapshot);
            conf->snapshot = g_strdup(s->o->snapshot_name);
        } else {
            setup.image = conf->image;
        }
        setup.conf = conf;
    }
    return vm_spawn(&s->vm, &setup, err);
}

/* QEMU greets once the snapshot is restored, which takes longer with more
 * guest RAM and a loaded host: this step has its own deadline. */
static WaitPoll poll_qmp(Wait *w, void *data, GError **err)
{
    Session *s = data;
    g_autoptr(GError) e = NULL;
    (void)err;
    s->vm.qmp = qmp_connect(s->vm.qmp_path,
                            MIN(w->deadline, deadline_in(SLICE_US)), &e);
    if (s->vm.qmp) {
        return WAIT_DONE;
    }
    g_autofree char *last = vm_qemu_last_words(&s->vm);
    wait_detail(w, "QEMU's QMP greeting on %s (%s)%s", s->vm.qmp_path,
                e->message, last);
    return WAIT_PENDING;
}

bool connect_qmp(Session *s, GError **err)
{
    debug_msg("waiting for the QMP greeting");
    if (!session_wait(s, "QEMU's QMP greeting", s->startup_us, 0, poll_qmp,
                      s, err)) {
        return false;
    }
    /* For the report and the trace file's header. */
    s->result.qemu_version = report_json_qemu_version(s->vm.qmp);
    return true;
}

bool upload_workload(Session *s, GError **err)
{
    debug_msg("connecting to the guest serial port");
    gint64 deadline = deadline_in(s->protocol_us);
    int fd = serial_connect_unix(s->vm.serial_path, deadline, err);
    if (fd < 0) {
        return false;
    }
    s->vm.serial = serial_channel_new(fd, NULL);
    debug_msg("synchronising with the guest helper");
    if (!serial_sync(s->vm.serial, deadline, err)) {
        g_prefix_error(err, "no answer from the guest helper "
                       "run_executables_from_serial (is the snapshot right?): ");
        return false;
    }
    g_autofree char *exe1 = NULL;
    gsize exe1_len = 0;
    if (!g_file_get_contents(s->executable1, &exe1, &exe1_len, err)) {
        return false;
    }
    g_autofree char *exe2 = NULL;
    gsize exe2_len = 0;
    if (s->o->workload_path_on_host &&
        !g_file_get_contents(s->o->workload_path_on_host, &exe2, &exe2_len,
                             err)) {
        return false;
    }
    debug_msg("uploading executable1 (%" G_GSIZE_FORMAT " bytes) and "
        "executable2 (%" G_GSIZE_FORMAT " bytes)", exe1_len, exe2_len);
    /* A large executable2 takes a while over a 16550 (about 20 KiB/s under
     * TCG; a virtio console is far faster): allow the protocol deadline
     * plus 1 s per 8 KiB. */
    gint64 upload_us = s->protocol_us +
                       (gint64)(exe2_len / 8192) * G_USEC_PER_SEC;
    if (!serial_send_file(s->vm.serial, 1, exe1, exe1_len,
                          deadline_in(upload_us), err) ||
        !serial_send_file(s->vm.serial, 2, exe2, exe2_len,
                          deadline_in(upload_us), err)) {
        g_prefix_error(err, "uploading the workload: ");
        return false;
    }
    return session_watch(s, "the upload", err);
}

bool read_workload_info(Session *s, GError **err)
{
    debug_msg("expecting workload info");
    g_autoptr(GString) info = g_string_new(NULL);
    if (!expect_marker(s, MARKER_INFO_BEGIN, s->workload_us, NULL, NULL,
                       err) ||
        !expect_marker(s, MARKER_INFO_END, s->workload_us, info, NULL,
                       err)) {
        return false;
    }
    s->result.workload_info = g_strdup(g_strstrip(info->str));
    return true;
}

/*
 * workload_CR3: the guest is paused right after the process that prints
 * "Ready to trace" has blocked reading its Enter, and nothing else of user
 * space runs meanwhile: Linux leaves an idle CPU on the last process's page
 * tables (lazy TLB), so CR3 of vCPU 0 is that process's address space.
 * That process is the workload with
 * --dont_add_communications_with_host_to_workload; otherwise it is the
 * wrapper shell, whose child then runs the workload, after exec, in an
 * address space of its own (README: "workload_CR3").  PCID bits are
 * dropped, as in extended32 records.
 */
static bool read_workload_cr3(Session *s, GError **err)
{
    g_autofree char *out = NULL;
    if (!qmp_hmp(s->vm.qmp, "info registers", deadline_in(QMP_STEP_US), &out,
                 err)) {
        g_prefix_error(err, "reading the workload's CR3: ");
        return false;
    }
    const char *p = strstr(out, "CR3=");
    char *end = NULL;
    guint64 cr3 = p ? g_ascii_strtoull(p + 4, &end, 16) : 0;
    if (!p || end == p + 4) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "reading the workload's CR3: no CR3= in QEMU's \"info "
                    "registers\": %s", out);
        return false;
    }
    s->result.workload_cr3 = cr3 & ~(guint64)0xfff;
    s->result.has_workload_cr3 = true;
    debug_msg("workload_CR3: 0x%" G_GINT64_MODIFIER "x", cr3);
    return true;
}

bool wait_ready_to_trace(Session *s, GError **err)
{
    debug_msg("expecting \"" MARKER_READY_TO_TRACE "\"");
    if (!expect_marker(s, MARKER_READY_TO_TRACE, s->workload_us, NULL, NULL,
                       err)) {
        return false;
    }
    return qmp_do(s, "stop", NULL, NULL, err) &&
           (!s->tracing || read_workload_cr3(s, err));
}

bool release_workload(Session *s, GError **err)
{
    debug_msg("cont and Enter: tracing starts");
    if (!qmp_do(s, "cont", NULL, NULL, err)) {
        return false;
    }
    if (!serial_send_enter(s->vm.serial, err)) {
        g_prefix_error(err, "sending Enter to the workload: ");
        return false;
    }
    s->clock_start = g_get_monotonic_time();
    return true;
}

bool wait_stop_tracing(Session *s, GError **err)
{
    debug_msg("expecting \"" MARKER_STOP_TRACING "\"");
    Progress progress;
    progress_start(&progress, s->tracing && isatty(STDERR_FILENO), s->vm.qmp,
                   s->clock_start);
    g_autoptr(GError) e = NULL;
    bool ok = expect_marker(s, MARKER_STOP_TRACING, s->workload_us, NULL,
                            &progress, &e);
    gint64 end = g_get_monotonic_time();
    progress_end(&progress);
    /* A workload that ends (a crash) inside its traced region ends the
     * region there: the run reports and exits with its status. */
    if (!ok && !g_error_matches(e, SERIAL_ERROR, SERIAL_ERROR_EXITED)) {
        g_propagate_error(err, g_steal_pointer(&e));
        return false;
    }
    s->result.duration_ms = (end - s->clock_start) / 1000;
    s->result.has_duration = true;
    return qmp_do(s, "stop", NULL, NULL, err);
}

/*
 * The guest helper reports executable1's exit after "Stop tracing", when the
 * VM is already stopped: let it run a moment (3 s at most) to collect that
 * report, then pause it again, as --dont_exit_qemu_when_done promises.  The
 * trace output is closed by now, so nothing more is recorded.  A workload
 * still running after "Stop tracing" is its own business.
 */
bool collect_workload_exit(Session *s, GError **err)
{
    (void)err;
    if (!s->vm.serial) {
        return true;
    }
    s->workload_exited = serial_exit_status(s->vm.serial, &s->workload_exit);
    if (s->workload_exited) {
        return true;
    }
    g_autoptr(GError) e = NULL;
    if (!qmp_do(s, "cont", NULL, NULL, &e)) {
        return true;
    }
    s->workload_exited = serial_wait_exit(s->vm.serial,
                                          deadline_in(3 * G_USEC_PER_SEC),
                                          &s->workload_exit, &e);
    g_autoptr(GError) e2 = NULL;
    qmp_do(s, "stop", NULL, NULL, &e2);
    if (!s->workload_exited) {
        s->result.workload_end = WORKLOAD_END_RUNNING;
    }
    return true;
}

/*
 * The workload's status becomes memory_tracer's (report_json.h).  One line
 * on stderr when the guest could not run it (the shell's 126/127), a note
 * when it failed.
 */
bool check_workload_status(Session *s, GError **err)
{
    const SerialExit *ex = &s->workload_exit;
    (void)err;
    if (!s->workload_exited) {
        return true;
    }
    run_result_set_workload_exit(&s->result, s->o, ex->signaled, ex->code,
                                 !s->o->dont_add_communications);
    g_autofree char *not_run = run_result_not_run_message(&s->result, s->o);
    if (not_run) {
        error_msg("%s", not_run);
    } else if (s->result.workload_end == WORKLOAD_END_SIGNAL ||
               (ex->code != 0 && !s->o->has_timeout)) {
        error_msg("note: the workload %s %d",
                  ex->signaled ? "was killed by signal" : "exited with status",
                  ex->code);
    }
    return true;
}

