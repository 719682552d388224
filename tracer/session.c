/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's state machine: run() lists the steps in order (they are in
 * run_guest.c and run_trace.c; see run.h).  Each step
 * either succeeds or fails with one GError whose message says what was
 * being waited for and where to look; session_run() then prints that one
 * line, stops every child and removes the runtime directory.
 *
 * Every wait goes through wait_until() (wait.h) with this run's watch
 * (step.c: a stop signal, QEMU or the guest dying, the analysis tool
 * dying) and a deadline:
 * MEMORY_TRACER_STARTUP_DEADLINE seconds (default 300) for QEMU to restore
 * the snapshot, MEMORY_TRACER_PROTOCOL_DEADLINE seconds (default 60) for
 * protocol steps, MEMORY_TRACER_WORKLOAD_DEADLINE seconds (default 24 h)
 * for the workload getting ready and for the traced region.
 */
#include "session.h"

#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "msg.h"
#include "report_json.h"
#include "run.h"
#include "runtime.h"

/* ---- the steps (the others are in run_guest.c and run_trace.c) ---- */

static bool make_runtime_dir(Session *s, GError **err)
{
    s->dir = runtime_dir_create(err);
    if (!s->dir || !vm_init(&s->vm, s->dir, NULL, err)) {
        return false;
    }
    s->executable1 = g_build_filename(s->dir, "executable1", NULL);
    debug_msg("runtime directory: %s", s->dir);
    return true;
}

static bool finish_qemu(Session *s, GError **err)
{
    if (s->o->dont_exit_qemu_when_done) {
        return true;
    }
    debug_msg("quitting QEMU");
    g_autoptr(GError) e = NULL;
    if (!qmp_do(s, "quit", NULL, NULL, &e) && child_alive(&s->vm.qemu)) {
        g_propagate_error(err, g_steal_pointer(&e));
        return false;
    }
    if (!child_wait(&s->vm.qemu, deadline_in(s->protocol_us))) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                    "timed out after %.0f s waiting for QEMU to exit after "
                    "quit", (double)s->protocol_us / G_USEC_PER_SEC);
        return false;
    }
    return true;
}

/* With --dont_exit_qemu_when_done: after the report, the user's turn. */
static bool hand_over_monitor(Session *s, GError **err)
{
    if (!s->o->dont_exit_qemu_when_done) {
        return true;
    }
    if (s->tracing) {
        g_autoptr(GError) e = NULL;
        qmp_do(s, "gmbeoo-disable", NULL, NULL, &e);
    }
    bool ok = monitor_interact(s->vm.qmp, &s->vm.qemu, err);
    if (child_alive(&s->vm.qemu)) {
        g_autoptr(GError) e = NULL;
        qmp_do(s, "quit", NULL, NULL, &e);
        child_wait(&s->vm.qemu, deadline_in(s->protocol_us));
    }
    return ok;
}

/* ---- clean-up ---- */

/* Keep the guest console log of a failed run outside the runtime dir. */
static void keep_console_log(Session *s)
{
    struct stat st;
    const char *log = s->vm.console_log;
    if (!log || stat(log, &st) != 0 || st.st_size == 0) {
        return;
    }
    g_autofree char *name = g_strdup_printf("memory_tracer-console-%d.log",
                                            (int)getpid());
    char *dest = g_build_filename(g_get_tmp_dir(), name, NULL);
    g_autofree char *text = NULL;
    gsize len;
    if (g_file_get_contents(log, &text, &len, NULL) &&
        g_file_set_contents(dest, text, len, NULL)) {
        s->kept_console_log = dest;
    } else {
        g_free(dest);
    }
}

static void clean_up(Session *s)
{
    if (s->tool_started || s->tool.out.text) {
        analysis_finish(&s->tool, 3 * G_USEC_PER_SEC);
    }
    if (s->vm.qemu.pid && child_alive(&s->vm.qemu) && s->vm.qmp) {
        g_autoptr(GError) e = NULL;
        JsonNode *r = qmp_execute(s->vm.qmp, "quit", NULL,
                                  deadline_in(3 * G_USEC_PER_SEC), &e);
        if (r) {
            json_node_unref(r);
        }
        child_wait(&s->vm.qemu, deadline_in(5 * G_USEC_PER_SEC));
    }
    child_stop(&s->vm.qemu, SIGTERM, 5 * G_USEC_PER_SEC);
    trace_sink_abort(s->sink);      /* after QEMU: no writer left */
    s->sink = NULL;
    vm_clear(&s->vm);
    if (s->fifo_probe >= 0) {
        close(s->fifo_probe);
        s->fifo_probe = -1;
    }
    if (s->rings_fd >= 0) {
        close(s->rings_fd);     /* a memfd: nothing is left on disk */
        s->rings_fd = -1;
    }
    runtime_dir_remove(s->dir);
}

