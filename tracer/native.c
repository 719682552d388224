/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --dont_use_qemu: run executable1 on the host, with the same markers and
 * the same duration measurement as under QEMU, for comparison.  The
 * workload's stdout and stderr are one pipe to us, its stdin another
 * (Enter is a "\n" written to it).
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "child_output.h"
#include "copy_in.h"
#include "msg.h"
#include "report.h"
#include "report_json.h"
#include "runtime.h"
#include "session.h"
#include "workload.h"
#include "workload_output.h"

typedef struct Native {
    Child child;
    int in_fd;              /* its stdin */
    ChildOutput out;        /* its stdout + stderr */
    WorkloadOutput saved;   /* the part of it that is the workload's own */
} Native;

/* Like expect(), with the output before @text saved as the workload's. */
static bool expect(Native *n, const char *text, gint64 span_us, char **before,
                   gsize *before_len, GError **err);
static bool expect_saving(Native *n, const char *text, gint64 span_us,
                          GError **err)
{
    g_autofree char *before = NULL;
    gsize len = 0;
    bool ok = expect(n, text, span_us, &before, &len, err);
    if (before) {
        workload_output_write(&n->saved, before, len);
    }
    if (ok) {
        workload_output_marker_seen(&n->saved);
    }
    return ok;
}

static void pump(Native *n, int timeout_ms)
{
    struct pollfd p[2] = {
        { .fd = n->out.eof ? -1 : n->out.fd, .events = POLLIN },
        { .fd = runtime_signal_fd(), .events = POLLIN },
    };
    poll(p, 2, timeout_ms);
    child_output_pump(&n->out);
}

static bool expect(Native *n, const char *text, gint64 span_us, char **before,
                   gsize *before_len, GError **err)
{
    gint64 deadline = g_get_monotonic_time() + span_us;
    for (;;) {
        if (child_output_find(&n->out, text, before, before_len)) {
            return true;
        }
        int sig = runtime_interrupted();
        if (sig) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                        "interrupted by signal %d while waiting for \"%s\" "
                        "from the workload", sig, text);
            return false;
        }
        if (n->out.eof) {
            child_wait(&n->child, g_get_monotonic_time() + G_USEC_PER_SEC);
            g_autofree char *how = child_describe_exit(&n->child);
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "the workload %s before printing \"%s\"", how, text);
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "timed out after %.0f s waiting for \"%s\" from the "
                        "workload", (double)span_us / G_USEC_PER_SEC, text);
            return false;
        }
        pump(n, 200);
    }
}

