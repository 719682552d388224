/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of libgmbeoo (include/gmbeoo/gmbeoo.h) and lib/trace_file.c:
 * every kind of source (pipe, raw file, trace file of every codec, zstd
 * and LZ4 stream, stdin), records split across reads, batches of the three
 * formats, drop markers, format detection, trace files of every codec
 * written and read back (several chunks, index and trailer, deltas undone
 * across refills), codec names, corrupted and truncated input, and the
 * analysis-tool contract (gmbeoo_tool_start/report with SIGUSR1, EOF and
 * SIGTERM) in a child process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lz4frame.h>
#include <zstd.h>

#include "check.h"
#include "gmbeoo/gmbeoo.h"
#include "trace_file.h"

typedef struct Collected {
    GByteArray *bytes;
    guint64 next_index;
    bool indexes_ok;
    unsigned blocks;
    gsize stop_after;           /* records; 0: never stop */
} Collected;

/* Append a batch's records as they came; check what a batch says. */
static bool collect(Collected *c, const GmbeooBatch *b)
{
    c->blocks++;
    if (b->first_index != c->next_index || b->count + b->ndrops == 0 ||
        b->count + b->ndrops > 4096) {
        c->indexes_ok = false;
    }
    c->next_index += b->count + b->ndrops;
    g_byte_array_append(c->bytes, b->raw,
                        (guint)((b->count + b->ndrops) * b->record_size));
    return !c->stop_after || c->next_index < c->stop_after;
}

static void collected_init(Collected *c)
{
    memset(c, 0, sizeof(*c));
    c->bytes = g_byte_array_new();
    c->indexes_ok = true;
}

/* Read @src to its end into @c: the last gmbeoo_next() result. */
static int collect_all(GmbeooSource *src, Collected *c)
{
    GmbeooBatch b;
    int r;
    while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        collect(c, &b);
    }
    return r;
}

/* A stream of @n records of format @f with recognisable contents. */
static GByteArray *make_stream(GmbeooRecordFormat f, unsigned n)
{
    GByteArray *s = g_byte_array_new();
    for (unsigned i = 0; i < n; i++) {
        guint8 rec[GMBEOO_MAX_RECORD_SIZE] = { 0 };
        uint8_t info = gmbeoo_info(i % 4, false, false, i % 3 == 0, 3);
        uint64_t vaddr = 0x7ffd00000000ull + 8ull * i;
        uint64_t w[4] = { gmbeoo_word0(info), vaddr, 0x1000ull * i, 0x401000 + i };
        if (f == GMBEOO_FORMAT_COMPACT8) {
            w[0] = gmbeoo_compact8_word(vaddr, info);
        } else if (f == GMBEOO_FORMAT_EXTENDED32) {
            w[0] = gmbeoo_ext_word0(info, i % 2, 0x12345000);
        }
        for (unsigned k = 0; k < gmbeoo_format_size(f) / 8; k++) {
            for (int b = 0; b < 8; b++) {
                rec[8 * k + b] = (guint8)(w[k] >> (8 * b));
            }
        }
        g_byte_array_append(s, rec, gmbeoo_format_size(f));
    }
    return s;
}

/* Feed @data through a pipe in pieces of the given sizes, reading the
 * non-blocking read end after each piece until it says GMBEOO_AGAIN. */
static bool feed_in_pieces(GmbeooSource **srcp, GmbeooRecordFormat f,
                           const guint8 *data, gsize len, const gsize *pieces,
                           int npieces, Collected *c)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        return false;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *srcp = gmbeoo_open_fd(p[0], f, GMBEOO_OPEN_OWN_FD, "pipe");
    gsize off = 0;
    GmbeooBatch b;
    int r;
    for (int i = 0; off < len; i = (i + 1) % npieces) {
        gsize n = MIN(pieces[i], len - off);
        if (write(p[1], data + off, n) != (ssize_t)n) {
            close(p[1]);
            return false;
        }
        off += n;
        while ((r = gmbeoo_next(*srcp, &b)) == GMBEOO_BATCH) {
            collect(c, &b);
        }
        if (r != GMBEOO_AGAIN) {
            close(p[1]);
            return false;
        }
    }
    close(p[1]);
    return collect_all(*srcp, c) == GMBEOO_END;
}

static void test_split_reads(GmbeooRecordFormat f)
{
    static const gsize pieces[] = { 1, 7, 3, 16, 33, 2, 100, 5 };
    g_autoptr(GByteArray) s = make_stream(f, 500);
    Collected c;
    collected_init(&c);
    GmbeooSource *src = NULL;
    g_autofree char *name = g_strdup_printf("split_reads_%s",
                                            gmbeoo_format_name(f));
    bool ok = feed_in_pieces(&src, f, s->data, s->len, pieces,
                             G_N_ELEMENTS(pieces), &c);
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    CHECK(name, ok && c.bytes->len == s->len &&
          memcmp(c.bytes->data, s->data, s->len) == 0 && c.indexes_ok &&
          st.records == 500 && st.accesses == 500 && st.eof &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_RAW &&
          !strcmp(gmbeoo_kind_name(src), "raw record stream (FIFO or pipe)") &&
          st.partial_bytes == 0);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
}

