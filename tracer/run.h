/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside a run: the Session every step works on, the steps that
 * session.c's run() calls in order, and the wait and QMP helpers they
 * share.  The steps live by the side of the run they drive:
 *
 *   step.c        what every step shares: the run's watch, waits with a
 *                 deadline, QMP calls (below the steps and session.c:
 *                 it calls neither)
 *   run_guest.c   QEMU and the guest: start, QMP, upload, the workload's
 *                 markers, its exit status
 *   run_trace.c   the trace: the FIFO, GMBEOO on and off, the analysis
 *                 tool or the trace file, draining
 *
 * Each step returns false with one GError (its message is the run's one
 * line on stderr) and is a no-op when it does not apply to the mode.
 */
#ifndef MEMORY_TRACER_RUN_H
#define MEMORY_TRACER_RUN_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "analysis.h"
#include "options.h"
#include "progress.h"
#include "report.h"
#include "trace_sink.h"
#include "vm.h"
#include "wait.h"
#include "workload_output.h"

#define SLICE_US (200 * 1000)
#define QMP_STEP_US (30 * G_USEC_PER_SEC)

typedef struct Session {
    Options *o;
    bool tracing;               /* GMBEOO will be enabled */
    gint64 startup_us;          /* QEMU restoring the snapshot */
    gint64 protocol_us;         /* length of a protocol step's deadline */
    gint64 workload_us;         /* length of the workload's deadlines */

    char *dir;                  /* the runtime directory */
    char *fifo_path;            /* ours or the user's; NULL: no tracing */
    char *executable1;
    char *kept_console_log;     /* copy kept after a failure */

    Vm vm;                      /* QEMU, its sockets and logs (in dir) */
    AnalysisTool tool;
    bool tool_started;
    bool tool_died;             /* the watch saw it die: not the guest's */
                                /*   fault, its console log is not kept */
    TraceSink *sink;            /* --trace_file_path's writer thread */
    int fifo_probe;             /* O_RDONLY|O_NONBLOCK on the FIFO */
    int rings_fd;               /* the memfd offered for the shared rings */
                                /*   (QEMU and the tool inherit it), or -1 */
    bool shared_rings;          /* the tool claimed it: GMBEOO uses it */
    struct stat fifo_st;
    SerialExit workload_exit;
    bool workload_exited;       /* workload_exit is known */
    WorkloadOutput output;      /* the workload's stdout and stderr */
    char *output_tail;          /* its tail, kept for after clean-up */

    gint64 clock_start;
    RunResult result;
} Session;

/* step.c */
gint64 deadline_in(gint64 us);

/* The watch of every wait (a Wait's watch, @ctx the Session). */
bool session_watch(void *ctx, const char *what, GError **err);

/* Wait for @poll (with @data) to say done: @what, within @span_us, looking
 * every @step_us, with the session's watch. */
bool session_wait(Session *s, const char *what, gint64 span_us,
                  gint64 step_us, WaitPoll (*poll)(Wait *, void *, GError **),
                  void *data, GError **err);

/* Short QMP command with the standard deadline; @ret may be NULL. */
bool qmp_do(Session *s, const char *cmd, JsonObject *args, JsonNode **ret,
            GError **err);
JsonObject *query_gmbeoo(Session *s, GError **err);

/* Wait for @text from the workload (its output before it appended to
 * @before; NULL: that output is the workload's own and goes to
 * s->output), redrawing @progress (may be NULL) meanwhile. */
bool expect_marker(Session *s, const char *text, gint64 span_us,
                   GString *before, Progress *progress, GError **err);

/* run_guest.c */
bool write_executable1(Session *s, GError **err);
bool start_qemu(Session *s, GError **err);
bool connect_qmp(Session *s, GError **err);
bool upload_workload(Session *s, GError **err);
bool open_workload_output(Session *s, GError **err);
void save_rest_of_output(Session *s);
bool read_workload_info(Session *s, GError **err);
bool wait_ready_to_trace(Session *s, GError **err);
bool release_workload(Session *s, GError **err);
bool wait_stop_tracing(Session *s, GError **err);
bool collect_workload_exit(Session *s, GError **err);
bool check_workload_status(Session *s, GError **err);

/* run_trace.c */
bool make_fifo(Session *s, GError **err);
bool start_analysis_tool(Session *s, GError **err);
bool arm_tracing(Session *s, GError **err);
bool enable_tracing(Session *s, GError **err);
bool close_trace_output(Session *s, GError **err);
bool wait_reader_drained(Session *s, GError **err);
bool finish_trace_file(Session *s, GError **err);
bool collect_analysis_output(Session *s, GError **err);
bool query_trace_info(Session *s, GError **err);

#endif /* MEMORY_TRACER_RUN_H */
