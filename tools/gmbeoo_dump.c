/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_dump: decode a GMBEOO record stream (include/gmbeoo/record.h) to
 * text or CSV, or summarise it.
 *
 *   gmbeoo_dump [--csv] [--limit N] [--summary] [FILE]
 *
 * FILE may be a regular file, a FIFO (e.g. --trace_fifo_path's) or "-"
 * (the default: stdin).  Text lines look like
 *   store  size=4 cpl=3 le 0x00007ffd5c1e2a10
 * with "sx" after the size for sign-extending loads; CSV has the columns
 * kind,size,sign_extend,endianness,cpl,address.  --summary prints counts
 * by kind, by cpl and by size instead of the records.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gmbeoo/record.h"
#include "msg.h"

#define READ_BLOCK (1 << 20)

static gboolean opt_csv, opt_summary;
static gint64 opt_limit = -1;

static const GOptionEntry entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_NONE, &opt_csv, "print CSV", NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT64, &opt_limit,
      "stop after N records", "N" },
    { "summary", 's', 0, G_OPTION_ARG_NONE, &opt_summary,
      "print counts by kind, cpl and size instead of records", NULL },
    G_OPTION_ENTRY_NULL
};

typedef struct Summary {
    guint64 records;
    guint64 by_kind[2];         /* load, store */
    guint64 by_cpl[4];
    guint64 by_size_shift[8];
    guint64 sign_extend;
    guint64 big_endian;
    guint64 invalid;            /* valid bit clear: not a GMBEOO stream? */
} Summary;

static void print_record(const GmbeooRecord *r, GString *out)
{
    const char *kind = gmbeoo_is_store(r->word0) ? "store" : "load";
    unsigned size = gmbeoo_size_bytes(r->word0);
    unsigned cpl = gmbeoo_cpl(r->word0);
    gboolean sx = gmbeoo_is_sign_extend(r->word0);
    const char *endian = gmbeoo_is_big_endian(r->word0) ? "be" : "le";
    if (opt_csv) {
        g_string_append_printf(out, "%s,%u,%d,%s,%u,0x%016" PRIx64 "\n",
                               kind, size, sx, endian, cpl, r->vaddr);
    } else {
        g_string_append_printf(out, "%-6s size=%u%s cpl=%u %s 0x%016" PRIx64
                               "\n", kind, size, sx ? " sx" : "", cpl,
                               endian, r->vaddr);
    }
}

static void add_to_summary(Summary *s, const GmbeooRecord *r)
{
    s->records++;
    s->by_kind[gmbeoo_is_store(r->word0)]++;
    s->by_cpl[gmbeoo_cpl(r->word0)]++;
    s->by_size_shift[gmbeoo_size_shift(r->word0)]++;
    s->sign_extend += gmbeoo_is_sign_extend(r->word0);
    s->big_endian += gmbeoo_is_big_endian(r->word0);
    s->invalid += !gmbeoo_is_valid(r->word0);
}

static void print_summary(const Summary *s, gsize trailing)
{
    printf("records: %" G_GUINT64_FORMAT "\n", s->records);
    printf("load: %" G_GUINT64_FORMAT "\n", s->by_kind[0]);
    printf("store: %" G_GUINT64_FORMAT "\n", s->by_kind[1]);
    for (int c = 0; c < 4; c++) {
        if (s->by_cpl[c] || c == 0 || c == 3) {
            printf("cpl%d: %" G_GUINT64_FORMAT "\n", c, s->by_cpl[c]);
        }
    }
    for (int k = 0; k < 8; k++) {
        if (s->by_size_shift[k]) {
            printf("size%u: %" G_GUINT64_FORMAT "\n", 1u << k,
                   s->by_size_shift[k]);
        }
    }
    printf("sign_extend: %" G_GUINT64_FORMAT "\n", s->sign_extend);
    if (s->big_endian) {
        printf("big_endian: %" G_GUINT64_FORMAT "\n", s->big_endian);
    }
    if (s->invalid) {
        printf("without_valid_bit: %" G_GUINT64_FORMAT "\n", s->invalid);
    }
    if (trailing) {
        printf("trailing_bytes: %" G_GSIZE_FORMAT "\n", trailing);
    }
}

int main(int argc, char **argv)
{
    msg_set_program("gmbeoo_dump");
    g_autoptr(GOptionContext) ctx = g_option_context_new("[FILE]");
    g_option_context_set_summary(ctx, "Decode a GMBEOO trace record stream "
                                 "(16-byte records) from FILE or stdin.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc > 2) {
        error_msg("%s", err ? err->message : "at most one FILE");
        return 2;
    }
    int fd = STDIN_FILENO;
    if (argc == 2 && strcmp(argv[1], "-") != 0) {
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror_msg("cannot open %s", argv[1]);
            return 1;
        }
    }
    g_autofree guint8 *buf = g_malloc(READ_BLOCK);
    g_autoptr(GString) out = g_string_sized_new(1 << 16);
    Summary summary = { 0 };
    gsize have = 0;
    guint64 done = 0;
    gboolean more = TRUE;
    if (opt_csv && !opt_summary) {
        g_string_append(out, "kind,size,sign_extend,endianness,cpl,address\n");
    }
    while (more && (opt_limit < 0 || done < (guint64)opt_limit)) {
        ssize_t n = read(fd, buf + have, READ_BLOCK - have);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            perror_msg("read");
            return 1;
        }
        more = n > 0;
        gsize total = have + (gsize)n;
        gsize off = 0;
        for (; off + GMBEOO_RECORD_SIZE <= total; off += GMBEOO_RECORD_SIZE) {
            if (opt_limit >= 0 && done >= (guint64)opt_limit) {
                break;
            }
            GmbeooRecord r;
            gmbeoo_decode(&r, buf + off);
            if (opt_summary) {
                add_to_summary(&summary, &r);
            } else {
                print_record(&r, out);
            }
            done++;
        }
        have = total - off;
        memmove(buf, buf + off, have);
        if (out->len > (1 << 16) - 256 || !more) {
            fwrite(out->str, 1, out->len, stdout);
            g_string_truncate(out, 0);
        }
    }
    fwrite(out->str, 1, out->len, stdout);
    if (opt_summary) {
        print_summary(&summary, (opt_limit >= 0 && done >= (guint64)opt_limit)
                                    ? 0 : have);
    } else if (have && more == FALSE) {
        error_msg("%" G_GSIZE_FORMAT " trailing bytes (an incomplete record) "
                  "ignored", have);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
