/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trace files: header encoding, the codecs and the chunked writer (layout
 * in trace_file.h).  The writer keeps one chunk of records and its compressed
 * image in memory, so its memory is bounded whatever the trace's length.
 */
#include "trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4frame.h>
#include <zstd.h>

typedef struct ChunkEntry {
    guint64 offset, compressed, first_record, records;
} ChunkEntry;

struct TraceWriter {
    char *path;                 /* the final name */
    char *tmp_path;             /* where it is written until finished */
    int fd;
    TraceCodec codec;
    GmbeooRecordFormat format;
    void *cctx;                 /* the compressor's context */
    int threads;
    unsigned record_size;
    guint8 *chunk;              /* records not yet compressed */
    gsize chunk_cap, chunk_len;
    guint8 *out;
    gsize out_cap;
    guint64 file_off;           /* bytes written to the file */
    guint64 stream_bytes;       /* bytes of records taken in */
    GArray *index;              /* ChunkEntry */
};

void trace_meta_clear(TraceMeta *m)
{
    g_free(m->guest_image);
    g_free(m->snapshot);
    g_free(m->memory_tracer_version);
    g_free(m->qemu_version);
    g_free(m->workload);
    memset(m, 0, sizeof(*m));
}

static void put_le32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (guint8)(v >> (8 * i));
    }
}

static void put_le64(guint8 *p, guint64 v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (guint8)(v >> (8 * i));
    }
}

static guint32 get_le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 |
           (guint32)p[3] << 24;
}

static void append_le32(GByteArray *b, guint32 v)
{
    guint8 p[4];
    put_le32(p, v);
    g_byte_array_append(b, p, 4);
}

static void append_le64(GByteArray *b, guint64 v)
{
    guint8 p[8];
    put_le64(p, v);
    g_byte_array_append(b, p, 8);
}

/* ---- codecs ---- */

static const char *const compressor_names[] = { "zstd", "lz4" };

bool trace_codec_parse(const char *name, TraceCodec *c, GError **err)
{
    g_autofree char *base = g_strdup(name);
    char *colon = strchr(base, ':');
    memset(c, 0, sizeof(*c));
    if (colon) {
        char *end;
        *colon = '\0';
        long level = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || level < -1000 || level > 22) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "bad codec level in \"%s\" (an integer: zstd 1..19 "
                        "or negative, LZ4 0, negative or 3..12)", name);
            return false;
        }
        c->level = (int)level;
    }
    char *dash = g_str_has_suffix(base, "-delta") ? strrchr(base, '-') : NULL;
    if (dash) {
        *dash = '\0';
        c->transform = TRACE_TRANSFORM_DELTA;
    }
    for (int i = 0; i < TRACE_COMPRESS__MAX; i++) {
        if (!strcmp(base, compressor_names[i])) {
            c->compressor = i;
            return true;
        }
    }
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "unknown trace file codec \"%s\" (zstd, lz4, zstd-delta or "
                "lz4-delta, optionally with :LEVEL)", name);
    return false;
}

char *trace_codec_name(const TraceCodec *c)
{
    GString *s = g_string_new(compressor_names[c->compressor]);
    if (c->transform == TRACE_TRANSFORM_DELTA) {
        g_string_append(s, "-delta");
    }
    if (c->level) {
        g_string_append_printf(s, ":%d", c->level);
    }
    return g_string_free(s, FALSE);
}

static guint64 load64(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_LE(v);
}

