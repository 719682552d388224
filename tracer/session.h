/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One run of memory_tracer, start to finish (session.c reads top to bottom
 * like the run).  Returns the process exit status: 0 on success, 1 on
 * failure (after printing one line on stderr), 128 + signal when
 * interrupted.  Every child is reaped and the runtime directory removed on
 * every path.
 */
#ifndef MEMORY_TRACER_SESSION_H
#define MEMORY_TRACER_SESSION_H

#include "options.h"

int session_run(Options *o);

/* --dont_use_qemu (native.c). */
int native_run(Options *o);

#endif
