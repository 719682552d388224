/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trace files: header encoding and the chunked zstd writer (layout in
 * trace_file.h).  The writer keeps one chunk of records and its compressed
 * image in memory, so its memory is bounded whatever the trace's length.
 */
#include "trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

typedef struct ChunkEntry {
    guint64 offset, compressed, first_record, records;
} ChunkEntry;

struct TraceWriter {
    char *path;                 /* the final name */
    char *tmp_path;             /* where it is written until finished */
    int fd;
    ZSTD_CCtx *cctx;
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

    GByteArray *b = g_byte_array_new();
    append_le32(b, TRACE_HEADER_MAGIC);
    append_le32(b, (guint32)(TRACE_HEADER_FIXED + text->len));
    g_byte_array_append(b, (const guint8 *)TRACE_HEADER_ID, 8);
    append_le32(b, TRACE_LAYOUT_VERSION);
    append_le32(b, m->format);
    append_le32(b, gmbeoo_format_size(m->format));
    append_le32(b, m->block_len_log);
    append_le32(b, m->tracing_ratio_log);
    append_le32(b, m->cpl3_only ? TRACE_FLAG_CPL3_ONLY : 0);
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
    if (get_le32(p + 8) != TRACE_LAYOUT_VERSION) {
        return bad_header(err, "unknown layout version");
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
    g_autofree char *text = g_strndup((const char *)p + TRACE_HEADER_FIXED,
                                      len - TRACE_HEADER_FIXED);
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
    ZSTD_freeCCtx(w->cctx);
    g_free(w->chunk);
    g_free(w->out);
    g_array_free(w->index, TRUE);
    g_free(w->path);
    g_free(w->tmp_path);
    g_free(w);
}

TraceWriter *trace_writer_open(const char *path, const TraceMeta *m,
                               gsize chunk_bytes, int level, int threads,
                               GError **err)
{
    TraceWriter *w = g_new0(TraceWriter, 1);
    w->path = g_strdup(path);
    w->tmp_path = g_strdup_printf("%s.partial.XXXXXX", path);
    w->index = g_array_new(FALSE, FALSE, sizeof(ChunkEntry));
    w->record_size = gmbeoo_format_size(m->format);
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
    w->out_cap = ZSTD_compressBound(w->chunk_cap);
    w->out = g_malloc(w->out_cap);
    w->cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level ? level : 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    if (threads > 0) {
        /* Fails harmlessly (one thread) with a libzstd built without. */
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, threads);
    }

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
    size_t n = ZSTD_compress2(w->cctx, w->out, w->out_cap, w->chunk, len);
    if (ZSTD_isError(n)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cannot compress the trace for %s: %s", w->path,
                    ZSTD_getErrorName(n));
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
