/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's private directory (mkdtemp, mode 0700) holding the QMP and
 * serial sockets, the FIFO, the wrapper and the console log, and the
 * signals that end a run early.  SIGINT/SIGTERM/SIGHUP only set a flag
 * (and wake a self-pipe): every wait loop checks runtime_interrupted()
 * and unwinds through the normal clean-up path.
 */
#ifndef MEMORY_TRACER_RUNTIME_H
#define MEMORY_TRACER_RUNTIME_H

#include <glib.h>
#include <stdbool.h>

/* Install the handlers (and ignore SIGPIPE). */
void runtime_signals_install(void);

/* The signal that asked us to stop, or 0. */
int runtime_interrupted(void);

/* Readable once a stop signal arrived (for poll()). */
int runtime_signal_fd(void);

/* The deadline (in us) the environment variable @name gives in seconds (a
 * positive number), else @fallback seconds. */
gint64 runtime_env_seconds(const char *name, double fallback);

/* Create the directory; NULL with @err on failure. */
char *runtime_dir_create(GError **err);

/* Remove it and everything in it (not following symlinks). */
void runtime_dir_remove(const char *dir);

#endif
