/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a successful run prints on stdout, with the original's labels and
 * order (ORIGINAL_BEHAVIOUR §5.2, §9.9).  Never a CR.
 */
#ifndef MEMORY_TRACER_REPORT_H
#define MEMORY_TRACER_REPORT_H

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct RunResult {
    char *workload_info;        /* trimmed; "" when the workload gave none */
    gint64 duration_ms;
    char *analysis_output;      /* the tool's block, or NULL */
    JsonObject *trace_info;     /* query-gmbeoo's answer, or NULL */
} RunResult;

void run_result_clear(RunResult *r);

/* The trace-info block (without its label) built from query-gmbeoo. */
char *report_trace_info(JsonObject *q);

/* Print the whole report on stdout and flush it. */
void report_print(const RunResult *r);

#endif
