/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's insides, shared by its files (never installed): the source
 * (source.c: the reader loop and the batches), the analysis-tool contract
 * (tool.c), which drives the same loop between signals, and the ring
 * source (rings.c: the shared rings a tool started by memory_tracer
 * claims, decoded in place by the same batch code).
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

    /* The shared rings (rings.c; kind GMBEOO_SOURCE_RINGS). */
    int rings_fd;               /* the claimed file, or -1 */
    void *rmap;                 /* its header page, then all of it */
    size_t rmap_len;
    bool rings_mapped;          /* QEMU opened them: all of it mapped */
    uint32_t nr_rings, next_ring;
    uint64_t ring_bytes, ring_stride;
    struct GmbeooRingControl *pending;  /* the last batch's ring ... */
    uint64_t pending_tail;              /* ... and its tail after it */
    uint64_t pending_head;              /* ... and its head then */
    unsigned batches_since_poll;
};

void gmbeoo_set_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
GmbeooSource *gmbeoo_source_new(int fd, int format, unsigned flags,
                                const char *name);
int gmbeoo_source_step(GmbeooSource *src);
/* Fail reading @src (the message names it): STEP_ERROR. */
int gmbeoo_source_fail(GmbeooSource *src, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* After STEP_EOF or STEP_ERROR @src is done for good: GMBEOO_END or
 * GMBEOO_ERROR from now on; returns that (src->result for other steps). */
int gmbeoo_source_end(GmbeooSource *src, int step);
/* An integer memory_tracer put in the tool's environment, or -1. */
int gmbeoo_env_int(const char *name);
bool gmbeoo_source_take(GmbeooSource *src, GmbeooBatch *b);
void gmbeoo_source_decode(GmbeooSource *src, const guint8 *p, gsize n,
                          GmbeooBatch *b);
int gmbeoo_tool_next(GmbeooSource *src, GmbeooBatch *batch);
void gmbeoo_tool_take_signal(GmbeooSource *src);

/* rings.c: claim the file of GMBEOO_RINGS_FD (its descriptor, or -1 if
 * there is none or it cannot be claimed), make @src read it, free it. */
int gmbeoo_rings_claim(void);
void gmbeoo_rings_attach(GmbeooSource *src, int fd);
void gmbeoo_rings_detach(GmbeooSource *src);
int gmbeoo_rings_next(GmbeooSource *src, GmbeooBatch *batch);

#endif /* GMBEOO_INTERNAL_H */
