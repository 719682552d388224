/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * codec_bench: the trace file codecs (lib/trace_file.h) offline on a
 * captured record stream, chunk by chunk exactly as the writer does it
 * (8 MiB chunks), each chunk then decoded and compared with the original.
 *
 *   codec_bench [--format F] [--chunk BYTES] [--max BYTES] STREAM CODEC...
 *   codec_bench [--format F] --write TRACE STREAM CODEC
 *
 * STREAM is a raw record stream (`zstd -dc TRACE > STREAM`, or a file the
 * FIFO was copied to); CODEC as --trace_file_codec takes it (zstd:-5,
 * lz4-delta, ...).  One line per codec: the CPU time of this thread per
 * GB of records compressing (transform included) and decompressing, and
 * the ratio:
 *   codec=lz4-delta in_bytes=... out_bytes=... ratio=... compress_MBps=...
 *   decompress_MBps=...
 * With --write, it writes STREAM as a trace file TRACE with CODEC instead
 * (the writer of --trace_file_path), e.g. to time a reader on it.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gmbeoo/gmbeoo.h"
#include "gmbeoo/record.h"
#include "trace_file.h"

static char *opt_format, *opt_write;
static gint64 opt_chunk = 8 << 20, opt_max = 1ll << 30;

static const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
      "record format of STREAM (default gmbeoo16)", "F" },
    { "chunk", 0, 0, G_OPTION_ARG_INT64, &opt_chunk,
      "chunk size in bytes (default 8 MiB, as the writer)", "BYTES" },
    { "write", 'w', 0, G_OPTION_ARG_FILENAME, &opt_write,
      "write STREAM as a trace file with CODEC instead", "TRACE" },
    { "max", 0, 0, G_OPTION_ARG_INT64, &opt_max,
      "use at most this many bytes of STREAM (default 1 GiB)", "BYTES" },
    G_OPTION_ENTRY_NULL
};

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("STREAM CODEC...");
    g_autoptr(GError) err = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc < 3) {
        fprintf(stderr, "codec_bench: %s\n",
                err ? err->message : "usage: codec_bench STREAM CODEC...");
        return 2;
    }
    int resolved = gmbeoo_format_resolve(opt_format);
    if (resolved < 0) {
        fprintf(stderr, "codec_bench: %s\n", gmbeoo_errmsg());
        return 2;
    }
    GmbeooRecordFormat format = resolved;
    unsigned rs = gmbeoo_format_size(format);
    /* At most --max bytes of it (--write: all of it). */
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "codec_bench: cannot read %s: %s\n", argv[1],
                g_strerror(errno));
        return 2;
    }
    if (opt_write) {
        TraceMeta m = { .format = format, .memory_tracer_version = "codec_bench" };
        if (!trace_codec_parse(argv[2], &m.codec, &err)) {
            fprintf(stderr, "codec_bench: %s\n", err->message);
            return 2;
        }
        TraceWriter *w = trace_writer_open(opt_write, &m, (gsize)opt_chunk, 0,
                                           &err);
        for (size_t n = 1; w && n > 0;) {
            gsize room;
            guint8 *p = trace_writer_space(w, &room);
            n = fread(p, 1, room, f);
            if (n > 0 && !trace_writer_commit(w, n, &err)) {
                trace_writer_abort(w);
                w = NULL;
            }
        }
        fclose(f);
        if (!w || !trace_writer_finish(w, &err)) {
            fprintf(stderr, "codec_bench: %s\n", err->message);
            return 1;
        }
        return 0;
    }
    gsize len = MIN((gsize)opt_max, (gsize)3 << 30);
    guint8 *data = g_malloc(len);
    len = fread(data, 1, len, f);
    fclose(f);
    len = MIN(len, (gsize)opt_max) / rs * rs;
    gsize chunk = (gsize)opt_chunk / rs * rs;
    guint8 *work = g_malloc(chunk), *back = g_malloc(chunk);
    int status = 0;
    for (int i = 2; i < argc; i++) {
        TraceCodec c;
        if (!trace_codec_parse(argv[i], &c, &err)) {
            fprintf(stderr, "codec_bench: %s\n", err->message);
            return 2;
        }
        gsize cap = trace_chunk_bound(&c, chunk);
        guint8 *out = g_malloc(cap);
        void *cctx = NULL;
        double tc = 0, td = 0;
        guint64 total_out = 0;
        for (gsize off = 0; off < len; off += chunk) {
            gsize n = MIN(chunk, len - off);
            memcpy(work, data + off, n);
            double t0 = cpu_now();
            gsize z = trace_chunk_compress(&c, format, &cctx, work, n, out,
                                           cap, &err);
            double t1 = cpu_now();
            if (!z || !trace_chunk_decompress(&c, format, out, z, back, n,
                                              &err)) {
                fprintf(stderr, "codec_bench: %s: %s\n", argv[i],
                        err->message);
                return 1;
            }
            td += cpu_now() - t1;
            tc += t1 - t0;
            total_out += z;
            if (memcmp(back, data + off, n) != 0) {
                fprintf(stderr, "codec_bench: %s: chunk at %" G_GSIZE_FORMAT
                        " does not round-trip\n", argv[i], off);
                status = 1;
            }
        }
        trace_chunk_ctx_free(&c, cctx);
        g_free(out);
        g_autofree char *name = trace_codec_name(&c);
        printf("codec=%s in_bytes=%" G_GSIZE_FORMAT " out_bytes=%" G_GUINT64_FORMAT
               " ratio=%.1f compress_MBps=%.0f decompress_MBps=%.0f\n",
               name, len, total_out, (double)len / (double)MAX(total_out, 1),
               (double)len / 1e6 / MAX(tc, 1e-9),
               (double)len / 1e6 / MAX(td, 1e-9));
        fflush(stdout);
    }
    g_free(work);
    g_free(back);
    g_free(data);
    return status;
}
