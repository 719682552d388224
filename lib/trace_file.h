/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO trace files (memory_tracer --trace_file_path): the record stream a
 * FIFO would have carried, compressed in chunks by one of the codecs below.
 * Everything but the chunks lives in skippable frames, which zstd and LZ4
 * decoders alike skip (both formats share the magics 0x184D2A50-5F):
 *
 *   frame                magic         payload
 *   -------------------  ------------  -------------------------------------
 *   header               0x184D2A50    TRACE_HEADER (below)
 *   chunk 0..C-1         0xFD2FB528    one zstd or LZ4 frame each: whole
 *                        0x184D2204    records only, at most chunk_bytes of
 *                                      them, with their content size
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
 * Codecs (--trace_file_codec): how a chunk's records become its frame.
 *   zstd        zstd level 1; `zstd -dc FILE` gives the record stream byte
 *               for byte.  Layout version 1: what every reader reads.
 *   lz4         an LZ4 frame (4 MiB linked blocks, content checksum);
 *               `lz4 -dc FILE` gives the record stream byte for byte.
 *   zstd-delta, lz4-delta
 *               the address words of each record replaced by their
 *               difference to the same word of the record before (the
 *               chunk's first record: to 0), then zstd or LZ4.  A loop's
 *               addresses then repeat, which both compress far better and
 *               faster; `zstd -dc`/`lz4 -dc` give the deltas, `gmbeoo_dump
 *               --raw FILE` gives the record stream.  The words (wrapping
 *               64-bit subtraction): gmbeoo16 word 1 (vaddr); extended32
 *               words 1-3 (vaddr, paddr, pc); compact8 bits 8-63 of its
 *               one word (the info byte, bits 0-7, is kept).  A torn last
 *               record is stored as it is.
 *
 * Header payload:
 *   off  size  field
 *   0    8     "GMBEOOTF"
 *   8    4     layout version (1: codec zstd; 2: the two fields at 32)
 *   12   4     record format (0 gmbeoo16, 1 compact8, 2 extended32)
 *   16   4     record size in bytes
 *   20   4     log_of_GMBE_block_len (B)
 *   24   4     log_of_GMBE_tracing_ratio (R)
 *   28   4     flags: bit 0 trace_only_CPL3_code_GMBE
 *   32   4     version 2 only: compressor (0 zstd, 1 LZ4)
 *   36   4     version 2 only: transform (0 none, 1 delta)
 *   32|40 ...  UTF-8 text, "key=value\n" lines (values C-escaped):
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
#define TRACE_LZ4_MAGIC             0x184D2204u
#define TRACE_HEADER_ID             "GMBEOOTF"
#define TRACE_INDEX_ID              "GMBEOOIX"
#define TRACE_TRAILER_ID            "GMBEOEND"
#define TRACE_LAYOUT_VERSION        1
#define TRACE_LAYOUT_CODEC          2       /* with compressor, transform */
#define TRACE_HEADER_FIXED          32
#define TRACE_HEADER_FIXED_V2       40
#define TRACE_INDEX_FIXED           32
#define TRACE_INDEX_ENTRY           32
#define TRACE_TRAILER_SIZE          24      /* the whole frame */
#define TRACE_HEADER_MAX            (1u << 20)
#define TRACE_FLAG_CPL3_ONLY        1u

typedef enum TraceCompressor {
    TRACE_COMPRESS_ZSTD,
    TRACE_COMPRESS_LZ4,
    TRACE_COMPRESS__MAX,
} TraceCompressor;

typedef enum TraceTransform {
    TRACE_TRANSFORM_NONE,
    TRACE_TRANSFORM_DELTA,
    TRACE_TRANSFORM__MAX,
} TraceTransform;

/* A codec: compressor, transform and the compressor's level (0: its
 * default; zstd 1..19 and negative "fast" levels; LZ4 0 fast, negative
 * acceleration, 3..12 HC). */
typedef struct TraceCodec {
    TraceCompressor compressor;
    TraceTransform transform;
    int level;
} TraceCodec;

#define TRACE_CODEC_DEFAULT "zstd-delta"

/* Parse "zstd", "lz4", "zstd-delta" or "lz4-delta", each optionally with
 * ":LEVEL".  Fails with a message naming @name and the choices. */
bool trace_codec_parse(const char *name, TraceCodec *c, GError **err);

/* "lz4-delta" or "zstd:-3" (the level only when not 0). */
char *trace_codec_name(const TraceCodec *c);

/* Does `zstd -dc`/`lz4 -dc` give the record stream itself? */
static inline bool trace_codec_is_plain(const TraceCodec *c)
{
    return c->transform == TRACE_TRANSFORM_NONE;
}

/*
 * The transform in place on @len bytes of records of @record_size (a torn
 * tail is left alone).  @state (record_size bytes: the record before, all
 * zero at a chunk's start) carries it across calls, so a chunk may be
 * undone in pieces.
 */
void trace_delta_encode(GmbeooRecordFormat format, guint8 *data, gsize len,
                        guint8 *state);
void trace_delta_decode(GmbeooRecordFormat format, guint8 *data, gsize len,
                        guint8 *state);

/* The largest frame trace_chunk_compress() makes of @len bytes. */
gsize trace_chunk_bound(const TraceCodec *c, gsize len);

/*
 * One chunk: transform @data (in place: it is overwritten) and compress it
 * into @out (@cap bytes, trace_chunk_bound() at least).  Returns the
 * frame's size, 0 with @err set on failure.  @ctx is the compressor's
 * context, created on first use (free it with trace_chunk_ctx_free()).
 */
gsize trace_chunk_compress(const TraceCodec *c, GmbeooRecordFormat format,
                           void **ctx, guint8 *data, gsize len, guint8 *out,
                           gsize cap, GError **err);
void trace_chunk_ctx_free(const TraceCodec *c, void *ctx);

/* Undo it: the frame @in (@in_len bytes) into @out, which must hold the
 * frame's content (@out_len, the index's record count times the record
 * size).  False with @err on corrupted data or another size. */
bool trace_chunk_decompress(const TraceCodec *c, GmbeooRecordFormat format,
                            const guint8 *in, gsize in_len, guint8 *out,
                            gsize out_len, GError **err);

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
    TraceCodec codec;               /* layout version 1: zstd */
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
 * compressed with @m's codec in chunks of @chunk_bytes (rounded down to
 * whole records); zstd by @threads worker threads (0: in the caller's
 * thread).  Errors name @path and errno's words.
 */
TraceWriter *trace_writer_open(const char *path, const TraceMeta *m,
                               gsize chunk_bytes, int threads, GError **err);

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