static void test_torn_tail(void)
{
    static const gsize pieces[] = { 5 };
    g_autoptr(GByteArray) s = make_stream(GMBEOO_FORMAT_GMBEOO16, 10);
    Collected c;
    collected_init(&c);
    GmbeooSource *src = NULL;
    bool ok = feed_in_pieces(&src, GMBEOO_FORMAT_GMBEOO16, s->data,
                             s->len - 3, pieces, 1, &c);
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    CHECK("torn_last_record_kept_back", ok && c.next_index == 9 &&
          st.partial_bytes == 13 && st.eof && !st.error);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
}

static void test_decode_formats(void)
{
    for (int f = 0; f < GMBEOO_FORMAT__MAX; f++) {
        g_autoptr(GByteArray) s = make_stream(f, 3);
        GmbeooAccess a;
        unsigned sz = gmbeoo_format_size(f);
        gmbeoo_decode_any(&a, f, s->data + 2 * sz);
        g_autofree char *name = g_strdup_printf("decode_%s",
                                                gmbeoo_format_name(f));
        bool ext = f == GMBEOO_FORMAT_EXTENDED32;
        CHECK(name, a.valid && a.vaddr == 0x7ffd00000010ull &&
              gmbeoo_size_bytes(a.info) == 4 && !gmbeoo_is_store(a.info) &&
              gmbeoo_cpl(a.info) == 3 &&
              a.paddr == (ext ? 0x2000ull : GMBEOO_NO_PADDR) &&
              a.pc == (ext ? 0x401002ull : 0) &&
              a.cr3 == (ext ? 0x12345000ull : 0) && a.vcpu == (ext ? 0 : 0));
    }
}

static void test_drop_markers(void)
{
    guint8 g16[16] = { 0 }, c8[8] = { 0 }, e32[32] = { 0 };
    GmbeooAccess a;
    g16[8] = 42;                            /* valid bit clear, count 42 */
    gmbeoo_decode_any(&a, GMBEOO_FORMAT_GMBEOO16, g16);
    CHECK("drop_marker_gmbeoo16", !a.valid && a.dropped == 42);
    uint64_t w = gmbeoo_compact8_word(1000, GMBEOO_DROP_MARKER_INFO);
    for (int i = 0; i < 8; i++) {
        c8[i] = (guint8)(w >> (8 * i));
    }
    gmbeoo_decode_any(&a, GMBEOO_FORMAT_COMPACT8, c8);
    CHECK("drop_marker_compact8", !a.valid && a.dropped == 1000);
    e32[8] = 7;
    gmbeoo_decode_any(&a, GMBEOO_FORMAT_EXTENDED32, e32);
    CHECK("drop_marker_extended32", !a.valid && a.dropped == 7);
}

static char *tmp_dir;

/* Write @s as a trace file with small chunks; returns its path. */
static int writer_threads;
static TraceCodec writer_codec;     /* zstd: layout version 1 */

static char *write_trace(const char *name, GmbeooRecordFormat f,
                         GByteArray *s, gsize chunk, GError **err)
{
    char *path = g_build_filename(tmp_dir, name, NULL);
    TraceMeta m = {
        .format = f, .block_len_log = 3, .tracing_ratio_log = 4,
        .cpl3_only = true, .guest_image = "img.qcow2", .snapshot = "snap",
        .memory_tracer_version = "test", .qemu_version = "7.2",
        .workload = "work\nload", .codec = writer_codec,
    };
    TraceWriter *w = trace_writer_open(path, &m, chunk, writer_threads,
                                       err);
    if (!w) {
        g_free(path);
        return NULL;
    }
    gsize off = 0;
    while (off < s->len) {
        gsize room;
        guint8 *p = trace_writer_space(w, &room);
        gsize n = MIN(MIN(room, s->len - off), 1000);   /* odd pieces */
        memcpy(p, s->data + off, n);
        off += n;
        if (!trace_writer_commit(w, n, err)) {
            trace_writer_abort(w);
            g_free(path);
            return NULL;
        }
    }
    if (!trace_writer_finish(w, err)) {
        g_free(path);
        return NULL;
    }
    return path;
}

static guint64 le64_at(const guint8 *p)
{
    return gmbeoo_le64(p);
}