static void store64(guint8 *p, guint64 v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

/* Which 8-byte words of a record the delta transform changes, and the
 * bits of them that are an address. */
static unsigned delta_words(GmbeooRecordFormat format, guint64 *mask)
{
    switch (format) {
    case GMBEOO_FORMAT_COMPACT8:
        *mask = ~(guint64)0xff;
        return 1u << 0;
    case GMBEOO_FORMAT_EXTENDED32:
        *mask = ~(guint64)0;
        return 1u << 1 | 1u << 2 | 1u << 3;
    default:
        *mask = ~(guint64)0;
        return 1u << 1;
    }
}

static void delta_run(GmbeooRecordFormat format, guint8 *data, gsize len,
                      guint8 *state, bool encode)
{
    unsigned size = gmbeoo_format_size(format);
    guint64 mask;
    unsigned words = delta_words(format, &mask);
    for (unsigned w = 0; w < size / 8; w++) {
        if (!(words & 1u << w)) {
            continue;
        }
        guint64 prev = load64(state + 8 * w) & mask;
        guint8 *p = data + 8 * w;
        for (gsize n = len / size; n > 0; n--, p += size) {
            guint64 v = load64(p);
            if (encode) {
                store64(p, ((v & mask) - prev) | (v & ~mask));
                prev = v & mask;
            } else {
                prev = (v & mask) + prev;
                store64(p, (prev & mask) | (v & ~mask));
                prev &= mask;
            }
        }
        store64(state + 8 * w, prev);
    }
}

void trace_delta_encode(GmbeooRecordFormat format, guint8 *data, gsize len,
                        guint8 *state)
{
    delta_run(format, data, len, state, true);
}

void trace_delta_decode(GmbeooRecordFormat format, guint8 *data, gsize len,
                        guint8 *state)
{
    delta_run(format, data, len, state, false);
}

static void lz4_prefs(const TraceCodec *c, gsize len, LZ4F_preferences_t *p)
{
    memset(p, 0, sizeof(*p));
    p->frameInfo.blockSizeID = LZ4F_max4MB;
    p->frameInfo.blockMode = LZ4F_blockLinked;
    p->frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    p->frameInfo.contentSize = len;
    p->compressionLevel = c->level;
}

gsize trace_chunk_bound(const TraceCodec *c, gsize len)
{
    if (c->compressor == TRACE_COMPRESS_LZ4) {
        LZ4F_preferences_t p;
        lz4_prefs(c, len, &p);
        return LZ4F_compressFrameBound(len, &p);
    }
    return ZSTD_compressBound(len);
}

static void *zstd_ctx(const TraceCodec *c, int threads)
{
    ZSTD_CCtx *z = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel,
                           c->level ? c->level : 1);
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 1);
    if (threads > 0) {
        /* Fails harmlessly (one thread) with a libzstd built without. */
        ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, threads);
    }
    return z;
}

void trace_chunk_ctx_free(const TraceCodec *c, void *ctx)
{
    if (c->compressor == TRACE_COMPRESS_LZ4) {
        LZ4F_freeCompressionContext(ctx);
    } else {
        ZSTD_freeCCtx(ctx);
    }
}

static gsize chunk_compress(const TraceCodec *c, GmbeooRecordFormat format,
                            void **ctx, int threads, guint8 *data, gsize len,
                            guint8 *out, gsize cap, GError **err)
{
    if (c->transform == TRACE_TRANSFORM_DELTA) {
        guint8 state[32] = { 0 };
        trace_delta_encode(format, data, len, state);
    }
    if (c->compressor == TRACE_COMPRESS_LZ4) {
        if (!*ctx) {
            LZ4F_cctx *l;
            LZ4F_createCompressionContext(&l, LZ4F_VERSION);
            *ctx = l;
        }
        LZ4F_preferences_t p;
        lz4_prefs(c, len, &p);
        size_t n = LZ4F_compressBegin(*ctx, out, cap, &p), m = 0, e = 0;
        if (!LZ4F_isError(n)) {
            m = LZ4F_compressUpdate(*ctx, out + n, cap - n, data, len, NULL);
        }
        if (!LZ4F_isError(n) && !LZ4F_isError(m)) {
            e = LZ4F_compressEnd(*ctx, out + n + m, cap - n - m, NULL);
        }
        size_t bad = LZ4F_isError(n) ? n : LZ4F_isError(m) ? m : e;
        if (LZ4F_isError(bad)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "LZ4 compression failed: %s", LZ4F_getErrorName(bad));
            return 0;
        }
        return n + m + e;
    }
    if (!*ctx) {
        *ctx = zstd_ctx(c, threads);
    }
    size_t n = ZSTD_compress2(*ctx, out, cap, data, len);
    if (ZSTD_isError(n)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "zstd compression failed: %s", ZSTD_getErrorName(n));
        return 0;
    }
    return n;
}

gsize trace_chunk_compress(const TraceCodec *c, GmbeooRecordFormat format,
                           void **ctx, guint8 *data, gsize len, guint8 *out,
                           gsize cap, GError **err)
{
    return chunk_compress(c, format, ctx, 0, data, len, out, cap, err);
}

