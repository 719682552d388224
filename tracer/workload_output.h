/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The workload's own output: its stdout and stderr, without the contract's
 * markers and workload info, saved to --workload_output_path (or, without
 * it, to a file in the runtime directory, for the tail shown when the
 * workload fails).  memory_tracer's stdout never carries it.
 */
#ifndef MEMORY_TRACER_WORKLOAD_OUTPUT_H
#define MEMORY_TRACER_WORKLOAD_OUTPUT_H

#include <glib.h>
#include <stdbool.h>

#include "options.h"

/* Lines of the tail shown on stderr when the workload fails. */
#define WORKLOAD_OUTPUT_TAIL_LINES 20

typedef struct WorkloadOutput {
    int fd;                     /* -1: not open */
    char *path;
    bool after_marker;          /* drop the marker line's newline next */
} WorkloadOutput;

/* Open --workload_output_path, or @dir/workload_output. */
bool workload_output_open(WorkloadOutput *w, const Options *o,
                          const char *dir, GError **err);

void workload_output_write(WorkloadOutput *w, const char *data, gsize len);

/* A marker was matched: its line's end is not the workload's output. */
void workload_output_marker_seen(WorkloadOutput *w);

/* Its last @lines lines (at most 64 KiB), or NULL when it is empty. */
char *workload_output_tail(const WorkloadOutput *w, unsigned lines);

/* After a failure's one line: the tail on stderr, if there is output. */
void workload_output_show_tail(const WorkloadOutput *w);

void workload_output_close(WorkloadOutput *w);

#endif