static void test_trace_file(GmbeooRecordFormat f)
{
    g_autofree char *codec = trace_codec_name(&writer_codec);
    g_autofree char *fmt = g_strdup_printf("%s%s_%s", gmbeoo_format_name(f),
                                           writer_threads ? "_threads" : "",
                                           codec);
    g_autoptr(GByteArray) s = make_stream(f, 5000);
    g_autoptr(GError) err = NULL;
    g_autofree char *fname = g_strdup_printf("t_%s.gmbeoo.zst",
                                             fmt);
    g_autofree char *path = write_trace(fname, f, s, 4096, &err);
    g_autofree char *name = g_strdup_printf("trace_file_roundtrip_%s",
                                            fmt);
    if (!path) {
        CHECK(name, !"trace_writer failed");
        return;
    }
    /* Read it back with the other format as the fallback: the header wins. */
    GmbeooSource *src = gmbeoo_open(path, f == GMBEOO_FORMAT_GMBEOO16
                                     ? GMBEOO_FORMAT_COMPACT8
                                     : GMBEOO_FORMAT_GMBEOO16);
    Collected c;
    collected_init(&c);
    bool ok = src && collect_all(src, &c) == GMBEOO_END;
    const GmbeooMeta *m = src ? gmbeoo_meta(src) : NULL;
    CHECK(name, ok && m && m->format == f && m->format_known &&
          m->log_of_GMBE_block_len == 3 &&
          m->log_of_GMBE_tracing_ratio == 4 &&
          m->trace_only_CPL3_code_GMBE == 1 && m->vcpus == -1 &&
          m->ninfo == 0 && !g_strcmp0(m->workload, "work\nload") &&
          !g_strcmp0(m->qemu_version, "7.2") &&
          !g_strcmp0(m->guest_image, "img.qcow2") &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_TRACE_FILE &&
          c.bytes->len == s->len &&
          memcmp(c.bytes->data, s->data, s->len) == 0 && c.indexes_ok);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);

    /* The trailer points at the index; the index at every chunk. */
    g_autofree char *file = NULL;
    gsize flen = 0;
    g_file_get_contents(path, &file, &flen, NULL);
    const guint8 *b = (const guint8 *)file;
    bool idx_ok = flen > TRACE_TRAILER_SIZE;
    if (idx_ok) {
        const guint8 *t = b + flen - TRACE_TRAILER_SIZE;
        guint64 ioff = le64_at(t + 8);
        idx_ok = (gmbeoo_le64(t) & 0xffffffffu) == TRACE_TRAILER_MAGIC &&
                 memcmp(t + 16, TRACE_TRAILER_ID, 8) == 0 && ioff < flen;
        if (idx_ok) {
            const guint8 *ix = b + ioff + 8;
            guint64 n = le64_at(ix + 8), first = 0, rs_size = s->len / 5000;
            idx_ok = memcmp(ix, TRACE_INDEX_ID, 8) == 0 && n > 1 &&
                     le64_at(ix + 16) == 5000 && le64_at(ix + 24) == s->len;
            for (guint64 i = 0; idx_ok && i < n; i++) {
                const guint8 *e = ix + TRACE_INDEX_FIXED + i * 32;
                guint64 off = le64_at(e), cnt = le64_at(e + 24);
                idx_ok = le64_at(e + 16) == first && off < ioff &&
                         (gmbeoo_le64(b + off) & 0xffffffffu) ==
                             (writer_codec.compressor == TRACE_COMPRESS_LZ4
                              ? TRACE_LZ4_MAGIC : TRACE_ZSTD_MAGIC) &&
                         cnt * rs_size <= 4096;
                first += cnt;
            }
            idx_ok = idx_ok && first == 5000;
        }
    }
    g_autofree char *iname = g_strdup_printf("trace_file_index_%s",
                                             fmt);
    CHECK(iname, idx_ok);

    /* No temporary file is left beside it. */
    g_autoptr(GDir) d = g_dir_open(tmp_dir, 0, NULL);
    bool clean = true;
    for (const char *e; d && (e = g_dir_read_name(d));) {
        clean = clean && !strstr(e, ".partial");
    }
    g_autofree char *pname = g_strdup_printf("trace_file_no_partial_left_%s",
                                             fmt);
    CHECK(pname, clean);
}

/* Read @path to its end; false (and errmsg) on an error. */
static bool read_all(const char *path, guint64 *records)
{
    GmbeooSource *src = gmbeoo_open(path, GMBEOO_FORMAT_GMBEOO16);
    if (!src) {
        return false;
    }
    GmbeooBatch b;
    int r;
    while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
    }
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    *records = st.records;
    /* Sticky: asked again, the same answer. */
    bool same = gmbeoo_next(src, &b) == r;
    gmbeoo_close(src);
    return r == GMBEOO_END && same;
}

/* A torn last record is kept as it is by every codec (the delta transform
 * leaves it alone), and the reader holds it back as a partial record. */
static void test_delta_torn_tail(void)
{
    GmbeooRecordFormat f = GMBEOO_FORMAT_GMBEOO16;
    g_autoptr(GByteArray) s = make_stream(f, 3000);
    g_autoptr(GError) err = NULL;
    g_autofree char *codec = trace_codec_name(&writer_codec);
    g_autofree char *name = g_strdup_printf("trace_file_torn_tail_%s", codec);
    gsize whole = s->len;
    g_byte_array_append(s, (const guint8 *)"\x21\x00\x00\x00\x00", 5);
    g_autofree char *fname = g_strdup_printf("torn_%s.gmbeoo", codec);
    g_autofree char *path = write_trace(fname, f, s, 4096, &err);
    GmbeooSource *src = path ? gmbeoo_open(path, f) : NULL;
    Collected c;
    collected_init(&c);
    bool ok = src && collect_all(src, &c) == GMBEOO_END;
    GmbeooStats st = { 0 };
    if (src) {
        gmbeoo_stats(src, &st);
    }
    CHECK(name, ok && c.bytes->len == whole &&
          memcmp(c.bytes->data, s->data, whole) == 0 &&
          st.partial_bytes == 5);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
}

