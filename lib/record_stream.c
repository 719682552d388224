/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record-stream reader loop (record_stream.h).
 *
 * Invariant: `in` holds bytes read but not yet consumed (undetected start,
 * an incomplete header frame, compressed input the decoder has not taken,
 * or raw bytes of an incomplete record); `out` holds decompressed bytes of
 * an incomplete record.  Everything before them has gone to the callback.
 * A delta-coded trace file is undone record by record as records are
 * handed out; `delta` (the record before) restarts at each frame.
 */
#include "record_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4frame.h>
#include <zstd.h>

#define READ_BLOCK (1u << 20)
#define DETECT_BYTES 16     /* magic, size and the header's ID */

struct RecordStream {
    int fd;
    bool own_fd;
    bool is_fifo;
    char *name;
    RecordSourceKind kind;
    GmbeooRecordFormat format;
    unsigned record_size;
    bool have_meta;
    TraceMeta meta;
    RecordBlockFunc fn;
    void *opaque;
    bool eof;

    guint8 *in;
    gsize in_len, in_cap;
    ZSTD_DCtx *dctx;
    LZ4F_dctx *lz4;             /* the decoder: dctx or lz4 */
    TraceTransform transform;
    guint8 delta[32];
    guint8 *out;
    gsize out_len, out_cap;
    size_t zstd_hint;           /* 0: at a frame boundary */
    guint64 records;
};

static guint32 le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 |
           (guint32)p[3] << 24;
}

RecordStream *record_stream_new_fd(int fd, bool own, const char *name,
                                   GmbeooRecordFormat format)
{
    RecordStream *rs = g_new0(RecordStream, 1);
    struct stat st;
    rs->fd = fd;
    rs->own_fd = own;
    rs->is_fifo = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
    rs->name = g_strdup(name);
    rs->format = format;
    rs->record_size = gmbeoo_format_size(format);
    rs->in_cap = READ_BLOCK + TRACE_HEADER_MAX;
    rs->in = g_malloc(rs->in_cap);
    return rs;
}

RecordStream *record_stream_open(const char *path, GmbeooRecordFormat format,
                                 GError **err)
{
    if (strcmp(path, "-") == 0) {
        return record_stream_new_fd(STDIN_FILENO, false, "stdin", format);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot read %s: %s", path, g_strerror(e));
        return NULL;
    }
    return record_stream_new_fd(fd, true, path, format);
}

void record_stream_free(RecordStream *rs)
{
    if (!rs) {
        return;
    }
    if (rs->own_fd && rs->fd >= 0) {
        close(rs->fd);
    }
    ZSTD_freeDCtx(rs->dctx);
    LZ4F_freeDecompressionContext(rs->lz4);
    trace_meta_clear(&rs->meta);
    g_free(rs->in);
    g_free(rs->out);
    g_free(rs->name);
    g_free(rs);
}

void record_stream_set_callback(RecordStream *rs, RecordBlockFunc fn,
                                void *opaque)
{
    rs->fn = fn;
    rs->opaque = opaque;
}

/* Hand the whole records at @data to the callback; returns bytes used. */
static gsize deliver(RecordStream *rs, const guint8 *data, gsize len,
                     bool *stop)
{
    gsize n = len / rs->record_size;
    if (n == 0) {
        return 0;
    }
    if (rs->transform == TRACE_TRANSFORM_DELTA) {
        trace_delta_decode(rs->format, (guint8 *)data, n * rs->record_size,
                           rs->delta);
    }
    RecordBlock b = {
        .data = data,
        .count = n,
        .first_index = rs->records,
        .format = rs->format,
        .record_size = rs->record_size,
    };
    rs->records += n;
    if (rs->fn && !rs->fn(&b, rs->opaque)) {
        *stop = true;
    }
    return n * rs->record_size;
}

static bool fail(RecordStream *rs, GError **err, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static bool fail(RecordStream *rs, GError **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", rs->name,
                why);
    return false;
}

static void start_decoder(RecordStream *rs, TraceCompressor compressor)
{
    if (compressor == TRACE_COMPRESS_LZ4) {
        LZ4F_createDecompressionContext(&rs->lz4, LZ4F_VERSION);
    } else {
        rs->dctx = ZSTD_createDCtx();
    }
    rs->out_cap = ZSTD_DStreamOutSize() * 8;
    rs->out = g_malloc(rs->out_cap);
}

/*
 * Decide what the source is from `in`.  Returns false on a bad header;
 * leaves kind UNKNOWN while it needs more bytes.
 */