static void session_free(Session *s)
{
    g_free(s->dir);
    g_free(s->fifo_path);
    g_free(s->executable1);
    g_free(s->kept_console_log);
    g_free(s->output_tail);
    run_result_clear(&s->result);
}

/* ---- the run ---- */

static bool run(Session *s, GError **err)
{
    return make_runtime_dir(s, err)
        && open_workload_output(s, err)
        && make_fifo(s, err)
        && write_executable1(s, err)
        && start_qemu(s, err)
        && connect_qmp(s, err)
        && arm_tracing(s, err)              /* sampled: no flush at enable */
        && upload_workload(s, err)
        && read_workload_info(s, err)
        && wait_ready_to_trace(s, err)      /* ... then QMP stop */
        && start_analysis_tool(s, err)      /* ... and its "Ready to analyze" */
        && enable_tracing(s, err)           /* ... until the reader has it */
        && release_workload(s, err)         /* cont, Enter, clock starts */
        && wait_stop_tracing(s, err)        /* clock stops, QMP stop */
        && close_trace_output(s, err)
        && wait_reader_drained(s, err)
        && finish_trace_file(s, err)        /* index, fsync, rename */
        && collect_analysis_output(s, err)  /* SIGUSR1, result block */
        && query_trace_info(s, err)
        && collect_workload_exit(s, err)    /* cont, its exit status, stop */
        && check_workload_status(s, err)    /* its status becomes ours */
        && finish_qemu(s, err);
}

int session_run(Options *o)
{
    Session s = {
        .o = o,
        .tracing = o->mode == TRACE_TO_ANALYSIS_TOOL ||
                   o->mode == TRACE_TO_FIFO || o->mode == TRACE_TO_FILE,
        .startup_us = runtime_env_seconds("MEMORY_TRACER_STARTUP_DEADLINE",
                                          300),
        .protocol_us = runtime_env_seconds("MEMORY_TRACER_PROTOCOL_DEADLINE",
                                           60),
        .workload_us = runtime_env_seconds("MEMORY_TRACER_WORKLOAD_DEADLINE",
                                           86400),
        .fifo_probe = -1,
        .rings_fd = -1,
        .tool = { .out = { .fd = -1 } },
        .output = { .fd = -1 },
    };
    debug_msg("start memory_tracer");
    g_autoptr(GError) err = NULL;
    bool ok = run(&s, &err);
    if (ok) {
        report_print(&s.result);
        ok = hand_over_monitor(&s, &err);
    }
    /* A workload the guest could not find or run before its markers: its
     * status, not memory_tracer's failure (report_json.h). */
    SerialExit ex;
    g_autofree char *not_run = NULL;
    if (!ok && g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_EXITED) &&
        s.vm.serial && serial_exit_status(s.vm.serial, &ex)) {
        run_result_set_workload_exit(&s.result, o, ex.signaled, ex.code,
                                     false);
        not_run = run_result_not_run_message(&s.result, o);
    }
    if (!ok && !not_run && !runtime_interrupted() && !s.tool_died) {
        keep_console_log(&s);
    }
    /* A workload that failed before its markers: its last words, read
     * before the runtime directory goes. */
    if (!ok && g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_EXITED) &&
        s.vm.serial && serial_exit_status(s.vm.serial, &ex) &&
        (ex.signaled || ex.code != 0) && !not_run) {
        save_rest_of_output(&s);
        s.output_tail = workload_output_tail(&s.output,
                                             WORKLOAD_OUTPUT_TAIL_LINES);
    }
    workload_output_close(&s.output);
    clean_up(&s);
    int status = run_result_exit_status(&s.result);
    if (not_run) {
        error_msg("%s", not_run);
    } else if (!ok) {
        int sig = runtime_interrupted();
        if (s.kept_console_log) {
            error_msg("%s (guest console log: %s)", err->message,
                      s.kept_console_log);
        } else {
            error_msg("%s", err->message);
        }
        if (s.output_tail) {
            fprintf(stderr, "%s\n", s.output_tail);
        }
        status = sig ? 128 + sig : 1;
    }
    status = report_json_finish(o, &s.result,
                                ok || not_run ? NULL : err->message, status);
    debug_msg("end memory_tracer");
    session_free(&s);
    return status;
}