/* One chunk larger than the reader's output buffer: its deltas are undone
 * in pieces, across refills, and batches never see a delta. */
static void test_delta_big_chunk(const char *codec_name)
{
    GmbeooRecordFormat f = GMBEOO_FORMAT_EXTENDED32;
    TraceCodec saved = writer_codec;
    g_assert(trace_codec_parse(codec_name, &writer_codec, NULL));
    g_autoptr(GByteArray) s = make_stream(f, 200000);    /* 6.4 MB */
    g_autoptr(GError) err = NULL;
    g_autofree char *fname = g_strdup_printf("big_%s.gmbeoo", codec_name);
    g_autofree char *path = write_trace(fname, f, s, 4u << 20, &err);
    writer_codec = saved;
    GmbeooSource *src = path ? gmbeoo_open(path, f) : NULL;
    Collected c;
    collected_init(&c);
    bool ok = src && collect_all(src, &c) == GMBEOO_END;
    g_autofree char *name = g_strdup_printf("trace_file_big_chunk_%s",
                                            codec_name);
    CHECK(name, ok && c.bytes->len == s->len &&
          memcmp(c.bytes->data, s->data, s->len) == 0 && c.indexes_ok);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
}

static void test_codec_parse(void)
{
    TraceCodec c;
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autofree char *n1 = NULL, *n2 = NULL;
    bool ok = trace_codec_parse("lz4-delta", &c, NULL) &&
              c.compressor == TRACE_COMPRESS_LZ4 &&
              c.transform == TRACE_TRANSFORM_DELTA && c.level == 0 &&
              !strcmp(n1 = trace_codec_name(&c), "lz4-delta") &&
              trace_codec_parse("zstd:-3", &c, NULL) &&
              c.compressor == TRACE_COMPRESS_ZSTD &&
              c.transform == TRACE_TRANSFORM_NONE && c.level == -3 &&
              !strcmp(n2 = trace_codec_name(&c), "zstd:-3") &&
              !trace_codec_parse("gzip", &c, &e1) &&
              strstr(e1->message, "unknown trace file codec \"gzip\"") &&
              !trace_codec_parse("zstd:", &c, &e2) &&
              strstr(e2->message, "bad codec level") &&
              !trace_codec_parse("zstd:x", &c, &e3);
    CHECK("trace_codec_parse", ok);
}

static void test_corrupted(void)
{
    g_autoptr(GByteArray) s = make_stream(GMBEOO_FORMAT_GMBEOO16, 300);
    g_autoptr(GError) err = NULL;
    g_autofree char *path = write_trace("c.zst", GMBEOO_FORMAT_GMBEOO16, s,
                                        1024, &err);
    g_autofree char *file = NULL;
    gsize len = 0;
    g_file_get_contents(path, &file, &len, NULL);
    guint64 n = 0;

    /* Record format 9 in the header. */
    file[8 + 12] = 9;
    g_file_set_contents(path, file, len, NULL);
    g_clear_error(&err);
    bool ok = read_all(path, &n);
    CHECK("corrupted_header_format", !ok &&
          strstr(gmbeoo_errmsg(), "corrupted trace file header") &&
          strstr(gmbeoo_errmsg(), path));
    file[8 + 12] = 0;

    /* A header that claims more bytes than the file has. */
    file[4] = (char)0xff;
    file[5] = (char)0xff;
    file[6] = 0x0f;
    g_file_set_contents(path, file, len, NULL);
    g_clear_error(&err);
    ok = read_all(path, &n);
    CHECK("corrupted_header_size", !ok &&
          strstr(gmbeoo_errmsg(), "corrupted trace file header"));

    /* Cut inside the first chunk. */
    g_autofree char *again = write_trace("c.zst", GMBEOO_FORMAT_GMBEOO16, s,
                                         1024, &err);
    g_free(file);
    g_file_get_contents(again, &file, &len, NULL);
    g_file_set_contents(again, file, len / 2, NULL);
    g_clear_error(&err);
    ok = read_all(again, &n);
    CHECK("truncated_trace_file", !ok &&
          (strstr(gmbeoo_errmsg(), "truncated") ||
           strstr(gmbeoo_errmsg(), "corrupted")));

    /* A flipped byte inside compressed data: the checksum or the decoder
     * notices. */
    g_free(again);
    again = write_trace("c.zst", GMBEOO_FORMAT_GMBEOO16, s, 1024, &err);
    g_free(file);
    g_file_get_contents(again, &file, &len, NULL);
    gsize hlen = 8 + (gmbeoo_le64((const guint8 *)file) >> 32);
    file[hlen + 200] ^= 0x55;
    g_file_set_contents(again, file, len, NULL);
    g_clear_error(&err);
    ok = read_all(again, &n);
    CHECK("corrupted_chunk", !ok &&
          strstr(gmbeoo_errmsg(), "corrupted zstd data"));
}

