/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The analysis-tool contract, host side: run the tool as
 * `TOOL FIFO INFO_TOKEN...` (no shell) with its stdout a pipe to us, watch
 * its output for "Ready to analyze" and for the SIGUSR1 result block, and
 * tell whether it has the FIFO open.
 */
#ifndef MEMORY_TRACER_ANALYSIS_H
#define MEMORY_TRACER_ANALYSIS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "child.h"

#define MARKER_READY_TO_ANALYZE "Ready to analyze"
#define MARKER_OUTPUT_BEGIN "-----begin analysis output-----"
#define MARKER_OUTPUT_END "-----end analysis output-----"

typedef struct AnalysisTool {
    Child child;
    int out_fd;             /* read end of the tool's stdout, non-blocking */
    bool eof;               /* the tool closed its stdout */
    GString *out;           /* everything it printed */
    gsize pos;              /* analysis_find() searches from here */
} AnalysisTool;

bool analysis_start(AnalysisTool *t, const char *tool, const char *fifo,
                    char *const *tokens, GError **err);

/* Read what the tool has printed so far, without blocking. */
void analysis_pump(AnalysisTool *t);

/* Find @text at or after the search position; on success return true, put
 * the output before it in *@before (may be NULL) and move past it. */
bool analysis_find(AnalysisTool *t, const char *text, char **before);

/* Does any process of the tool's process group read @fifo? */
bool analysis_has_open(const AnalysisTool *t, const struct stat *fifo);

/* Does a process other than us (of process group @pgrp if > 0) have
 * @fifo open for reading?  *@denied (may be NULL) is set when some process
 * could not be inspected, so a FALSE answer is not certain. */
bool fifo_has_reader(const struct stat *fifo, pid_t pgrp, bool *denied);

/* Stop (SIGTERM, then SIGKILL) and reap; close the pipe. */
void analysis_finish(AnalysisTool *t, gint64 grace_us);

#endif
