/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --trace_file_path: a thread of memory_tracer reads the trace FIFO (QEMU
 * writes it as for an analysis tool) and writes the records to a zstd
 * trace file (lib/trace_file.h) while the workload runs.
 *
 * Invariants: the file appears under its name only when trace_sink_finish()
 * succeeded (whole, with its index, fsync'ed); every other exit leaves no
 * file and no temporary.  The thread stops on EOF (QEMU closed the output),
 * on a write error (then trace_sink_check() fails the run: the error names
 * the path and errno's words) or when trace_sink_abort() asks it to.
 */
#ifndef MEMORY_TRACER_TRACE_SINK_H
#define MEMORY_TRACER_TRACE_SINK_H

#include <glib.h>
#include <stdbool.h>

#include "trace_file.h"

typedef struct TraceSink TraceSink;

/* Create the file's temporary, open @fifo for reading, start the thread. */
TraceSink *trace_sink_start(const char *fifo, const char *path,
                            const TraceMeta *meta, GError **err);

/* False (and the thread's error) once the thread has failed. */
bool trace_sink_check(TraceSink *s, GError **err);

/* Has the thread returned (EOF, failure or abort)? */
bool trace_sink_done(TraceSink *s);

/* Once done: write the index and trailer and rename the file into place;
 * the bytes of records it holds go to *@records_bytes.  Frees @s. */
bool trace_sink_finish(TraceSink *s, guint64 *records_bytes, GError **err);

/* Stop the thread, remove the temporary file, free @s (NULL is fine). */
void trace_sink_abort(TraceSink *s);

#endif