/* Write @len bytes of @data to a new file under tmp_dir. */
static char *put_file(const char *name, const void *data, gsize len)
{
    char *path = g_build_filename(tmp_dir, name, NULL);
    g_file_set_contents(path, data, (gssize)len, NULL);
    return path;
}

/* Put the records of @s (format @f) with drop markers at records 0, 7
 * (after 7 accesses) and at the end. */
static GByteArray *with_markers(GmbeooRecordFormat f, GByteArray *s)
{
    unsigned sz = gmbeoo_format_size(f);
    GByteArray *o = g_byte_array_new();
    guint8 m[GMBEOO_MAX_RECORD_SIZE] = { 0 };
    uint64_t w0 = 0, count[3] = { 11, 22, 33 };
    for (int k = 0; k < 3; k++) {
        memset(m, 0, sizeof(m));
        if (f == GMBEOO_FORMAT_COMPACT8) {
            w0 = gmbeoo_compact8_word(count[k], GMBEOO_DROP_MARKER_INFO);
        } else {
            w0 = GMBEOO_DROP_MARKER_INFO |
                 (uint64_t)1 << (f == GMBEOO_FORMAT_EXTENDED32
                                 ? GMBEOO_EXT_VCPU_SHIFT : GMBEOO_VCPU_SHIFT);
            for (int b = 0; b < 8; b++) {
                m[8 + b] = (guint8)(count[k] >> (8 * b));
            }
        }
        for (int b = 0; b < 8; b++) {
            m[b] = (guint8)(w0 >> (8 * b));
        }
        if (k == 0) {
            g_byte_array_append(o, m, sz);
            g_byte_array_append(o, s->data, 7 * sz);
        } else if (k == 1) {
            g_byte_array_append(o, m, sz);
            g_byte_array_append(o, s->data + 7 * sz, s->len - 7 * sz);
        } else {
            g_byte_array_append(o, m, sz);
        }
    }
    return o;
}