bool trace_chunk_decompress(const TraceCodec *c, GmbeooRecordFormat format,
                            const guint8 *in, gsize in_len, guint8 *out,
                            gsize out_len, GError **err)
{
    gsize got = 0;
    if (c->compressor == TRACE_COMPRESS_LZ4) {
        LZ4F_dctx *d;
        LZ4F_createDecompressionContext(&d, LZ4F_VERSION);
        size_t src = in_len, dst = out_len;
        size_t r = LZ4F_decompress(d, out, &dst, in, &src, NULL);
        LZ4F_freeDecompressionContext(d);
        if (LZ4F_isError(r)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "corrupted LZ4 data: %s", LZ4F_getErrorName(r));
            return false;
        }
        if (r != 0 || src != in_len) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "corrupted LZ4 chunk: its frame does not end where "
                        "the index says, or holds more than it says");
            return false;
        }
        got = dst;
    } else {
        size_t r = ZSTD_decompress(out, out_len, in, in_len);
        if (ZSTD_isError(r)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "corrupted zstd data: %s", ZSTD_getErrorName(r));
            return false;
        }
        got = r;
    }
    if (got != out_len) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "a chunk holds %" G_GSIZE_FORMAT " bytes, the index "
                    "says %" G_GSIZE_FORMAT, got, out_len);
        return false;
    }
    if (c->transform == TRACE_TRANSFORM_DELTA) {
        guint8 state[32] = { 0 };
        trace_delta_decode(format, out, out_len, state);
    }
    return true;
}

/* ---- the header ---- */

static void append_kv(GString *s, const char *key, const char *value)
{
    g_autofree char *esc = g_strescape(value ? value : "", "");
    g_string_append_printf(s, "%s=%s\n", key, esc);
}

GBytes *trace_header_encode(const TraceMeta *m)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    g_autofree char *chunk = g_strdup_printf("%" G_GUINT64_FORMAT,
                                             m->chunk_bytes);
    append_kv(text, "guest_image", m->guest_image);
    append_kv(text, "snapshot", m->snapshot);
    append_kv(text, "memory_tracer_version", m->memory_tracer_version);
    append_kv(text, "qemu_version", m->qemu_version);
    append_kv(text, "workload", m->workload);
    append_kv(text, "chunk_bytes", chunk);
    append_kv(text, "created", created);

    /* Plain zstd files keep layout 1, which readers before the codecs
     * read; the others say their codec (and old readers refuse them). */
    bool v1 = m->codec.compressor == TRACE_COMPRESS_ZSTD &&
              m->codec.transform == TRACE_TRANSFORM_NONE;
    unsigned fixed = v1 ? TRACE_HEADER_FIXED : TRACE_HEADER_FIXED_V2;
    GByteArray *b = g_byte_array_new();
    append_le32(b, TRACE_HEADER_MAGIC);
    append_le32(b, (guint32)(fixed + text->len));
    g_byte_array_append(b, (const guint8 *)TRACE_HEADER_ID, 8);
    append_le32(b, v1 ? TRACE_LAYOUT_VERSION : TRACE_LAYOUT_CODEC);
    append_le32(b, m->format);
    append_le32(b, gmbeoo_format_size(m->format));
    append_le32(b, m->block_len_log);
    append_le32(b, m->tracing_ratio_log);
    append_le32(b, m->cpl3_only ? TRACE_FLAG_CPL3_ONLY : 0);
    if (!v1) {
        append_le32(b, m->codec.compressor);
        append_le32(b, m->codec.transform);
    }
    g_byte_array_append(b, (const guint8 *)text->str, text->len);
    return g_byte_array_free_to_bytes(b);
}

static bool bad_header(GError **err, const char *why)
{
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "corrupted trace file header: %s", why);
    return false;
}

