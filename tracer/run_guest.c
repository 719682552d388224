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

#include "copy_in.h"
#include "memory_tracer/serial_protocol.h"
#include "msg.h"
#include "report_json.h"
#include "workload.h"

/* ---- waiting for the workload's markers ---- */

typedef struct Expect {
    Session *s;
    const char *text;
    GString *before;
    bool to_output;             /* @before is the workload's output */
    Progress *progress;
} Expect;

static WaitPoll poll_marker(Wait *w, void *data, GError **err)
{
    Expect *x = data;
    g_autoptr(GError) e = NULL;
    gint64 slice = MIN(w->deadline, deadline_in(SLICE_US));
    bool found = serial_expect(x->s->vm.serial, x->text, slice, x->before,
                               &e);
    if (x->to_output && x->before->len) {
        /* Passed on as it comes: a chatty workload needs no memory. */
        workload_output_write(&x->s->output, x->before->str,
                              x->before->len);
        g_string_truncate(x->before, 0);
    }
    if (found) {
        workload_output_marker_seen(&x->s->output);
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
    g_autoptr(GString) output = before ? NULL : g_string_new(NULL);
    Expect x = { .s = s, .text = text, .before = before ? before : output,
                 .to_output = !before, .progress = progress };
    Wait w = {
        .what = what, .span_us = span_us, .wake_fd = -1,
        .poll = poll_marker, .data = &x, .idle = tick,
        .watch = session_watch, .watch_ctx = s,
    };
    return wait_until(&w, err);
}

bool write_executable1(Session *s, GError **err)
{
    g_autofree char *script = workload_script(s->o, false, NULL);
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
        .keep_fd = s->rings_fd >= 0 ? &s->rings_fd : NULL,
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
    /* A guest that resets (a reboot, a panic: the helper makes the kernel
     * reboot at once on one, a triple fault) or powers off is paused
     * instead, and its SHUTDOWN event ends the run (session_watch()). */
    g_autoptr(JsonObject) actions = json_object_new();
    json_object_set_string_member(actions, "reboot", "shutdown");
    json_object_set_string_member(actions, "shutdown", "pause");
    json_object_set_string_member(actions, "panic", "pause");
    g_autoptr(GError) e = NULL;
    if (!qmp_do(s, "set-action", actions, NULL, &e)) {
        debug_msg("QMP set-action failed (%s): a guest reset will not be "
                  "noticed", e->message);
    }
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
    /* The arguments: each followed by a NUL. */
    g_autoptr(GByteArray) args = g_byte_array_new();
    for (char **a = s->o->workload_args; a && *a; a++) {
        g_byte_array_append(args, (const guint8 *)*a, (guint)strlen(*a) + 1);
    }
    g_autoptr(CopyIn) copy = copy_in_scan(s->o->copy_to_guest,
        s->o->workload_path_on_host ? GUEST_EXECUTABLE2_NAME : NULL, err);
    if (!copy) {
        return false;
    }
    /* Say at once when the files cannot fit (the guest's tmpfs). */
    guint64 free_bytes = serial_guest_free_bytes(s->vm.serial);
    guint64 need = copy->need_bytes + (exe2_len + 4095) / 4096 * 4096;
    if (s->o->copy_to_guest && need > free_bytes) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    "copy_to_guest: %s need %.1f MiB in the guest, but its "
                    "working directory (a tmpfs in the guest's RAM) has "
                    "only %.1f MiB free", s->o->copy_to_guest[1]
                    ? "the files and directories given" : s->o->copy_to_guest[0],
                    need / 1048576.0, free_bytes / 1048576.0);
        return false;
    }
    g_autoptr(GByteArray) files = copy_in_archive(copy, err);
    if (!files) {
        return false;
    }
    debug_msg("uploading executable1 (%" G_GSIZE_FORMAT " bytes), "
              "executable2 (%" G_GSIZE_FORMAT " bytes), %u bytes of "
              "arguments and %u bytes of files (%u entries; the guest has "
              "%.1f MiB free)", exe1_len, exe2_len, args->len, files->len,
              copy->entries->len, free_bytes / 1048576.0);
    /* A large upload takes a while over a 16550 (about 20 KiB/s under
     * TCG; a virtio console moves a few MiB/s): allow the protocol
     * deadline plus 1 s per 8 KiB. */
    gint64 upload_us = s->protocol_us +
                       (gint64)((exe2_len + files->len) / 8192) *
                       G_USEC_PER_SEC;
    gint64 t0 = g_get_monotonic_time();
    if (!serial_send_file(s->vm.serial, MT_INDEX_EXECUTABLE1, exe1, exe1_len,
                          deadline_in(upload_us), err) ||
        !serial_send_file(s->vm.serial, MT_INDEX_EXECUTABLE2, exe2, exe2_len,
                          deadline_in(upload_us), err) ||
        !serial_send_file(s->vm.serial, MT_INDEX_ARGS, args->data, args->len,
                          deadline_in(upload_us), err) ||
        !serial_send_file(s->vm.serial, MT_INDEX_FILES, files->data,
                          files->len, deadline_in(upload_us), err)) {
        g_prefix_error(err, "uploading the workload: ");
        return false;
    }
    gint64 t1 = g_get_monotonic_time();
    debug_msg("upload took %.3f s (%.2f MiB/s)", (t1 - t0) / 1e6,
              (double)(exe1_len + exe2_len + args->len + files->len) /
              1048576.0 / MAX((t1 - t0) / 1e6, 1e-6));
    return session_watch(s, "the upload", err);
}

bool open_workload_output(Session *s, GError **err)
{
    return workload_output_open(&s->output, s->o, s->dir, err);
}

/* What the workload printed after its last marker (or before it ended). */
void save_rest_of_output(Session *s)
{
    if (s->vm.serial) {
        gsize len;
        const char *rest = serial_take_transcript(s->vm.serial, &len);
        workload_output_write(&s->output, rest, len);
    }
}

bool read_workload_info(Session *s, GError **err)
{
    debug_msg("expecting workload info");
    g_autoptr(GString) info = g_string_new(NULL);
    serial_set_data_fd(s->vm.serial, s->output.fd);
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
 * address space of its own (docs/cli.md: "workload_CR3").  PCID bits are
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
    /* The helper sends the workload's spooled output before its exit: as
     * long as bytes keep coming (100 MB take a while), keep waiting. */
    guint64 seen = serial_bytes_received(s->vm.serial);
    gint64 quiet_until = deadline_in(3 * G_USEC_PER_SEC);
    while (!s->workload_exited && g_get_monotonic_time() < quiet_until &&
           session_watch(s, "the workload's exit", NULL)) {
        g_clear_error(&e);
        s->workload_exited = serial_wait_exit(s->vm.serial,
                                              MIN(quiet_until,
                                                  deadline_in(SLICE_US)),
                                              &s->workload_exit, &e);
        guint64 now_seen = serial_bytes_received(s->vm.serial);
        if (now_seen != seen) {
            seen = now_seen;
            quiet_until = deadline_in(3 * G_USEC_PER_SEC);
        }
        if (e && !g_error_matches(e, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT)) {
            break;
        }
    }
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
    save_rest_of_output(s);
    if (s->vm.serial) {
        guint bad = 0;
        guint64 bytes = serial_data_bytes(s->vm.serial, &bad);
        debug_msg("workload output: %" G_GUINT64_FORMAT " bytes sent after "
                  "its exit (%u pieces failed their CRC and were sent again)",
                  bytes, bad);
    }
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
        workload_output_show_tail(&s->output);
    }
    return true;
}