static bool run(Native *n, const Options *o, const char *dir, RunResult *res,
                GError **err)
{
    g_autofree char *exe1 = g_build_filename(dir, "executable1", NULL);
    g_autofree char *work = NULL;
    if (!workload_output_open(&n->saved, o, dir, err)) {
        return false;
    }
    if (o->copy_to_guest) {
        /* The files go to a fresh working directory, as in the guest. */
        work = g_build_filename(dir, "work", NULL);
        g_autoptr(CopyIn) copy = copy_in_scan(o->copy_to_guest, NULL, err);
        if (!copy || g_mkdir(work, 0700) != 0 ||
            !copy_in_to_dir(copy, work, err)) {
            if (err && !*err) {
                g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                            "cannot make %s: %s", work, g_strerror(errno));
            }
            return false;
        }
    }
    g_autofree char *script = workload_script(o, true, work);
    if (!g_file_set_contents_full(exe1, script, -1, G_FILE_SET_CONTENTS_NONE,
                                  0500, err)) {
        return false;
    }
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "pipe: %s", g_strerror(errno));
        return false;
    }
    guint nargs = o->workload_args ? g_strv_length(o->workload_args) : 0;
    g_autofree char **argv = g_new0(char *, nargs + 2);
    argv[0] = exe1;
    for (guint i = 0; i < nargs; i++) {
        argv[i + 1] = o->workload_args[i];
    }
    debug_msg("running natively: %s", exe1);
    bool ok = child_spawn(&n->child, "the workload", argv, in[0], out[1],
                          out[1], err);
    close(in[0]);
    close(out[1]);
    n->in_fd = in[1];
    child_output_init(&n->out, out[0]);
    if (!ok) {
        return false;
    }
    gint64 span = runtime_env_seconds("MEMORY_TRACER_WORKLOAD_DEADLINE",
                                      86400);
    g_autofree char *info = NULL;
    if (!expect_saving(n, MARKER_INFO_BEGIN, span, err) ||
        !expect(n, MARKER_INFO_END, span, &info, NULL, err)) {
        return false;
    }
    workload_output_marker_seen(&n->saved);
    if (!expect_saving(n, MARKER_READY_TO_TRACE, span, err)) {
        return false;
    }
    res->workload_info = g_strdup(g_strstrip(info));
    gint64 start = g_get_monotonic_time();
    if (write(n->in_fd, "\n", 1) != 1) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "sending Enter to the workload: %s", g_strerror(errno));
        return false;
    }
    if (!expect_saving(n, MARKER_STOP_TRACING, span, err)) {
        return false;
    }
    res->duration_ms = (g_get_monotonic_time() - start) / 1000;
    res->has_duration = true;
    close(n->in_fd);
    n->in_fd = -1;
    /* Let the workload finish on its own (bounded); stopped below if not. */
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (child_alive(&n->child) && !runtime_interrupted() &&
           g_get_monotonic_time() < until) {
        pump(n, 50);
    }
    child_output_pump(&n->out);
    workload_output_write(&n->saved, n->out.text->str + n->out.pos,
                          n->out.text->len - n->out.pos);
    n->out.pos = n->out.text->len;
    if (!n->child.reaped) {
        res->workload_end = WORKLOAD_END_RUNNING;
    } else if (WIFSIGNALED(n->child.status)) {
        run_result_set_workload_exit(res, o, true, WTERMSIG(n->child.status),
                                     false);
    } else {
        run_result_set_workload_exit(res, o, false,
                                     WEXITSTATUS(n->child.status),
                                     !o->dont_add_communications);
    }
    if (res->workload_end == WORKLOAD_END_SIGNAL ||
        (res->workload_end == WORKLOAD_END_EXITED && res->workload_code)) {
        error_msg("note: the workload %s %d",
                  res->workload_end == WORKLOAD_END_SIGNAL
                      ? "was killed by signal" : "exited with status",
                  res->workload_code);
        workload_output_show_tail(&n->saved);
    }
    return true;
}

int native_run(Options *o)
{
    g_autoptr(GError) err = NULL;
    Native n = { .in_fd = -1, .out = { .fd = -1 }, .saved = { .fd = -1 } };
    RunResult res = { 0 };
    char *dir = runtime_dir_create(&err);
    bool ok = dir && run(&n, o, dir, &res, &err);
    if (ok) {
        report_print(&res);
    }
    child_stop(&n.child, SIGTERM, 5 * G_USEC_PER_SEC);
    if (n.in_fd >= 0) {
        close(n.in_fd);
    }
    /* A workload that failed before its markers: its last words. */
    g_autofree char *tail = NULL;
    if (!ok && n.out.text && n.child.reaped &&
        (WIFSIGNALED(n.child.status) || WEXITSTATUS(n.child.status) != 0)) {
        workload_output_write(&n.saved, n.out.text->str + n.out.pos,
                              n.out.text->len - n.out.pos);
        tail = workload_output_tail(&n.saved, WORKLOAD_OUTPUT_TAIL_LINES);
    }
    workload_output_close(&n.saved);
    child_output_clear(&n.out);
    runtime_dir_remove(dir);
    g_free(dir);
    int status = run_result_exit_status(&res);
    if (!ok) {
        error_msg("%s", err->message);
        if (tail) {
            fprintf(stderr, "%s\n", tail);
        }
        int sig = runtime_interrupted();
        status = sig ? 128 + sig : 1;
    }
    status = report_json_finish(o, &res, ok ? NULL : err->message, status);
    run_result_clear(&res);
    return status;
}
