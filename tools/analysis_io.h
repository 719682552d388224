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

/*
 * What every analysis has beside its own simulation: the options they all
 * take, the filters those options set, what the filters counted, and what
 * the input was.  A tool keeps one in its input state.
 */
typedef struct AnalysisInput {
    /* --paddr --cpl --range --format --csv --json --plot */
    gboolean paddr, csv, json;
    gint cpl;                   /* -1: every CPL */
    char *range, *format_name, *plot;
    uint64_t range_start, range_len;    /* --range, parsed; len 0: none */
    /* What the filters counted (analysis_keep()) and the drop markers. */
    uint64_t accesses, filtered, no_paddr, drops, dropped;
    /* The input (analysis_run()). */
    GmbeooRecordFormat format;
    const char *kind;
    char *error;                /* the input failed midway: why */
} AnalysisInput;

/* "TOOL: WHY" on stderr; the usage-error status, 2. */
int analysis_usage(const char *tool, const char *why);

/*
 * Parse the command line with the tool's @entries, then the options every
 * analysis takes, into @io (@paddr_help and @plot_help are what --help
 * says of --paddr and --plot): options end at the input, since
 * memory_tracer's workload-info tokens follow its FIFO (strict POSIX
 * order), and an input (argv[1] afterwards) is required.  0 to go on,
 * else the usage-error status after saying why.
 */
int analysis_parse(const char *tool, const char *summary,
                   const GOptionEntry *entries, AnalysisInput *io,
                   const char *paddr_help, const char *plot_help,
                   int *argc, char ***argv);

/* --cpl is 0, 3 or unset, and --csv and --json do not meet (the tool's
 * usage message says so with its own checks). */
bool analysis_options_ok(const AnalysisInput *io);

/* --range into io->range_start and io->range_len: 0 to go on, else the
 * usage-error status after saying why. */
int analysis_range(const char *tool, AnalysisInput *io);

/* --format NAME (NULL: detected), as the open calls take it; -2 after a
 * usage error. */
int analysis_format(const char *tool, const char *name);

/* --range "START:LEN" (each decimal or 0x hex, LEN > 0). */
bool analysis_parse_range(const char *s, uint64_t *start, uint64_t *len);

/* A line or page size: a power of two up to 1 GiB. */
bool analysis_power_of_two(int64_t v);

/* The addresses the tool takes from @b: the physical ones with --paddr. */
static inline const uint64_t *analysis_addrs(const AnalysisInput *io,
                                             const GmbeooBatch *b)
{
    return io->paddr ? b->paddr : b->vaddr;
}

/*
 * Whether access @i of @b passes the filters (--cpl, --range on the
 * virtual address, and with --paddr a physical address to take); counted
 * in @io either way.
 */
static inline bool analysis_keep(AnalysisInput *io, const GmbeooBatch *b,
                                 size_t i)
{
    if ((io->cpl >= 0 && gmbeoo_cpl(b->info[i]) != (unsigned)io->cpl) ||
        (io->range_len && b->vaddr[i] - io->range_start >= io->range_len)) {
        io->filtered++;
        return false;
    }
    if (io->paddr && b->paddr[i] == GMBEOO_NO_PADDR) {
        io->no_paddr++;
        return false;
    }
    io->accesses++;
    return true;
}

/*
 * Read the input (argv[1], analysis_open() with --format), feeding every
 * batch to @feed and counting its drop markers in @io, then note what the
 * input was in @io, draw --plot with @plot and give the block (@report):
 * through the contract when a run's FIFO is read (after the last record),
 * else on stdout.  With --paddr a format without physical addresses is
 * refused.  Returns the tool's exit status: 1 when the input could not be
 * opened or failed midway (the block then says why), the plot or the
 * block could not be written; else 0.
 */
int analysis_run(const char *tool, int argc, char **argv, int format,
                 AnalysisInput *io,
                 void (*feed)(void *arg, const GmbeooBatch *b),
                 bool (*plot)(void *arg, const char *path),
                 void (*report)(FILE *out, void *arg), void *arg);

/* A white @w x @h canvas to draw on (RGB24), black 14-point sans-serif
 * text set; its surface in *@surf. */
cairo_t *analysis_canvas(int w, int h, cairo_surface_t **surf);

/* Draw @s with its box's point (@align_x, @align_y) (0..1 of its width
 * and height) at (@x, @y). */
void analysis_text_at(cairo_t *cr, const char *s, double x, double y,
                      double align_x, double align_y);

/* Write @surf (destroyed, with @cr) to @path as PNG; false after saying
 * why. */
bool analysis_write_png(const char *tool, cairo_t *cr,
                        cairo_surface_t *surf, const char *path);

#endif /* MEMORY_TRACER_ANALYSIS_IO_H */
