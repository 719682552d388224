/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --dont_use_qemu: run executable1 on the host, with the same markers and
 * the same duration measurement as under QEMU, for comparison.  The
 * workload's stdout and stderr are one pipe to us, its stdin another
 * (Enter is a "\n" written to it).
 */
#include <gio/gio.h>
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
#include "msg.h"
#include "report.h"
#include "report_json.h"
#include "runtime.h"
#include "session.h"
#include "workload.h"

typedef struct Native {
    Child child;
    int in_fd;              /* its stdin */
    ChildOutput out;        /* its stdout + stderr */
} Native;

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
                   GError **err)
{
    gint64 deadline = g_get_monotonic_time() + span_us;
    for (;;) {
        if (child_output_find(&n->out, text, before)) {
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
    g_autofree char *script = workload_script(o, true);
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
    char *argv[] = { exe1, NULL };
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
    if (!expect(n, MARKER_INFO_BEGIN, span, NULL, err) ||
        !expect(n, MARKER_INFO_END, span, &info, err) ||
        !expect(n, MARKER_READY_TO_TRACE, span, NULL, err)) {
        return false;
    }
    res->workload_info = g_strdup(g_strstrip(info));
    gint64 start = g_get_monotonic_time();
    if (write(n->in_fd, "\n", 1) != 1) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "sending Enter to the workload: %s", g_strerror(errno));
        return false;
    }
    if (!expect(n, MARKER_STOP_TRACING, span, NULL, err)) {
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
    return true;
}

int native_run(Options *o)
{
    g_autoptr(GError) err = NULL;
    Native n = { .in_fd = -1, .out = { .fd = -1 } };
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
    child_output_clear(&n.out);
    runtime_dir_remove(dir);
    g_free(dir);
    int status = run_result_exit_status(&res);
    if (!ok) {
        error_msg("%s", err->message);
        int sig = runtime_interrupted();
        status = sig ? 128 + sig : 1;
    }
    status = report_json_finish(o, &res, ok ? NULL : err->message, status);
    run_result_clear(&res);
    return status;
}