static bool detect(RecordStream *rs, GError **err)
{
    if (rs->in_len < 4 && !rs->eof) {
        return true;
    }
    guint32 magic = rs->in_len >= 4 ? le32(rs->in) : 0;
    if (magic == TRACE_HEADER_MAGIC) {
        if (rs->in_len < DETECT_BYTES && !rs->eof) {
            return true;
        }
        if (rs->in_len >= DETECT_BYTES &&
            memcmp(rs->in + 8, TRACE_HEADER_ID, 8) == 0) {
            guint32 size = le32(rs->in + 4);
            if (size > TRACE_HEADER_MAX) {
                return fail(rs, err, "corrupted trace file header: its "
                            "size %u is too large", size);
            }
            if (rs->in_len < 8 + (gsize)size) {
                if (rs->eof) {
                    return fail(rs, err, "corrupted trace file header: the "
                                "file ends inside it");
                }
                return true;
            }
            g_autoptr(GError) e = NULL;
            if (!trace_header_decode(&rs->meta, rs->in + 8, size, &e)) {
                return fail(rs, err, "%s", e->message);
            }
            rs->have_meta = true;
            rs->format = rs->meta.format;
            rs->record_size = gmbeoo_format_size(rs->format);
            rs->in_len -= 8 + size;
            memmove(rs->in, rs->in + 8 + size, rs->in_len);
            rs->kind = RECORD_SOURCE_TRACE_FILE;
            rs->transform = rs->meta.codec.transform;
            start_decoder(rs, rs->meta.codec.compressor);
            return true;
        }
    }
    if (magic == TRACE_ZSTD_MAGIC ||
        (magic >= TRACE_SKIPPABLE_MAGIC_MIN &&
         magic <= TRACE_SKIPPABLE_MAGIC_MAX)) {
        rs->kind = RECORD_SOURCE_ZSTD;
        start_decoder(rs, TRACE_COMPRESS_ZSTD);
    } else if (magic == TRACE_LZ4_MAGIC) {
        rs->kind = RECORD_SOURCE_LZ4;
        start_decoder(rs, TRACE_COMPRESS_LZ4);
    } else {
        rs->kind = RECORD_SOURCE_RAW;
    }
    return true;
}

/* One decoder step from `in` (at *@pos) into `out`; the decoder's hint
 * (0: at a frame boundary) or false on corrupted data. */
static bool decode_step(RecordStream *rs, gsize *pos, size_t *hint,
                        GError **err)
{
    if (rs->lz4) {
        size_t src = rs->in_len - *pos, dst = rs->out_cap - rs->out_len;
        size_t r = LZ4F_decompress(rs->lz4, rs->out + rs->out_len, &dst,
                                   rs->in + *pos, &src, NULL);
        if (LZ4F_isError(r)) {
            return fail(rs, err, "corrupted LZ4 data: %s",
                        LZ4F_getErrorName(r));
        }
        *pos += src;
        rs->out_len += dst;
        *hint = r;
        return true;
    }
    ZSTD_inBuffer zin = { rs->in, rs->in_len, *pos };
    ZSTD_outBuffer zout = { rs->out, rs->out_cap, rs->out_len };
    size_t r = ZSTD_decompressStream(rs->dctx, &zout, &zin);
    if (ZSTD_isError(r)) {
        return fail(rs, err, "corrupted zstd data: %s", ZSTD_getErrorName(r));
    }
    *pos = zin.pos;
    rs->out_len = zout.pos;
    *hint = r;
    return true;
}

/* Decompress `in` into records. */
static bool decompress(RecordStream *rs, bool *stop, GError **err)
{
    gsize pos = 0;
    bool full = false;      /* output filled: the decoder may hold more */
    while ((pos < rs->in_len || full) && !*stop) {
        gsize before = pos, out_before = rs->out_len;
        size_t hint = 1;
        if (!decode_step(rs, &pos, &hint, err)) {
            return false;
        }
        full = rs->out_len == rs->out_cap;
        bool progress = pos != before || rs->out_len != out_before;
        rs->zstd_hint = hint;
        gsize used = deliver(rs, rs->out, rs->out_len, stop);
        rs->out_len -= used;
        memmove(rs->out, rs->out + used, rs->out_len);
        if (hint == 0) {
            /* A frame ended: its records are all out (chunks hold whole
             * records), the next one's deltas start from 0. */
            memset(rs->delta, 0, sizeof(rs->delta));
        }
        if (!progress && !full) {
            break;          /* the decoder needs more input */
        }
    }
    rs->in_len -= pos;
    memmove(rs->in, rs->in + pos, rs->in_len);
    return true;
}

/* Process what `in` holds; *stop when the callback said so. */
static bool process(RecordStream *rs, bool *stop, GError **err)
{
    if (rs->kind == RECORD_SOURCE_UNKNOWN) {
        if (!detect(rs, err)) {
            return false;
        }
        if (rs->kind == RECORD_SOURCE_UNKNOWN) {
            return true;
        }
    }
    if (rs->kind == RECORD_SOURCE_RAW) {
        gsize used = deliver(rs, rs->in, rs->in_len, stop);
        rs->in_len -= used;
        memmove(rs->in, rs->in + used, rs->in_len);
        return true;
    }
    if (!decompress(rs, stop, err)) {
        return false;
    }
    if (rs->eof && !*stop && rs->zstd_hint != 0) {
        return fail(rs, err, "truncated %s data (the stream ends inside "
                    "a frame)", rs->lz4 ? "LZ4" : "zstd");
    }
    return true;
}

