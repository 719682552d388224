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
#include "child_output.h"

#define MARKER_READY_TO_ANALYZE "Ready to analyze"
#define MARKER_OUTPUT_BEGIN "-----begin analysis output-----"
#define MARKER_OUTPUT_END "-----end analysis output-----"

typedef struct AnalysisTool {
    Child child;
    ChildOutput out;        /* its stdout (text NULL: never started) */
} AnalysisTool;

/* @keep_fd: a descriptor the tool inherits (the shared rings), or -1. */
bool analysis_start(AnalysisTool *t, const char *tool, const char *fifo,
                    char *const *tokens, int keep_fd, GError **err);

/* Does any process of the tool's process group read @fifo? */
bool analysis_has_open(const AnalysisTool *t, const struct stat *fifo);

/* Does a process other than us (of process group @pgrp if > 0) have
 * @fifo open for reading?  *@denied (may be NULL) is set when some process
 * could not be inspected, so a FALSE answer is not certain. */
bool fifo_has_reader(const struct stat *fifo, pid_t pgrp, bool *denied);

/* Stop (SIGTERM, then SIGKILL) and reap; close the pipe. */
void analysis_finish(AnalysisTool *t, gint64 grace_us);

#endif
