/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --report_json PATH: everything a run found out, as one JSON object, and
 * the exit status rule shared by the QEMU and the native runs.
 *
 * The exit status is the workload's, like time(1), strace(1) and perf(1):
 * its exit status, 128 + N when signal N killed it, 127 when the guest
 * could not find it, 126 when it could not run it.  memory_tracer's own
 * failures exit 1, usage errors 2, SIGINT/SIGTERM 130/143.  Where a status
 * could mean either, the report's memory_tracer_error (null unless
 * memory_tracer failed) and workload_end tell them apart.
 *
 * The report is written with a temporary file and a rename, so PATH is
 * either absent or whole; it is written on every path once the options
 * were parsed.
 */
#ifndef MEMORY_TRACER_REPORT_JSON_H
#define MEMORY_TRACER_REPORT_JSON_H

#include <json-glib/json-glib.h>

#include "options.h"
#include "qmp.h"
#include "report.h"

/* Remember the command line and the start time (called once, first). */
void report_json_start(int argc, char **argv);

/* QEMU's QMP query-version answer (NULL if it cannot be had). */
JsonNode *report_json_qemu_version(QmpClient *qmp);

/*
 * Record how the workload ended: @signaled/@code as the guest helper (or
 * waitpid) reported them; @wrapped when a shell ran it and handed on its
 * status ($? > 128 then means a signal).
 */
void run_result_set_workload_exit(RunResult *r, const Options *o,
                                  bool signaled, int code, bool wrapped);

/* The exit status a successful run ends with: the workload's. */
int run_result_exit_status(const RunResult *r);

/* "the guest could not run the workload PATH (exit status 127: not found)"
 * when the workload could not be run, else NULL. */
char *run_result_not_run_message(const RunResult *r, const Options *o);

/*
 * Write the report if --report_json was given.  @r may be NULL (the run
 * did not start), @error is memory_tracer's own failure (NULL: none) and
 * @status the exit status about to be returned.  Returns the exit status
 * to use: @status, or 1 (with one line on stderr) if the report could not
 * be written.
 */
int report_json_finish(const Options *o, const RunResult *r,
                       const char *error, int status);

/* The JSON document itself (for tests). */
JsonNode *report_json_build(const Options *o, const RunResult *r,
                            const char *error, int status);

#endif