/* One read() into `in`, returning its result; EOF sets `eof`.  A failure
 * other than EINTR/EAGAIN fills @err; errno is kept. */
static ssize_t read_block(RecordStream *rs, GError **err)
{
    /* Room for one block: keep what is held, read after it. */
    if (rs->in_cap - rs->in_len < READ_BLOCK) {
        rs->in_cap = rs->in_len + READ_BLOCK;
        rs->in = g_realloc(rs->in, rs->in_cap);
    }
    ssize_t n = read(rs->fd, rs->in + rs->in_len, READ_BLOCK);
    if (n > 0) {
        rs->in_len += (gsize)n;
    } else if (n == 0) {
        rs->eof = true;
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot read %s: %s", rs->name, g_strerror(e));
        errno = e;
    }
    return n;
}

static bool would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

RecordStreamStatus record_stream_pump(RecordStream *rs, GError **err)
{
    bool stop = false;
    if (rs->eof) {
        return RECORD_STREAM_EOF;
    }
    if (read_block(rs, err) < 0) {
        return would_block() ? RECORD_STREAM_AGAIN
               : errno == EINTR ? RECORD_STREAM_DATA : RECORD_STREAM_ERROR;
    }
    if (!process(rs, &stop, err)) {
        return RECORD_STREAM_ERROR;
    }
    return stop ? RECORD_STREAM_STOPPED
                : rs->eof ? RECORD_STREAM_EOF : RECORD_STREAM_DATA;
}

bool record_stream_detect(RecordStream *rs, GError **err)
{
    /* Reads without handing records out: the bytes stay in `in` for
     * record_stream_run(), or are the header detection consumes. */
    while (rs->kind == RECORD_SOURCE_UNKNOWN && !rs->eof) {
        if (read_block(rs, err) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return would_block();   /* not known yet: pump will tell */
        }
        if (!detect(rs, err)) {
            return false;
        }
    }
    return true;
}

bool record_stream_run(RecordStream *rs, GError **err)
{
    /* What detection left in `in` is handed out first. */
    bool stop = false;
    if (rs->in_len > 0 || rs->eof) {
        if (!process(rs, &stop, err)) {
            return false;
        }
        if (stop || rs->eof) {
            return true;
        }
    }
    for (;;) {
        switch (record_stream_pump(rs, err)) {
        case RECORD_STREAM_DATA:
        case RECORD_STREAM_AGAIN:
            break;
        case RECORD_STREAM_EOF:
        case RECORD_STREAM_STOPPED:
            return true;
        case RECORD_STREAM_ERROR:
            return false;
        }
    }
}

RecordSourceKind record_stream_kind(const RecordStream *rs)
{
    return rs->kind;
}

const char *record_stream_kind_name(const RecordStream *rs)
{
    switch (rs->kind) {
    case RECORD_SOURCE_RAW:
        return rs->is_fifo ? "raw record stream (FIFO or pipe)"
                           : "raw record stream";
    case RECORD_SOURCE_TRACE_FILE:
        return "trace file";
    case RECORD_SOURCE_ZSTD:
        return "zstd-compressed record stream";
    case RECORD_SOURCE_LZ4:
        return "LZ4-compressed record stream";
    default:
        return "unknown";
    }
}

bool record_stream_is_fifo(const RecordStream *rs)
{
    return rs->is_fifo;
}

GmbeooRecordFormat record_stream_format(const RecordStream *rs)
{
    return rs->format;
}

const TraceMeta *record_stream_meta(const RecordStream *rs)
{
    return rs->have_meta ? &rs->meta : NULL;
}

guint64 record_stream_records(const RecordStream *rs)
{
    return rs->records;
}

gsize record_stream_leftover(const RecordStream *rs)
{
    return rs->kind == RECORD_SOURCE_RAW || rs->kind == RECORD_SOURCE_UNKNOWN
           ? rs->in_len : rs->out_len;
}

bool record_format_choose(const char *name, GmbeooRecordFormat *format,
                          GError **err)
{
    const char *from = "--format";
    if (!name || !*name) {
        name = g_getenv("GMBEOO_RECORD_FORMAT");
        from = "GMBEOO_RECORD_FORMAT";
    }
    if (!name || !*name) {
        *format = GMBEOO_FORMAT_GMBEOO16;
        return true;
    }
    int f = gmbeoo_format_from_name(name);
    if (f < 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: unknown record format '%s' (gmbeoo16, compact8 or "
                    "extended32)", from, name);
        return false;
    }
    *format = (GmbeooRecordFormat)f;
    return true;
}
