/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --dont_exit_qemu_when_done: the original handed QEMU's monitor to the
 * terminal (expect's `interact`).  Here QEMU's only monitor is QMP, so
 * each line the user types is run as an HMP command through
 * human-monitor-command and its output printed.  `quit`/`q` or the end of
 * input ends the session (memory_tracer then quits QEMU).
 */
#ifndef MEMORY_TRACER_MONITOR_H
#define MEMORY_TRACER_MONITOR_H

#include <glib.h>
#include <stdbool.h>

#include "child.h"
#include "qmp.h"

bool monitor_interact(QmpClient *qmp, Child *qemu, GError **err);

#endif