/* Batches: the struct of arrays of each format, drop markers beside. */
static void test_batches(GmbeooRecordFormat f)
{
    g_autoptr(GByteArray) plain = make_stream(f, 5000);
    g_autoptr(GByteArray) s = with_markers(f, plain);
    g_autofree char *fname = g_strdup_printf("b_%s", gmbeoo_format_name(f));
    g_autofree char *path = put_file(fname, s->data, s->len);
    GmbeooSource *src = gmbeoo_open(path, f);
    GmbeooBatch b;
    bool ok = src != NULL, arrays = true;
    size_t n = 0, nb = 0, max = 0;
    GArray *drops = g_array_new(FALSE, FALSE, sizeof(GmbeooDrop));
    bool ext = f == GMBEOO_FORMAT_EXTENDED32;
    int r = GMBEOO_ERROR;
    while (ok && (r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        nb++;
        max = MAX(max, b.count + b.ndrops);
        arrays = arrays && (b.vcpu != NULL) == (f != GMBEOO_FORMAT_COMPACT8) &&
                 (b.paddr != NULL) == ext && (b.pc != NULL) == ext &&
                 (b.cr3 != NULL) == ext && b.format == f &&
                 b.record_size == gmbeoo_format_size(f);
        for (size_t i = 0; arrays && i < b.count; i++, n++) {
            uint8_t info = gmbeoo_info(n % 4, false, false, n % 3 == 0, 3);
            arrays = b.info[i] == info &&
                     b.vaddr[i] == 0x7ffd00000000ull + 8ull * n &&
                     (!b.vcpu || b.vcpu[i] == (ext ? n % 2 : 0)) &&
                     (!ext || (b.paddr[i] == 0x1000ull * n &&
                               b.pc[i] == 0x401000 + n &&
                               b.cr3[i] == 0x12345000));
        }
        for (size_t i = 0; i < b.ndrops; i++) {
            GmbeooDrop d = b.drops[i];
            d.before += n - b.count;     /* accesses before it, overall */
            g_array_append_val(drops, d);
        }
    }
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    g_autofree char *name = g_strdup_printf("batches_%s",
                                            gmbeoo_format_name(f));
    CHECK(name, ok && r == GMBEOO_END && arrays && n == 5000 && nb >= 2 &&
          max <= 4096 && st.records == 5003 && st.accesses == 5000);
    GmbeooDrop *d = (GmbeooDrop *)drops->data;
    unsigned v = f == GMBEOO_FORMAT_COMPACT8 ? 0 : 1;
    g_autofree char *dname = g_strdup_printf("drop_markers_in_batches_%s",
                                             gmbeoo_format_name(f));
    CHECK(dname, drops->len == 3 && st.drops == 3 && st.dropped == 66 &&
          d[0].index == 0 && d[0].before == 0 && d[0].dropped == 11 &&
          d[1].index == 8 && d[1].before == 7 && d[1].dropped == 22 &&
          d[2].index == 5002 && d[2].before == 5000 && d[2].dropped == 33 &&
          d[0].vcpu == v && d[2].vcpu == v);
    g_array_free(drops, TRUE);
    gmbeoo_close(src);
}

/* Format detection: raw (given, or from the environment), plain zstd,
 * trace file; stdin. */
static void test_detection(void)
{
    g_autoptr(GByteArray) c8 = make_stream(GMBEOO_FORMAT_COMPACT8, 100);
    g_autofree char *raw = put_file("d_raw", c8->data, c8->len);
    GmbeooBatch b;

    g_setenv("GMBEOO_RECORD_FORMAT", "compact8", TRUE);
    GmbeooSource *src = gmbeoo_open(raw, GMBEOO_FORMAT_AUTO);
    int r = src ? gmbeoo_next(src, &b) : GMBEOO_ERROR;
    CHECK("detect_raw_format_from_environment", r == GMBEOO_BATCH &&
          b.format == GMBEOO_FORMAT_COMPACT8 && b.count == 100 &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_RAW &&
          gmbeoo_meta(src)->format == GMBEOO_FORMAT_COMPACT8 &&
          !gmbeoo_meta(src)->format_known &&
          !strcmp(gmbeoo_kind_name(src), "raw record stream"));
    gmbeoo_close(src);
    g_setenv("GMBEOO_RECORD_FORMAT", "bogus", TRUE);
    src = gmbeoo_open(raw, GMBEOO_FORMAT_AUTO);
    CHECK("detect_bad_environment_format", !src &&
          strstr(gmbeoo_errmsg(), "GMBEOO_RECORD_FORMAT: unknown record "
                 "format 'bogus'"));
    g_unsetenv("GMBEOO_RECORD_FORMAT");
    CHECK("open_missing_file", !gmbeoo_open("/nonexistent/x", 0) &&
          errno == ENOENT && strstr(gmbeoo_errmsg(), "cannot read "
                                    "/nonexistent/x"));

    /* zstd -c of the raw stream. */
    size_t cap = ZSTD_compressBound(c8->len);
    g_autofree guint8 *z = g_malloc(cap);
    size_t zlen = ZSTD_compress(z, cap, c8->data, c8->len, 1);
    g_autofree char *zpath = put_file("d_zstd", z, zlen);
    src = gmbeoo_open(zpath, GMBEOO_FORMAT_COMPACT8);
    Collected c;
    collected_init(&c);
    r = src ? collect_all(src, &c) : GMBEOO_ERROR;
    CHECK("detect_plain_zstd", r == GMBEOO_END &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_ZSTD &&
          c.bytes->len == c8->len &&
          memcmp(c.bytes->data, c8->data, c8->len) == 0);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);

    /* The same cut short: an error, not a short stream. */
    g_autofree char *cut = put_file("d_zstd_cut", z, zlen - 5);
    src = gmbeoo_open(cut, GMBEOO_FORMAT_COMPACT8);
    collected_init(&c);
    r = src ? collect_all(src, &c) : GMBEOO_END;
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    CHECK("truncated_zstd_stream", r == GMBEOO_ERROR && st.error &&
          strstr(gmbeoo_errmsg(), "truncated zstd data"));
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);

    /* lz4 -c of the raw stream (two frames: `lz4` run twice, concatenated),
     * then cut short. */
    LZ4F_preferences_t prefs = { 0 };
    size_t lcap = LZ4F_compressFrameBound(c8->len, &prefs);
    g_autofree guint8 *l = g_malloc(2 * lcap);
    size_t half = c8->len / 2;
    size_t l1 = LZ4F_compressFrame(l, lcap, c8->data, half, &prefs);
    size_t l2 = LZ4F_isError(l1) ? l1
                : LZ4F_compressFrame(l + l1, lcap, c8->data + half,
                                     c8->len - half, &prefs);
    bool made = !LZ4F_isError(l1) && !LZ4F_isError(l2);
    g_autofree char *lpath = put_file("d_lz4", l, made ? l1 + l2 : 0);
    src = gmbeoo_open(lpath, GMBEOO_FORMAT_COMPACT8);
    collected_init(&c);
    r = src ? collect_all(src, &c) : GMBEOO_ERROR;
    CHECK("detect_plain_lz4", made && r == GMBEOO_END &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_LZ4 &&
          !strcmp(gmbeoo_kind_name(src), "LZ4-compressed record stream") &&
          c.bytes->len == c8->len &&
          memcmp(c.bytes->data, c8->data, c8->len) == 0);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
    g_autofree char *lcut = put_file("d_lz4_cut", l, made ? l1 + l2 - 3 : 0);
    src = gmbeoo_open(lcut, GMBEOO_FORMAT_COMPACT8);
    collected_init(&c);
    r = src ? collect_all(src, &c) : GMBEOO_END;
    CHECK("truncated_lz4_stream", made && r == GMBEOO_ERROR &&
          strstr(gmbeoo_errmsg(), "truncated LZ4 data"));
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);

    /* Fewer bytes than a magic number: raw, all of it a partial record. */
    g_autofree char *tiny = put_file("d_tiny", "ab", 2);
    src = gmbeoo_open(tiny, GMBEOO_FORMAT_GMBEOO16);
    r = gmbeoo_next(src, &b);
    gmbeoo_stats(src, &st);
    CHECK("tiny_input_is_a_partial_record", r == GMBEOO_END &&
          st.partial_bytes == 2 && st.records == 0);
    gmbeoo_close(src);

    /* A file that fits in one read: every record (detection and EOF in
     * the same call). */
    g_autoptr(GByteArray) g16 = make_stream(GMBEOO_FORMAT_GMBEOO16, 3);
    g_autofree char *small = put_file("d_small", g16->data, g16->len);
    src = gmbeoo_open(small, GMBEOO_FORMAT_GMBEOO16);
    collected_init(&c);
    r = collect_all(src, &c);
    CHECK("small_file_whole", r == GMBEOO_END && c.next_index == 3);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);

    /* stdin ("-"). */
    int saved = dup(STDIN_FILENO);
    int fd = open(raw, O_RDONLY);
    dup2(fd, STDIN_FILENO);
    close(fd);
    src = gmbeoo_open("-", GMBEOO_FORMAT_COMPACT8);
    collected_init(&c);
    r = collect_all(src, &c);
    CHECK("stdin_source", r == GMBEOO_END && c.next_index == 100 &&
          gmbeoo_fd(src) == STDIN_FILENO);
    gmbeoo_close(src);
    g_byte_array_free(c.bytes, TRUE);
    CHECK("stdin_left_open", fcntl(STDIN_FILENO, F_GETFD) >= 0);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

