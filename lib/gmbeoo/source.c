/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's sources: the one reader loop for GMBEOO record streams
 * (include/gmbeoo/gmbeoo.h), and the batches it hands out.
 *
 * The source is detected from its first bytes, whatever it is (a FIFO, a
 * pipe, a regular file):
 *   - a trace file (lib/trace_file.h, whose API parses its header and
 *     undoes its codec's transform): the header frame gives the record
 *     format, the codec and the run's metadata; the rest is decompressed
 *     (zstd or LZ4) as it is read, and a delta codec's address deltas are
 *     undone by trace_delta_decode() record by record;
 *   - any other zstd or LZ4 stream (e.g. `zstd` or `lz4` run on a raw
 *     stream): decompressed, the format is the caller's;
 *   - anything else: raw records of the caller's format.
 *
 * Invariant: `in[in_pos, in_len)` holds bytes read but not yet used
 * (undetected start, compressed input the decoder has not taken, or raw
 * records not handed out yet and the bytes of an incomplete one);
 * `out[out_pos, out_len)` holds decompressed records not handed out yet
 * and the bytes of an incomplete one.  With a delta codec, the whole
 * records of `out` are undone as soon as they are decoded (`out_undone`:
 * how far), the record before kept in `delta` (zero at each frame's
 * start).  A batch is taken from the front of one of them; both are
 * compacted only when more must be read, so a batch's raw pointer stays
 * valid until the next call.
 */
#include "gmbeoo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK (1u << 20)
#define DETECT_BYTES 16     /* magic, size and the header's ID */

/* ---- errors ---- */

static _Thread_local char errbuf[1024];

const char *gmbeoo_errmsg(void)
{
    return errbuf;
}

void gmbeoo_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
}

unsigned gmbeoo_version(void)
{
    return GMBEOO_VERSION_NUMBER;
}

int gmbeoo_source_fail(GmbeooSource *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    gmbeoo_set_error("%s: %s", src->name, why);
    return STEP_ERROR;
}

int gmbeoo_format_resolve(const char *name)
{
    const char *from = NULL;
    if (!name || !*name) {
        name = getenv("GMBEOO_RECORD_FORMAT");
        from = "GMBEOO_RECORD_FORMAT";
    }
    if (!name || !*name) {
        return GMBEOO_FORMAT_GMBEOO16;
    }
    int f = gmbeoo_format_from_name(name);
    if (f < 0) {
        gmbeoo_set_error("%s%sunknown record format '%s' (gmbeoo16, compact8 "
                         "or extended32)", from ? from : "", from ? ": " : "",
                         name);
        errno = EINVAL;
    }
    return f;
}

/* ---- opening ---- */

static void meta_unknown(GmbeooSource *src)
{
    GmbeooMeta *m = &src->meta;
    m->format = src->format;
    m->format_known = 0;
    m->log_of_GMBE_block_len = -1;
    m->log_of_GMBE_tracing_ratio = -1;
    m->trace_only_CPL3_code_GMBE = -1;
    m->vcpus = -1;
    m->info = (const char *const *)src->info;
}

GmbeooSource *gmbeoo_source_new(int fd, int format, unsigned flags,
                                const char *name)
{
    if (format == GMBEOO_FORMAT_AUTO) {
        format = gmbeoo_format_resolve(NULL);
    } else if (format < 0 || format >= GMBEOO_FORMAT__MAX) {
        gmbeoo_set_error("record format %d: no such format", format);
        format = -1;
        errno = EINVAL;
    }
    if (format < 0) {
        if (flags & GMBEOO_OPEN_OWN_FD) {
            close(fd);
        }
        return NULL;
    }
    GmbeooSource *src = g_new0(GmbeooSource, 1);
    struct stat st;
    src->fd = fd;
    src->own_fd = (flags & GMBEOO_OPEN_OWN_FD) != 0;
    src->is_fifo = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
    src->name = name ? g_strdup(name) : g_strdup_printf("fd %d", fd);
    src->format = (GmbeooRecordFormat)format;
    src->record_size = gmbeoo_format_size(src->format);
    src->in_cap = READ_BLOCK + TRACE_HEADER_MAX;
    src->in = g_malloc(src->in_cap);
    src->sigfd = -1;
    src->rings_fd = -1;
    src->info = g_new0(char *, 1);
    meta_unknown(src);
    return src;
}

