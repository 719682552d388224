/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a successful run prints on stdout, with the original's labels and
 * order (ORIGINAL_BEHAVIOUR §5.2, §9.9).  Never a CR.
 */
#ifndef MEMORY_TRACER_REPORT_H
#define MEMORY_TRACER_REPORT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* How the workload ended (report_json.c maps it to the exit status). */
typedef enum {
    WORKLOAD_END_UNKNOWN,       /* it did not run, or no word of its end */
    WORKLOAD_END_RUNNING,       /* still running when the run ended */
    WORKLOAD_END_EXITED,        /* workload_code = its exit status */
    WORKLOAD_END_SIGNAL,        /* workload_code = the signal */
    WORKLOAD_END_NOT_FOUND,     /* the shell's 127 */
    WORKLOAD_END_NOT_EXECUTABLE, /* the shell's 126 */
    WORKLOAD_END_TIMEOUT,       /* stopped by --timeout */
} WorkloadEnd;

typedef struct RunResult {
    char *workload_info;        /* trimmed; "" when the workload gave none */
    gint64 duration_ms;
    char *analysis_output;      /* the tool's block, or NULL */
    const char *analysis_transport; /* "shared-rings", "fifo" or NULL */
    JsonObject *trace_info;     /* query-gmbeoo's answer, or NULL */
    /* For --report_json (report_json.c). */
    bool has_duration;          /* duration_ms was measured */
    JsonObject *counters;       /* query-gmbeoo at the end, even unprinted */
    JsonNode *qemu_version;     /* QMP query-version, or NULL */
    WorkloadEnd workload_end;
    int workload_code;
    bool has_workload_cr3;
    guint64 workload_cr3;       /* CR3 (page address) at "Ready to trace" */
} RunResult;

void run_result_clear(RunResult *r);

/* The trace-info block (without its label) built from query-gmbeoo. */
char *report_trace_info(JsonObject *q);

/* Blocks come from other programs: a copy without CRs and surrounding
 * blank space, as printed. */
char *report_clean_block(const char *text);

/* Print the whole report on stdout and flush it. */
void report_print(const RunResult *r);

#endif