static void test_format_resolve(void)
{
    g_unsetenv("GMBEOO_RECORD_FORMAT");
    bool a = gmbeoo_format_resolve(NULL) == GMBEOO_FORMAT_GMBEOO16;
    g_setenv("GMBEOO_RECORD_FORMAT", "extended32", TRUE);
    bool b = gmbeoo_format_resolve("") == GMBEOO_FORMAT_EXTENDED32;
    bool c = gmbeoo_format_resolve("compact8") == GMBEOO_FORMAT_COMPACT8;
    g_setenv("GMBEOO_RECORD_FORMAT", "bogus", TRUE);
    bool d = gmbeoo_format_resolve(NULL) < 0 &&
             strstr(gmbeoo_errmsg(), "GMBEOO_RECORD_FORMAT");
    bool e = gmbeoo_format_resolve("nope") < 0 &&
             !strncmp(gmbeoo_errmsg(), "unknown record format 'nope'", 28);
    g_unsetenv("GMBEOO_RECORD_FORMAT");
    CHECK("format_resolve", a && b && c && d && e);
    CHECK("version", gmbeoo_version() == GMBEOO_VERSION_NUMBER &&
          GMBEOO_VERSION_NUMBER == 10000);
}

/* ---- the analysis-tool contract, in a child ---- */

static void tool_body(FILE *out, void *arg)
{
    const uint64_t *n = arg;
    fprintf(out, "accesses %" G_GUINT64_FORMAT " drops %" G_GUINT64_FORMAT
            "\n", n[0], n[1]);
}

/* The child: a complete tool on the library; prints its metadata too. */
static int tool_main(int argc, char **argv)
{
    GmbeooSource *src = gmbeoo_tool_start(argc, argv, GMBEOO_FORMAT_AUTO, 0);
    if (!src) {
        return 2;
    }
    uint64_t n[2] = { 0, 0 };
    GmbeooBatch b;
    while (gmbeoo_next(src, &b) == GMBEOO_BATCH) {
        n[0] += b.count;
        n[1] += b.ndrops;
    }
    const GmbeooMeta *m = gmbeoo_meta(src);
    fprintf(stderr, "meta %s %d %d %d %d %d %zu %s\n",
            gmbeoo_format_name(m->format), m->format_known,
            m->log_of_GMBE_block_len, m->log_of_GMBE_tracing_ratio,
            m->trace_only_CPL3_code_GMBE, m->vcpus, m->ninfo,
            m->ninfo ? m->info[m->ninfo - 1] : "-");
    int r = gmbeoo_tool_report(src, tool_body, n);
    gmbeoo_close(src);
    return r == 0 ? 0 : 10 + r;
}

/* Read @fd until @want appears (or EOF, or 10 s): what was read. */
static GString *read_until(int fd, const char *want)
{
    GString *s = g_string_new(NULL);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!strstr(s->str, want)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            break;
        }
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_string_append_len(s, buf, n);
    }
    return s;
}

typedef enum { END_BY_USR1, END_BY_EOF, END_BY_TERM } ToolEnd;

/*
 * Run tool_main in a child on a FIFO with @stream written to it; end it as
 * @how says.  Returns the child's stdout; *status its exit status, *meta
 * its stderr.
 */
