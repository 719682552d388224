/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO trace files (memory_tracer --trace_file_path): the record stream a
 * FIFO would have carried, kept as a zstd file.  `zstd -dc FILE` gives that
 * stream byte for byte; everything else lives in zstd skippable frames,
 * which every zstd decoder skips:
 *
 *   frame                magic         payload
 *   -------------------  ------------  -------------------------------------
 *   header               0x184D2A50    TRACE_HEADER (below)
 *   chunk 0..C-1         0xFD2FB528    zstd frames: whole records only, at
 *                                      most chunk_bytes of them each, with
 *                                      their content size
 *   index                0x184D2A5E    TRACE_INDEX (below)
 *   trailer              0x184D2A5F    16 bytes: u64 file offset of the
 *                                      index frame, "GMBEOEND"
 *
 * A skippable frame is u32 magic, u32 payload size, payload; all integers
 * are little-endian.  The trailer is the last 24 bytes of the file, so a
 * reader seeks to the end, finds the index and from it any chunk.  A file
 * is complete only if it ends in a trailer: the writer writes to a
 * temporary name beside PATH and renames it to PATH after the trailer is
 * written and fsync'ed.
 *
 * Header payload:
 *   off  size  field
 *   0    8     "GMBEOOTF"
 *   8    4     layout version (1)
 *   12   4     record format (0 gmbeoo16, 1 compact8, 2 extended32)
 *   16   4     record size in bytes
 *   20   4     log_of_GMBE_block_len (B)
 *   24   4     log_of_GMBE_tracing_ratio (R)
 *   28   4     flags: bit 0 trace_only_CPL3_code_GMBE
 *   32   ...   UTF-8 text, "key=value\n" lines (values C-escaped):
 *              guest_image, snapshot, memory_tracer_version, qemu_version,
 *              workload, chunk_bytes, created (ISO 8601 UTC)
 *
 * Index payload:
 *   0    8     "GMBEOOIX"
 *   8    8     number of chunks C
 *   16   8     total records (drop markers included)
 *   24   8     total bytes of the record stream
 *   32   32*C  per chunk: file offset of its frame, its compressed size,
 *              index of its first record, its record count
 */
#ifndef GMBEOO_TRACE_FILE_H
#define GMBEOO_TRACE_FILE_H

#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>

#include "gmbeoo/record.h"

#define TRACE_SKIPPABLE_MAGIC_MIN   0x184D2A50u
#define TRACE_SKIPPABLE_MAGIC_MAX   0x184D2A5Fu
#define TRACE_HEADER_MAGIC          0x184D2A50u
#define TRACE_INDEX_MAGIC           0x184D2A5Eu
#define TRACE_TRAILER_MAGIC         0x184D2A5Fu
#define TRACE_ZSTD_MAGIC            0xFD2FB528u
#define TRACE_HEADER_ID             "GMBEOOTF"
#define TRACE_INDEX_ID              "GMBEOOIX"
#define TRACE_TRAILER_ID            "GMBEOEND"
#define TRACE_LAYOUT_VERSION        1
#define TRACE_HEADER_FIXED          32
#define TRACE_INDEX_FIXED           32
#define TRACE_INDEX_ENTRY           32
#define TRACE_TRAILER_SIZE          24      /* the whole frame */
#define TRACE_HEADER_MAX            (1u << 20)
#define TRACE_FLAG_CPL3_ONLY        1u

/* What the header says.  Strings may be NULL (written as empty). */
typedef struct TraceMeta {
    GmbeooRecordFormat format;
    unsigned block_len_log;         /* B */
    unsigned tracing_ratio_log;     /* R */
    bool cpl3_only;
    char *guest_image;
    char *snapshot;
    char *memory_tracer_version;
    char *qemu_version;
    char *workload;
    guint64 chunk_bytes;
} TraceMeta;

void trace_meta_clear(TraceMeta *m);

/* The header frame (magic, size, payload) for @m. */
GBytes *trace_header_encode(const TraceMeta *m);

/*
 * Parse a header frame's payload (@len bytes after magic and size).  Fails
 * with a message saying what is wrong.
 */
bool trace_header_decode(TraceMeta *m, const guint8 *payload, gsize len,
                         GError **err);

/* ---- writing ---- */

typedef struct TraceWriter TraceWriter;

/*
 * Create the temporary file beside @path and write the header.  Records
 * are then added with trace_writer_space()/trace_writer_commit() and
 * compressed at zstd level @level (1 if 0) in chunks of @chunk_bytes
 * (rounded down to whole records), by @threads zstd worker threads (0:
 * in the caller's thread).  Errors name @path and errno's words.
 */
TraceWriter *trace_writer_open(const char *path, const TraceMeta *m,
                               gsize chunk_bytes, int level, int threads,
                               GError **err);

/* Room for at least one byte of records: *room bytes at the result. */
guint8 *trace_writer_space(TraceWriter *w, gsize *room);

/* @n bytes were put at trace_writer_space(); a full chunk is written. */
bool trace_writer_commit(TraceWriter *w, gsize n, GError **err);

/* Last chunk, index, trailer, fsync, rename to the path: the file is whole.
 * Frees @w whatever happens; on failure the temporary file is removed. */
bool trace_writer_finish(TraceWriter *w, GError **err);

/* Remove the temporary file and free @w (NULL is fine). */
void trace_writer_abort(TraceWriter *w);

/* Totals so far: bytes of records in, bytes of the file out. */
void trace_writer_totals(const TraceWriter *w, guint64 *in, guint64 *out);

#endif /* GMBEOO_TRACE_FILE_H */