bool trace_header_decode(TraceMeta *m, const guint8 *p, gsize len,
                         GError **err)
{
    memset(m, 0, sizeof(*m));
    if (len < TRACE_HEADER_FIXED || memcmp(p, TRACE_HEADER_ID, 8) != 0) {
        return bad_header(err, "no \"" TRACE_HEADER_ID "\" at its start");
    }
    guint32 version = get_le32(p + 8);
    gsize fixed = version == TRACE_LAYOUT_CODEC ? TRACE_HEADER_FIXED_V2
                                                : TRACE_HEADER_FIXED;
    if (version != TRACE_LAYOUT_VERSION && version != TRACE_LAYOUT_CODEC) {
        return bad_header(err, "unknown layout version (a newer "
                          "memory_tracer wrote it?)");
    }
    if (len < fixed) {
        return bad_header(err, "too short for its layout version");
    }
    if (version == TRACE_LAYOUT_CODEC) {
        guint32 comp = get_le32(p + 32), transform = get_le32(p + 36);
        if (comp >= TRACE_COMPRESS__MAX || transform >= TRACE_TRANSFORM__MAX) {
            return bad_header(err, "unknown codec (a newer memory_tracer "
                              "wrote it?)");
        }
        m->codec.compressor = comp;
        m->codec.transform = transform;
    }
    guint32 format = get_le32(p + 12);
    if (format >= GMBEOO_FORMAT__MAX ||
        get_le32(p + 16) != gmbeoo_format_size(format)) {
        return bad_header(err, "unknown record format or size");
    }
    m->format = format;
    m->block_len_log = get_le32(p + 20);
    m->tracing_ratio_log = get_le32(p + 24);
    m->cpl3_only = (get_le32(p + 28) & TRACE_FLAG_CPL3_ONLY) != 0;
    if (!gmbeoo_sampling_valid(m->block_len_log, m->tracing_ratio_log)) {
        return bad_header(err, "sampling settings out of range");
    }
    g_autofree char *text = g_strndup((const char *)p + fixed, len - fixed);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (!eq) {
            continue;
        }
        *eq = '\0';
        char *value = g_strcompress(eq + 1);
        char **slot = !strcmp(*l, "guest_image") ? &m->guest_image
                      : !strcmp(*l, "snapshot") ? &m->snapshot
                      : !strcmp(*l, "memory_tracer_version")
                          ? &m->memory_tracer_version
                      : !strcmp(*l, "qemu_version") ? &m->qemu_version
                      : !strcmp(*l, "workload") ? &m->workload : NULL;
        if (slot) {
            g_free(*slot);
            *slot = value;
        } else {
            if (!strcmp(*l, "chunk_bytes")) {
                m->chunk_bytes = g_ascii_strtoull(value, NULL, 10);
            }
            g_free(value);
        }
    }
    return true;
}

/* ---- the writer ---- */

static bool write_failed(TraceWriter *w, int e, GError **err)
{
    g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                "cannot write the trace file %s: %s", w->path, g_strerror(e));
    return false;
}

static bool write_all(TraceWriter *w, const void *data, gsize len,
                      GError **err)
{
    const guint8 *p = data;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return write_failed(w, errno, err);
        }
        p += n;
        len -= (gsize)n;
        w->file_off += (guint64)n;
    }
    return true;
}

void trace_writer_abort(TraceWriter *w)
{
    if (!w) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp_path);
    }
    if (w->cctx) {
        trace_chunk_ctx_free(&w->codec, w->cctx);
    }
    g_free(w->chunk);
    g_free(w->out);
    g_array_free(w->index, TRUE);
    g_free(w->path);
    g_free(w->tmp_path);
    g_free(w);
}

TraceWriter *trace_writer_open(const char *path, const TraceMeta *m,
                               gsize chunk_bytes, int threads, GError **err)
{
    TraceWriter *w = g_new0(TraceWriter, 1);
    w->path = g_strdup(path);
    w->tmp_path = g_strdup_printf("%s.partial.XXXXXX", path);
    w->index = g_array_new(FALSE, FALSE, sizeof(ChunkEntry));
    w->record_size = gmbeoo_format_size(m->format);
    w->format = m->format;
    w->codec = m->codec;
    w->threads = threads;
    w->fd = g_mkstemp_full(w->tmp_path, O_WRONLY | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot create the trace file %s: %s", path,
                    g_strerror(e));
        trace_writer_abort(w);
        return NULL;
    }
    w->chunk_cap = MAX(chunk_bytes / w->record_size, 1) * w->record_size;
    w->chunk = g_malloc(w->chunk_cap);
    w->out_cap = trace_chunk_bound(&w->codec, w->chunk_cap);
    w->out = g_malloc(w->out_cap);

    TraceMeta copy = *m;
    copy.chunk_bytes = w->chunk_cap;
    g_autoptr(GBytes) header = trace_header_encode(&copy);
    gsize hlen;
    const void *hdata = g_bytes_get_data(header, &hlen);
    if (!write_all(w, hdata, hlen, err)) {
        trace_writer_abort(w);
        return NULL;
    }
    return w;
}