static GString *run_tool(GByteArray *stream, ToolEnd how, int *status,
                         GString **meta)
{
    g_autofree char *fifo = g_build_filename(tmp_dir, "tool_fifo", NULL);
    unlink(fifo);
    mkfifo(fifo, 0600);
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) {
        return g_string_new("pipe failed");
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(err[0]);
        char *argv[] = { "tool", fifo, "0x1000", "last_token", NULL };
        g_setenv("GMBEOO_RECORD_FORMAT", "gmbeoo16", TRUE);
        g_setenv("GMBEOO_LOG_OF_GMBE_BLOCK_LEN", "3", TRUE);
        g_setenv("GMBEOO_LOG_OF_GMBE_TRACING_RATIO", "4", TRUE);
        g_setenv("GMBEOO_TRACE_ONLY_CPL3_CODE_GMBE", "1", TRUE);
        g_setenv("GMBEOO_GUEST_NUM_OF_VCPUS", "2", TRUE);
        _exit(tool_main(4, argv));
    }
    close(out[1]);
    close(err[1]);
    GString *s = read_until(out[0], "Ready to analyze\n");
    int w = open(fifo, O_WRONLY | O_CLOEXEC);    /* the tool reads it */
    if (w >= 0 && write(w, stream->data, stream->len) != (ssize_t)stream->len) {
        g_string_append(s, "(short write)");
    }
    /* Let the tool read what is in the pipe before the signal (it must
     * count it either way: after SIGUSR1 it drains). */
    if (how == END_BY_EOF) {
        close(w);
        w = -1;
    }
    g_usleep(100000);
    kill(pid, how == END_BY_TERM ? SIGTERM : SIGUSR1);
    GString *rest = read_until(out[0], "\n-----end analysis output-----\n");
    g_string_append(s, rest->str);
    g_string_free(rest, TRUE);
    if (w >= 0) {
        close(w);
    }
    /* The child exits after its block; 10 s at most. */
    *status = -1;
    for (int i = 0; i < 1000 && *status < 0; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else {
            g_usleep(10000);
        }
    }
    if (*status < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    *meta = read_until(err[0], "\n");
    close(out[0]);
    close(err[0]);
    unlink(fifo);
    return s;
}

static void test_tool_contract(void)
{
    g_autoptr(GByteArray) plain = make_stream(GMBEOO_FORMAT_GMBEOO16, 9000);
    g_autoptr(GByteArray) s = with_markers(GMBEOO_FORMAT_GMBEOO16, plain);
    static const char block[] =
        "Ready to analyze\n"
        "-----begin analysis output-----\n"
        "accesses 9000 drops 3\n"
        "-----end analysis output-----\n";
    int st;
    GString *meta;
    GString *o = run_tool(s, END_BY_USR1, &st, &meta);
    CHECK("tool_sigusr1_writer_attached", st == 0 && !strcmp(o->str, block));
    CHECK("tool_meta_from_environment",
          !strcmp(meta->str, "meta gmbeoo16 1 3 4 1 2 2 last_token\n"));
    g_string_free(o, TRUE);
    g_string_free(meta, TRUE);

    o = run_tool(s, END_BY_EOF, &st, &meta);
    CHECK("tool_eof_then_sigusr1", st == 0 && !strcmp(o->str, block));
    g_string_free(o, TRUE);
    g_string_free(meta, TRUE);

    o = run_tool(s, END_BY_TERM, &st, &meta);
    CHECK("tool_sigterm_no_block", st == 11 &&
          !strcmp(o->str, "Ready to analyze\n"));
    g_string_free(o, TRUE);
    g_string_free(meta, TRUE);

    /* No FIFO argument: usage, status 2, nothing on stdout. */
    char *argv[] = { "tool", NULL };
    int devnull = open("/dev/null", O_WRONLY);
    int saved = dup(STDERR_FILENO);
    dup2(devnull, STDERR_FILENO);
    GmbeooSource *src = gmbeoo_tool_start(1, argv, GMBEOO_FORMAT_AUTO, 0);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(devnull);
    CHECK("tool_usage", !src && errno == EINVAL &&
          strstr(gmbeoo_errmsg(), "usage: tool FIFO"));
}

int main(void)
{
    tmp_dir = g_dir_make_tmp("mt-libgmbeoo.XXXXXX", NULL);
    for (int f = 0; f < GMBEOO_FORMAT__MAX; f++) {
        test_split_reads(f);
    }
    test_torn_tail();
    test_decode_formats();
    test_drop_markers();
    static const char *const codecs[] = {
        "zstd", "lz4", "zstd-delta", "lz4-delta", "zstd:-5", "lz4:-3",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(codecs); i++) {
        g_assert(trace_codec_parse(codecs[i], &writer_codec, NULL));
        for (int f = 0; f < GMBEOO_FORMAT__MAX; f++) {
            test_trace_file(f);
        }
        test_delta_torn_tail();
    }
    memset(&writer_codec, 0, sizeof(writer_codec));
    test_delta_big_chunk("zstd-delta");
    test_delta_big_chunk("lz4-delta");
    test_codec_parse();
    writer_threads = 2;             /* zstd's worker threads: same stream */
    test_trace_file(GMBEOO_FORMAT_COMPACT8);
    writer_threads = 0;
    test_corrupted();
    for (int f = 0; f < GMBEOO_FORMAT__MAX; f++) {
        test_batches(f);
    }
    test_detection();
    test_format_resolve();
    test_tool_contract();
    g_autofree char *cmd_dir = g_strdup(tmp_dir);
    g_autoptr(GDir) d = g_dir_open(tmp_dir, 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        g_autofree char *p = g_build_filename(tmp_dir, e, NULL);
        unlink(p);
    }
    rmdir(cmd_dir);
    return check_failures ? 1 : 0;
}
