/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The input and output side the ready-made analyses (gmbeoo_cachesim,
 * gmbeoo_reuse, gmbeoo_wss) share, so each tool's file holds only its
 * simulation and its report: where the records come from (a run's FIFO
 * under the analysis-tool contract, or a file read to its end), the
 * option values they all parse, and how the block and the PNG are
 * written.  Private to tools/; a user's tool uses libgmbeoo directly.
 */
#ifndef MEMORY_TRACER_ANALYSIS_IO_H
#define MEMORY_TRACER_ANALYSIS_IO_H

#include <cairo.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gmbeoo/gmbeoo.h"

/* "TOOL: WHY" on stderr; the usage-error status, 2. */
int analysis_usage(const char *tool, const char *why);

/*
 * Parse the command line with @entries: options end at the input, since
 * memory_tracer's workload-info tokens follow its FIFO (strict POSIX
 * order), and an input (argv[1] afterwards) is required.  0 to go on,
 * else the usage-error status after saying why.
 */
int analysis_parse(const char *tool, const char *summary,
                   const GOptionEntry *entries, int *argc, char ***argv);

/* --format NAME (NULL: detected), as the open calls take it; -2 after a
 * usage error. */
int analysis_format(const char *tool, const char *name);

/* --range "START:LEN" (each decimal or 0x hex, LEN > 0). */
bool analysis_parse_range(const char *s, uint64_t *start, uint64_t *len);

/* A line or page size: a power of two up to 1 GiB. */
bool analysis_power_of_two(int64_t v);

/*
 * Open argv[1]: a FIFO is a run's (memory_tracer --analysis_tool_path:
 * the analysis-tool contract, *@live set), anything else a file or "-"
 * read to its end.  NULL after saying why.
 */
GmbeooSource *analysis_open(const char *tool, int argc, char **argv,
                            int format, bool *live);

/*
 * Feed every batch of @src to @feed.  With @paddr, a format without
 * physical addresses is refused: -1 after saying why.  An input that
 * fails midway: 1, with why in *@error (kept for the block).  Else 0.
 */
int analysis_read(const char *tool, GmbeooSource *src, bool paddr,
                  void (*feed)(void *arg, const GmbeooBatch *b), void *arg,
                  char **error);

/* The source's format and kind, for the block (after analysis_read()). */
void analysis_source_info(GmbeooSource *src, GmbeooRecordFormat *format,
                          const char **kind);

/*
 * The tool's block: through the contract when @live (after the last
 * record), else on stdout.  Closes @src.  Returns @status, or 1 when the
 * block could not be written.
 */
int analysis_finish(GmbeooSource *src, bool live,
                    void (*report)(FILE *out, void *arg), void *arg,
                    int status);

/* Draw @s with its box's point (@align_x, @align_y) (0..1 of its width
 * and height) at (@x, @y). */
void analysis_text_at(cairo_t *cr, const char *s, double x, double y,
                      double align_x, double align_y);

/* Write @surf (destroyed, with @cr) to @path as PNG; false after saying
 * why. */
bool analysis_write_png(const char *tool, cairo_t *cr,
                        cairo_surface_t *surf, const char *path);

#endif /* MEMORY_TRACER_ANALYSIS_IO_H */
