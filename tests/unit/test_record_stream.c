/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of lib/record_stream.c and lib/trace_file.c: records split
 * across reads, the three formats, drop markers, trace files written and
 * read back (several chunks, index and trailer), corrupted and truncated
 * trace files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "record_stream.h"
#include "trace_file.h"

typedef struct Collected {
    GByteArray *bytes;
    guint64 next_index;
    bool indexes_ok;
    unsigned blocks;
    gsize stop_after;           /* records; 0: never stop */
} Collected;

static bool collect(const RecordBlock *b, void *opaque)
{
    Collected *c = opaque;
    c->blocks++;
    if (b->first_index != c->next_index) {
        c->indexes_ok = false;
    }
    c->next_index += b->count;
    g_byte_array_append(c->bytes, b->data, b->count * b->record_size);
    return !c->stop_after || c->next_index < c->stop_after;
}

static void collected_init(Collected *c)
{
    memset(c, 0, sizeof(*c));
    c->bytes = g_byte_array_new();
    c->indexes_ok = true;
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

/* Feed @data through a pipe in pieces of the given sizes, pumping the
 * non-blocking read end after each piece. */
static bool feed_in_pieces(RecordStream **rsp, GmbeooRecordFormat f,
                           const guint8 *data, gsize len, const gsize *pieces,
                           int npieces, Collected *c, GError **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        return false;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *rsp = record_stream_new_fd(p[0], true, "pipe", f);
    record_stream_set_callback(*rsp, collect, c);
    gsize off = 0;
    for (int i = 0; off < len; i = (i + 1) % npieces) {
        gsize n = MIN(pieces[i], len - off);
        if (write(p[1], data + off, n) != (ssize_t)n) {
            close(p[1]);
            return false;
        }
        off += n;
        RecordStreamStatus st;
        while ((st = record_stream_pump(*rsp, err)) == RECORD_STREAM_DATA) {
        }
        if (st == RECORD_STREAM_ERROR) {
            close(p[1]);
            return false;
        }
    }
    close(p[1]);
    RecordStreamStatus st;
    while ((st = record_stream_pump(*rsp, err)) == RECORD_STREAM_DATA) {
    }
    return st == RECORD_STREAM_EOF;
}

static void test_split_reads(GmbeooRecordFormat f)
{
    static const gsize pieces[] = { 1, 7, 3, 16, 33, 2, 100, 5 };
    g_autoptr(GByteArray) s = make_stream(f, 500);
    Collected c;
    collected_init(&c);
    RecordStream *rs = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = g_strdup_printf("split_reads_%s",
                                            gmbeoo_format_name(f));
    bool ok = feed_in_pieces(&rs, f, s->data, s->len, pieces,
                             G_N_ELEMENTS(pieces), &c, &err);
    CHECK(name, ok && c.bytes->len == s->len &&
          memcmp(c.bytes->data, s->data, s->len) == 0 && c.indexes_ok &&
          record_stream_records(rs) == 500 &&
          record_stream_kind(rs) == RECORD_SOURCE_RAW &&
          record_stream_is_fifo(rs) && record_stream_leftover(rs) == 0);
    record_stream_free(rs);
    g_byte_array_free(c.bytes, TRUE);
}

static void test_torn_tail(void)
{
    static const gsize pieces[] = { 5 };
    g_autoptr(GByteArray) s = make_stream(GMBEOO_FORMAT_GMBEOO16, 10);
    Collected c;
    collected_init(&c);
    RecordStream *rs = NULL;
    g_autoptr(GError) err = NULL;
    bool ok = feed_in_pieces(&rs, GMBEOO_FORMAT_GMBEOO16, s->data,
                             s->len - 3, pieces, 1, &c, &err);
    CHECK("torn_last_record_kept_back", ok && c.next_index == 9 &&
          record_stream_leftover(rs) == 13);
    record_stream_free(rs);
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
    RecordStream *rs = record_stream_open(path, f == GMBEOO_FORMAT_GMBEOO16
                                          ? GMBEOO_FORMAT_COMPACT8
                                          : GMBEOO_FORMAT_GMBEOO16, &err);
    Collected c;
    collected_init(&c);
    record_stream_set_callback(rs, collect, &c);
    bool ok = rs && record_stream_run(rs, &err);
    const TraceMeta *m = rs ? record_stream_meta(rs) : NULL;
    CHECK(name, ok && m && m->format == f && m->block_len_log == 3 &&
          m->tracing_ratio_log == 4 && m->cpl3_only &&
          !g_strcmp0(m->workload, "work\nload") &&
          !g_strcmp0(m->qemu_version, "7.2") &&
          record_stream_kind(rs) == RECORD_SOURCE_TRACE_FILE &&
          m->codec.compressor == writer_codec.compressor &&
          m->codec.transform == writer_codec.transform &&
          c.bytes->len == s->len &&
          memcmp(c.bytes->data, s->data, s->len) == 0 && c.indexes_ok);
    record_stream_free(rs);
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

static bool read_all(const char *path, GError **err, guint64 *records)
{
    RecordStream *rs = record_stream_open(path, GMBEOO_FORMAT_GMBEOO16, err);
    if (!rs) {
        return false;
    }
    bool ok = record_stream_run(rs, err);
    *records = record_stream_records(rs);
    record_stream_free(rs);
    return ok;
}

/* A torn last record is kept as it is by every codec (the delta transform
 * leaves it alone), and the reader holds it back as leftover. */
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
    RecordStream *rs = path ? record_stream_open(path, f, &err) : NULL;
    Collected c;
    collected_init(&c);
    if (rs) {
        record_stream_set_callback(rs, collect, &c);
    }
    bool ok = rs && record_stream_run(rs, &err);
    CHECK(name, ok && c.bytes->len == whole &&
          memcmp(c.bytes->data, s->data, whole) == 0 &&
          record_stream_leftover(rs) == 5);
    record_stream_free(rs);
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
    bool ok = read_all(path, &err, &n);
    CHECK("corrupted_header_format", !ok && err &&
          strstr(err->message, "corrupted trace file header") &&
          strstr(err->message, path));
    file[8 + 12] = 0;

    /* A header that claims more bytes than the file has. */
    file[4] = (char)0xff;
    file[5] = (char)0xff;
    file[6] = 0x0f;
    g_file_set_contents(path, file, len, NULL);
    g_clear_error(&err);
    ok = read_all(path, &err, &n);
    CHECK("corrupted_header_size", !ok && err &&
          strstr(err->message, "corrupted trace file header"));

    /* Cut inside the first chunk. */
    g_autofree char *again = write_trace("c.zst", GMBEOO_FORMAT_GMBEOO16, s,
                                         1024, &err);
    g_free(file);
    g_file_get_contents(again, &file, &len, NULL);
    g_file_set_contents(again, file, len / 2, NULL);
    g_clear_error(&err);
    ok = read_all(again, &err, &n);
    CHECK("truncated_trace_file", !ok && err &&
          (strstr(err->message, "truncated") || strstr(err->message,
                                                       "corrupted")));

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
    ok = read_all(again, &err, &n);
    CHECK("corrupted_chunk", !ok && err &&
          strstr(err->message, "corrupted zstd data"));
}

static void test_stop_and_limit(void)
{
    g_autoptr(GByteArray) s = make_stream(GMBEOO_FORMAT_COMPACT8, 1000);
    g_autoptr(GError) err = NULL;
    g_autofree char *path = write_trace("s.zst", GMBEOO_FORMAT_COMPACT8, s,
                                        800, &err);
    RecordStream *rs = record_stream_open(path, GMBEOO_FORMAT_GMBEOO16, &err);
    Collected c;
    collected_init(&c);
    c.stop_after = 150;
    record_stream_set_callback(rs, collect, &c);
    bool ok = record_stream_run(rs, &err);
    CHECK("callback_stops_reading", ok && c.next_index >= 150 &&
          c.next_index < 1000);
    record_stream_free(rs);
    g_byte_array_free(c.bytes, TRUE);
}

static void test_format_choose(void)
{
    GmbeooRecordFormat f;
    g_autoptr(GError) err = NULL;
    g_unsetenv("GMBEOO_RECORD_FORMAT");
    bool a = record_format_choose(NULL, &f, &err) &&
             f == GMBEOO_FORMAT_GMBEOO16;
    g_setenv("GMBEOO_RECORD_FORMAT", "extended32", TRUE);
    bool b = record_format_choose(NULL, &f, &err) &&
             f == GMBEOO_FORMAT_EXTENDED32;
    bool c = record_format_choose("compact8", &f, &err) &&
             f == GMBEOO_FORMAT_COMPACT8;
    g_setenv("GMBEOO_RECORD_FORMAT", "bogus", TRUE);
    bool d = !record_format_choose(NULL, &f, &err) &&
             strstr(err->message, "GMBEOO_RECORD_FORMAT");
    g_unsetenv("GMBEOO_RECORD_FORMAT");
    CHECK("record_format_choose", a && b && c && d);
}

int main(void)
{
    tmp_dir = g_dir_make_tmp("mt-record-stream.XXXXXX", NULL);
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
    test_codec_parse();
    writer_threads = 2;             /* zstd's worker threads: same stream */
    test_trace_file(GMBEOO_FORMAT_COMPACT8);
    writer_threads = 0;
    test_corrupted();
    test_stop_and_limit();
    test_format_choose();
    g_autofree char *cmd_dir = g_strdup(tmp_dir);
    g_autoptr(GDir) d = g_dir_open(tmp_dir, 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        g_autofree char *p = g_build_filename(tmp_dir, e, NULL);
        unlink(p);
    }
    rmdir(cmd_dir);
    return check_failures ? 1 : 0;
}