GmbeooSource *gmbeoo_open_fd(int fd, int format, unsigned flags,
                             const char *name)
{
    if (fd < 0) {
        gmbeoo_set_error("gmbeoo_open_fd: descriptor %d", fd);
        errno = EBADF;
        return NULL;
    }
    return gmbeoo_source_new(fd, format, flags, name);
}

GmbeooSource *gmbeoo_open(const char *path, int format)
{
    if (strcmp(path, "-") == 0) {
        return gmbeoo_source_new(STDIN_FILENO, format, 0, "stdin");
    }
    if (format != GMBEOO_FORMAT_AUTO && gmbeoo_format_size(format) == 0) {
        return gmbeoo_source_new(-1, format, 0, path);  /* says why */
    }
    if (format == GMBEOO_FORMAT_AUTO && gmbeoo_format_resolve(NULL) < 0) {
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        gmbeoo_set_error("cannot read %s: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    return gmbeoo_source_new(fd, format, GMBEOO_OPEN_OWN_FD, path);
}

void gmbeoo_close(GmbeooSource *src)
{
    if (!src) {
        return;
    }
    if (src->own_fd && src->fd >= 0) {
        close(src->fd);
    }
    if (src->sigfd >= 0) {
        close(src->sigfd);
    }
    gmbeoo_rings_detach(src);
    ZSTD_freeDCtx(src->dctx);
    LZ4F_freeDecompressionContext(src->lz4);
    trace_meta_clear(&src->tmeta);
    g_strfreev(src->info);
    g_free(src->in);
    g_free(src->out);
    g_free(src->name);
    g_free(src);
}

int gmbeoo_fd(const GmbeooSource *src)
{
    return src->fd;
}

GmbeooSourceKind gmbeoo_kind(const GmbeooSource *src)
{
    return src->kind;
}

const char *gmbeoo_kind_name(const GmbeooSource *src)
{
    switch (src->kind) {
    case GMBEOO_SOURCE_RAW:
        return src->is_fifo ? "raw record stream (FIFO or pipe)"
                            : "raw record stream";
    case GMBEOO_SOURCE_TRACE_FILE:
        return "trace file";
    case GMBEOO_SOURCE_ZSTD:
        return "zstd-compressed record stream";
    case GMBEOO_SOURCE_LZ4:
        return "LZ4-compressed record stream";
    case GMBEOO_SOURCE_RINGS:
        return "shared rings";
    default:
        return "unknown";
    }
}

const GmbeooMeta *gmbeoo_meta(GmbeooSource *src)
{
    return &src->meta;
}

/* ---- the reader loop ---- */

static guint32 le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 |
           (guint32)p[3] << 24;
}

static void start_decoder(GmbeooSource *src, TraceCompressor compressor)
{
    if (compressor == TRACE_COMPRESS_LZ4) {
        LZ4F_createDecompressionContext(&src->lz4, LZ4F_VERSION);
    } else {
        src->dctx = ZSTD_createDCtx();
    }
    src->out_cap = ZSTD_DStreamOutSize() * 8;
    src->out = g_malloc(src->out_cap);
}

/* The trace file's header, through lib/trace_file.h's parser. */
static int take_header(GmbeooSource *src, const guint8 *payload, guint32 size)
{
    g_autoptr(GError) e = NULL;
    if (!trace_header_decode(&src->tmeta, payload, size, &e)) {
        return gmbeoo_source_fail(src, "%s", e->message);
    }
    const TraceMeta *t = &src->tmeta;
    GmbeooMeta *m = &src->meta;
    src->format = t->format;
    src->record_size = gmbeoo_format_size(src->format);
    m->format = t->format;
    m->format_known = 1;
    m->log_of_GMBE_block_len = (int)t->block_len_log;
    m->log_of_GMBE_tracing_ratio = (int)t->tracing_ratio_log;
    m->trace_only_CPL3_code_GMBE = t->cpl3_only;
    m->workload = t->workload;
    m->guest_image = t->guest_image;
    m->snapshot = t->snapshot;
    m->memory_tracer_version = t->memory_tracer_version;
    m->qemu_version = t->qemu_version;
    return STEP_OK;
}

/*
 * Decide what the source is from `in` (nothing of it used yet).  Leaves
 * kind UNKNOWN while it needs more bytes.
 */
static int detect(GmbeooSource *src)
{
    gsize len = src->in_len;
    if (len < 4 && !src->eof) {
        return STEP_OK;
    }
    guint32 magic = len >= 4 ? le32(src->in) : 0;
    if (magic == TRACE_HEADER_MAGIC) {
        if (len < DETECT_BYTES && !src->eof) {
            return STEP_OK;
        }
        if (len >= DETECT_BYTES &&
            memcmp(src->in + 8, TRACE_HEADER_ID, 8) == 0) {
            guint32 size = le32(src->in + 4);
            if (size > TRACE_HEADER_MAX) {
                return gmbeoo_source_fail(src, "corrupted trace file header: its size %u "
                            "is too large", size);
            }
            if (len < 8 + (gsize)size) {
                if (src->eof) {
                    return gmbeoo_source_fail(src, "corrupted trace file header: the file "
                                "ends inside it");
                }
                return STEP_OK;
            }
            if (take_header(src, src->in + 8, size) != STEP_OK) {
                return STEP_ERROR;
            }
            src->in_pos = 8 + size;
            src->kind = GMBEOO_SOURCE_TRACE_FILE;
            src->transform = src->tmeta.codec.transform;
            start_decoder(src, src->tmeta.codec.compressor);
            return STEP_OK;
        }
    }
    if (magic == TRACE_ZSTD_MAGIC ||
        (magic >= TRACE_SKIPPABLE_MAGIC_MIN &&
         magic <= TRACE_SKIPPABLE_MAGIC_MAX)) {
        src->kind = GMBEOO_SOURCE_ZSTD;
        start_decoder(src, TRACE_COMPRESS_ZSTD);
    } else if (magic == TRACE_LZ4_MAGIC) {
        src->kind = GMBEOO_SOURCE_LZ4;
        start_decoder(src, TRACE_COMPRESS_LZ4);
    } else {
        src->kind = GMBEOO_SOURCE_RAW;
    }
    return STEP_OK;
}

/* Whole records ready at the front: *p, and how many. */
static gsize ready(const GmbeooSource *src, const guint8 **p)
{
    if (src->kind == GMBEOO_SOURCE_RAW) {
        *p = src->in + src->in_pos;
        return (src->in_len - src->in_pos) / src->record_size;
    }
    if (src->kind == GMBEOO_SOURCE_UNKNOWN) {
        return 0;
    }
    *p = src->out + src->out_pos;
    return (src->out_len - src->out_pos) / src->record_size;
}

static void compact(guint8 *buf, gsize *pos, gsize *len)
{
    if (*pos) {
        memmove(buf, buf + *pos, *len - *pos);
        *len -= *pos;
        *pos = 0;
    }
}

/*
 * One decoder step from `in` into `out`: *@hint is the decoder's (0: at a
 * frame boundary), *@stepped whether input was taken or output made.
 */
static int decode_step(GmbeooSource *src, size_t *hint, bool *stepped)
{
    gsize in_before = src->in_pos, out_before = src->out_len;
    if (src->lz4) {
        size_t n_in = src->in_len - src->in_pos;
        size_t n_out = src->out_cap - src->out_len;
        size_t r = LZ4F_decompress(src->lz4, src->out + src->out_len, &n_out,
                                   src->in + src->in_pos, &n_in, NULL);
        if (LZ4F_isError(r)) {
            return gmbeoo_source_fail(src, "corrupted LZ4 data: %s", LZ4F_getErrorName(r));
        }
        src->in_pos += n_in;
        src->out_len += n_out;
        *hint = r;
    } else {
        ZSTD_inBuffer zin = { src->in, src->in_len, src->in_pos };
        ZSTD_outBuffer zout = { src->out, src->out_cap, src->out_len };
        size_t r = ZSTD_decompressStream(src->dctx, &zout, &zin);
        if (ZSTD_isError(r)) {
            return gmbeoo_source_fail(src, "corrupted zstd data: %s", ZSTD_getErrorName(r));
        }
        src->in_pos = zin.pos;
        src->out_len = zout.pos;
        *hint = r;
    }
    *stepped = src->in_pos != in_before || src->out_len != out_before;
    return STEP_OK;
}

/*
 * A delta codec: undo the whole records decoded since the last call; at a
 * frame's end (@frame_end) the next frame's deltas start from zero (chunks
 * hold whole records; a torn last record is stored as it is).
 */
static void undo_deltas(GmbeooSource *src, bool frame_end)
{
    if (src->transform != TRACE_TRANSFORM_DELTA) {
        return;
    }
    gsize whole = (src->out_len - src->out_undone) / src->record_size *
                  src->record_size;
    trace_delta_decode(src->format, src->out + src->out_undone, whole,
                       src->delta);
    src->out_undone += whole;
    if (frame_end) {
        memset(src->delta, 0, sizeof(src->delta));
        src->out_undone = src->out_len;
    }
}

/* Decompress what `in` holds into `out`, as far as `out` has room. */
static int decompress(GmbeooSource *src, bool *progress)
{
    if (src->transform == TRACE_TRANSFORM_DELTA) {
        src->out_undone -= src->out_pos;
    }
    compact(src->out, &src->out_pos, &src->out_len);
    while ((src->in_pos < src->in_len || src->zstd_more) &&
           src->out_len < src->out_cap) {
        size_t hint = 1;
        bool stepped = false;
        if (decode_step(src, &hint, &stepped) != STEP_OK) {
            return STEP_ERROR;
        }
        /* Output filled: the decoder may hold more without more input. */
        src->zstd_more = src->out_len == src->out_cap;
        src->zstd_hint = hint;
        undo_deltas(src, hint == 0);
        *progress = *progress || stepped;
        if (!stepped && !src->zstd_more) {
            break;          /* the decoder needs more input */
        }
    }
    return STEP_OK;
}

/* One read() into `in`; EOF sets `eof`. */
static int read_block(GmbeooSource *src)
{
    compact(src->in, &src->in_pos, &src->in_len);
    if (src->in_cap - src->in_len < READ_BLOCK) {
        src->in_cap = src->in_len + READ_BLOCK;
        src->in = g_realloc(src->in, src->in_cap);
    }
    ssize_t n = read(src->fd, src->in + src->in_len, READ_BLOCK);
    if (n > 0) {
        src->in_len += (gsize)n;
        return STEP_OK;
    }
    if (n == 0) {
        src->eof = true;
        src->stats.eof = 1;
        return STEP_OK;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        return STEP_AGAIN;
    }
    int e = errno;
    gmbeoo_set_error("cannot read %s: %s", src->name, strerror(e));
    errno = e;
    return STEP_ERROR;
}

/*
 * Make progress towards a whole record at the front: decompress what is
 * held, else read.  STEP_EOF once nothing more can come.
 */
int gmbeoo_source_step(GmbeooSource *src)
{
    if (src->kind == GMBEOO_SOURCE_UNKNOWN) {
        /* Read, then look: at EOF detection always decides. */
        if (!src->eof) {
            int r = read_block(src);
            if (r != STEP_OK) {
                return r;
            }
        }
        return detect(src);
    }
    if (src->kind != GMBEOO_SOURCE_RAW &&
        (src->in_pos < src->in_len || src->zstd_more)) {
        bool progress = false;
        if (decompress(src, &progress) != STEP_OK) {
            return STEP_ERROR;
        }
        if (progress) {
            return STEP_OK;
        }
    }
    if (src->eof) {
        if (src->kind != GMBEOO_SOURCE_RAW && src->zstd_hint != 0) {
            return gmbeoo_source_fail(src, "truncated %s data (the stream ends inside "
                        "a frame)", src->lz4 ? "LZ4" : "zstd");
        }
        return STEP_EOF;
    }
    return read_block(src);
}

/* ---- batches ---- */

/*
 * The common case, a batch without drop markers, in one pass with no branch
 * per record (each record goes to index i whatever it is), through restrict
 * pointers: the arrays are bytes, which may alias anything, so without them
 * every store makes the compiler load the array pointers again.  Returns
 * false if the batch holds a marker: then gmbeoo_source_decode() takes the
 * markers out.  On the dense loop's records this pass took half the time
 * of a record-by-record one.
 *
 * It prefetches PREFETCH_AHEAD bytes ahead, a line at a time: the shared
 * rings' records were written by a vCPU on another core, and the hardware
 * prefetchers stop at each 4 KiB page.  dense_rmw over the shared rings, a
 * decode-and-classify tool (bench/classify.c), 7 interleaved runs each:
 * median 784 ms against 872 without (4096 bytes ahead: no clear gain).
 */
#define PREFETCH_AHEAD 2048
#define PREFETCH(p, i, size) \
    do { \
        if (((i) & (64 / (size) - 1)) == 0) { \
            __builtin_prefetch((p) + (i) * (size) + PREFETCH_AHEAD); \
        } \
    } while (0)

static bool decode_plain(GmbeooRecordFormat f, const guint8 *restrict p,
                         gsize n, uint8_t *restrict info,
                         uint8_t *restrict vcpu, uint64_t *restrict vaddr,
                         uint64_t *restrict paddr, uint64_t *restrict pc,
                         uint64_t *restrict cr3)
{
    uint64_t valid = GMBEOO_VALID;
    bool marker = false;

    switch (f) {
    case GMBEOO_FORMAT_COMPACT8:
        for (gsize i = 0; i < n; i++) {
            uint64_t w = gmbeoo_le64(p + 8 * i);
            PREFETCH(p, i, 8);
            marker |= (uint8_t)w == GMBEOO_DROP_MARKER_INFO;
            info[i] = (uint8_t)w;
            vaddr[i] = gmbeoo_compact8_vaddr(w);
        }
        return !marker;
    case GMBEOO_FORMAT_EXTENDED32:
        for (gsize i = 0; i < n; i++) {
            const guint8 *r = p + 32 * i;
            uint64_t w = gmbeoo_le64(r);
            PREFETCH(p, i, 32);
            valid &= w;
            info[i] = (uint8_t)w;
            vcpu[i] = (uint8_t)gmbeoo_ext_vcpu(w);
            cr3[i] = gmbeoo_ext_cr3(w);
            vaddr[i] = gmbeoo_le64(r + 8);
            paddr[i] = gmbeoo_le64(r + 16);
            pc[i] = gmbeoo_le64(r + 24);
        }
        return valid != 0;
    default:
        for (gsize i = 0; i < n; i++) {
            uint64_t w = gmbeoo_le64(p + 16 * i);
            PREFETCH(p, i, 16);
            valid &= w;
            info[i] = (uint8_t)w;
            vcpu[i] = (uint8_t)gmbeoo_vcpu(w);
            vaddr[i] = gmbeoo_le64(p + 16 * i + 8);
        }
        return valid != 0;
    }
}

/* Decode @n records at @p into the batch arrays. */
void gmbeoo_source_decode(GmbeooSource *src, const guint8 *p, gsize n,
                          GmbeooBatch *b)
{
    gsize k = 0, nd = 0;
    guint64 first = src->stats.records;
    GmbeooDrop *d = src->b_drops;

    if (decode_plain(src->format, p, n, src->b_info, src->b_vcpu,
                     src->b_vaddr, src->b_paddr, src->b_pc, src->b_cr3)) {
        k = n;
    } else {
        /* Drop markers: take them out of the arrays decode_plain() filled
         * (a marker's count is its vaddr field, its vCPU its vcpu). */
        bool c8 = src->format == GMBEOO_FORMAT_COMPACT8;
        bool ext = src->format == GMBEOO_FORMAT_EXTENDED32;
        for (gsize i = 0; i < n; i++) {
            uint64_t w = gmbeoo_le64(p + (gsize)src->record_size * i);
            if (c8 ? (uint8_t)w == GMBEOO_DROP_MARKER_INFO
                   : !gmbeoo_is_valid(w)) {
                d[nd++] = (GmbeooDrop){ first + i, src->b_vaddr[i], k,
                                        c8 ? 0 : src->b_vcpu[i] };
                continue;
            }
            src->b_info[k] = src->b_info[i];
            src->b_vaddr[k] = src->b_vaddr[i];
            src->b_vcpu[k] = src->b_vcpu[i];
            if (ext) {
                src->b_paddr[k] = src->b_paddr[i];
                src->b_pc[k] = src->b_pc[i];
                src->b_cr3[k] = src->b_cr3[i];
            }
            k++;
        }
    }
    bool ext = src->format == GMBEOO_FORMAT_EXTENDED32;
    *b = (GmbeooBatch){
        .count = k,
        .info = src->b_info,
        .vaddr = src->b_vaddr,
        .vcpu = src->format == GMBEOO_FORMAT_COMPACT8 ? NULL : src->b_vcpu,
        .paddr = ext ? src->b_paddr : NULL,
        .pc = ext ? src->b_pc : NULL,
        .cr3 = ext ? src->b_cr3 : NULL,
        .ndrops = nd,
        .drops = d,
        .format = src->format,
        .record_size = src->record_size,
        .raw = p,
        .first_index = first,
    };
    src->stats.records += n;
    src->stats.accesses += k;
    src->stats.drops += nd;
    for (gsize i = 0; i < nd; i++) {
        src->stats.dropped += d[i].dropped;
    }
}

/* Hand out the next batch if whole records are ready. */
bool gmbeoo_source_take(GmbeooSource *src, GmbeooBatch *b)
{
    const guint8 *p;
    gsize n = ready(src, &p);
    if (n == 0) {
        return false;
    }
    n = MIN(n, (gsize)GMBEOO_BATCH_MAX);
    gmbeoo_source_decode(src, p, n, b);
    if (src->kind == GMBEOO_SOURCE_RAW) {
        src->in_pos += n * src->record_size;
    } else {
        src->out_pos += n * src->record_size;
    }
    return true;
}

int gmbeoo_source_end(GmbeooSource *src, int step)
{
    if (step == STEP_EOF || step == STEP_ERROR) {
        src->done = true;
        src->result = step == STEP_EOF ? GMBEOO_END : GMBEOO_ERROR;
        if (step == STEP_ERROR) {
            src->stats.error = 1;
        }
    }
    return src->result;
}

int gmbeoo_next(GmbeooSource *src, GmbeooBatch *batch)
{
    if (src->kind == GMBEOO_SOURCE_RINGS) {
        return gmbeoo_rings_next(src, batch);
    }
    if (src->tool) {
        return gmbeoo_tool_next(src, batch);
    }
    for (;;) {
        /* Records detection or the last read left count even after
         * the end. */
        if (gmbeoo_source_take(src, batch)) {
            return GMBEOO_BATCH;
        }
        if (src->done) {
            return src->result;
        }
        int r = gmbeoo_source_step(src);
        if (r == STEP_AGAIN) {
            return GMBEOO_AGAIN;
        }
        gmbeoo_source_end(src, r);
    }
}

void gmbeoo_stats(const GmbeooSource *src, GmbeooStats *stats)
{
    *stats = src->stats;
    if (src->kind == GMBEOO_SOURCE_RINGS) {
        stats->partial_bytes = 0;       /* records never straddle */
        return;
    }
    gsize held = src->kind == GMBEOO_SOURCE_RAW ||
                 src->kind == GMBEOO_SOURCE_UNKNOWN
                 ? src->in_len - src->in_pos : src->out_len - src->out_pos;
    stats->partial_bytes = src->kind == GMBEOO_SOURCE_UNKNOWN
                           ? held : held % src->record_size;
}