guint8 *trace_writer_space(TraceWriter *w, gsize *room)
{
    *room = w->chunk_cap - w->chunk_len;
    return w->chunk + w->chunk_len;
}

static bool flush_chunk(TraceWriter *w, gsize len, GError **err)
{
    if (len == 0) {
        return true;
    }
    /* A torn tail (only in the last chunk) stays as it is. */
    GError *why = NULL;
    gsize n = chunk_compress(&w->codec, w->format, &w->cctx, w->threads,
                             w->chunk, len, w->out, w->out_cap, &why);
    if (n == 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cannot compress the trace for %s: %s", w->path,
                    why->message);
        g_error_free(why);
        return false;
    }
    ChunkEntry e = {
        .offset = w->file_off,
        .compressed = n,
        .first_record = (w->stream_bytes - w->chunk_len) / w->record_size,
        .records = len / w->record_size,
    };
    if (!write_all(w, w->out, n, err)) {
        return false;
    }
    g_array_append_val(w->index, e);
    memmove(w->chunk, w->chunk + len, w->chunk_len - len);
    w->chunk_len -= len;
    return true;
}

bool trace_writer_commit(TraceWriter *w, gsize n, GError **err)
{
    g_assert(n <= w->chunk_cap - w->chunk_len);
    w->chunk_len += n;
    w->stream_bytes += n;
    return w->chunk_len < w->chunk_cap || flush_chunk(w, w->chunk_cap, err);
}

static bool sync_dir_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = fsync(fd) == 0 || errno == EINVAL;
    close(fd);
    return ok;
}

bool trace_writer_finish(TraceWriter *w, GError **err)
{
    /* The last chunk holds everything left, a torn last record included:
     * the file carries exactly the bytes the FIFO did. */
    if (!flush_chunk(w, w->chunk_len, err)) {
        trace_writer_abort(w);
        return false;
    }
    guint64 index_off = w->file_off;
    guint n = w->index->len;
    GByteArray *b = g_byte_array_new();
    append_le32(b, TRACE_INDEX_MAGIC);
    append_le32(b, TRACE_INDEX_FIXED + TRACE_INDEX_ENTRY * n);
    g_byte_array_append(b, (const guint8 *)TRACE_INDEX_ID, 8);
    append_le64(b, n);
    append_le64(b, w->stream_bytes / w->record_size);
    append_le64(b, w->stream_bytes);
    for (guint i = 0; i < n; i++) {
        ChunkEntry *e = &g_array_index(w->index, ChunkEntry, i);
        append_le64(b, e->offset);
        append_le64(b, e->compressed);
        append_le64(b, e->first_record);
        append_le64(b, e->records);
    }
    append_le32(b, TRACE_TRAILER_MAGIC);
    append_le32(b, 16);
    append_le64(b, index_off);
    g_byte_array_append(b, (const guint8 *)TRACE_TRAILER_ID, 8);
    bool ok = write_all(w, b->data, b->len, err);
    g_byte_array_free(b, TRUE);
    if (ok && fsync(w->fd) != 0) {
        ok = write_failed(w, errno, err);
    }
    if (ok) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0) {
            int e = errno;
            unlink(w->tmp_path);
            ok = write_failed(w, e, err);
        } else if (rename(w->tmp_path, w->path) != 0) {
            int e = errno;
            unlink(w->tmp_path);
            ok = write_failed(w, e, err);
        } else {
            sync_dir_of(w->path);
        }
    }
    trace_writer_abort(w);
    return ok;
}

void trace_writer_totals(const TraceWriter *w, guint64 *in, guint64 *out)
{
    *in = w->stream_bytes;
    *out = w->file_off;
}
