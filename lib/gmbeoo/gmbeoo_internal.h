/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's insides, shared by its files (never installed): the source
 * (source.c: the reader loop and the batches) and the analysis-tool
 * contract (tool.c), which drives the same loop between signals.
 */
#ifndef GMBEOO_INTERNAL_H
#define GMBEOO_INTERNAL_H

#include <glib.h>
#include <stdbool.h>
#include <lz4frame.h>
#include <zstd.h>

#include "gmbeoo/gmbeoo.h"
#include "trace_file.h"

#define GMBEOO_BATCH_MAX 4096

/* gmbeoo_source_step()'s results. */
enum { STEP_OK, STEP_AGAIN, STEP_EOF, STEP_ERROR };

struct GmbeooSource {
    int fd;
    bool own_fd;
    bool is_fifo;
    char *name;
    GmbeooSourceKind kind;
    GmbeooRecordFormat format;
    unsigned record_size;
    bool eof;                   /* read() said so */
    bool done;                  /* result is sticky: */
    int result;                 /*   GMBEOO_END or GMBEOO_ERROR */

    guint8 *in;
    gsize in_pos, in_len, in_cap;
    ZSTD_DCtx *dctx;
    LZ4F_dctx *lz4;             /* the decoder: dctx or lz4 */
    guint8 *out;
    gsize out_pos, out_len, out_cap;
    size_t zstd_hint;           /* the decoder's; 0: at a frame boundary */
    bool zstd_more;             /* the last call filled `out` */
    TraceTransform transform;   /* a trace file's, undone in `out` */
    gsize out_undone;           /* out[out_pos, out_undone): undone */
    guint8 delta[32];           /* the record before (trace_delta_decode) */

    GmbeooStats stats;
    TraceMeta tmeta;            /* a trace file's header */
    GmbeooMeta meta;
    char **info;                /* meta.info, NULL-terminated */

    /* The batch handed out last. */
    uint8_t b_info[GMBEOO_BATCH_MAX], b_vcpu[GMBEOO_BATCH_MAX];
    uint64_t b_vaddr[GMBEOO_BATCH_MAX], b_paddr[GMBEOO_BATCH_MAX],
             b_pc[GMBEOO_BATCH_MAX], b_cr3[GMBEOO_BATCH_MAX];
    GmbeooDrop b_drops[GMBEOO_BATCH_MAX];

    /* The analysis-tool contract (tool.c). */
    bool tool;
    int sigfd;
    bool got_usr1;              /* the end: drain, then GMBEOO_END */
    bool got_term;              /* SIGTERM or SIGINT: stop now */
};

void gmbeoo_set_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
GmbeooSource *gmbeoo_source_new(int fd, int format, unsigned flags,
                                const char *name);
int gmbeoo_source_step(GmbeooSource *src);
bool gmbeoo_source_take(GmbeooSource *src, GmbeooBatch *b);
int gmbeoo_tool_next(GmbeooSource *src, GmbeooBatch *batch);

#endif /* GMBEOO_INTERNAL_H */
