/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The progress line while the traced region runs (stderr on a terminal
 * only): "PROG: tracing for N s, R records so far (X records/s)", redrawn
 * at most once a second from QEMU's query-gmbeoo counters, and erased at
 * the end so that the report starts on a clean line.
 */
#ifndef MEMORY_TRACER_PROGRESS_H
#define MEMORY_TRACER_PROGRESS_H

#include <glib.h>
#include <stdbool.h>

#include "qmp.h"

typedef struct Progress {
    bool on;
    QmpClient *qmp;
    gint64 start;               /* when tracing began */
    gint64 next;                /* no redraw before this */
    guint64 last_records;
    gint64 last_time;
    bool shown;
} Progress;

/* The first line after two seconds, if @on. */
void progress_start(Progress *p, bool on, QmpClient *qmp, gint64 start);
void progress_tick(Progress *p);
void progress_end(Progress *p);

#endif /* MEMORY_TRACER_PROGRESS_H */
