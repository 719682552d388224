/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_dump: decode a GMBEOO record stream (include/gmbeoo/record.h) to
 * text, CSV or DineroIV input, or summarise it.
 *
 *   gmbeoo_dump [--summary | --csv | --din | --raw] [--limit N]
 *               [--format gmbeoo16|compact8|extended32] [--cr3 X] [FILE]
 *
 * FILE may be a FIFO (e.g. --trace_fifo_path's), a raw record file, a trace
 * file (memory_tracer --trace_file_path) or "-" (the default: stdin); which
 * one is detected.  The record format is the trace file header's, else
 * --format, else $GMBEOO_RECORD_FORMAT, else gmbeoo16.
 *
 * Text lines look like
 *   store  size=4 cpl=3 le 0x00007ffd5c1e2a10
 * with "sx" after the size for sign-extending loads (extended32 adds vcpu,
 * cr3, paddr and pc).  --csv has a header line and the columns
 * vaddr,paddr,pc,size,sign_extend,store,cpl,vcpu,cr3 that the format has.
 * --din prints DineroIV's "label address" lines (0 read, 1 write, address
 * in hex without 0x), one per record.  --summary prints counts by kind,
 * cpl and size.  --raw writes the record stream itself (whole records,
 * drop markers included), e.g. of a delta-coded trace file.  --cr3 keeps
 * the records of one address space (extended32).
 * Drop markers are reported (a text line, or a note on stderr for --csv and
 * --din), never printed as accesses.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gmbeoo/gmbeoo.h"
#include "msg.h"

static gboolean opt_csv, opt_summary, opt_din, opt_raw;
static gint64 opt_limit = -1;
static char *opt_format, *opt_cr3;

static const GOptionEntry entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_NONE, &opt_csv, "print CSV", NULL },
    { "din", 0, 0, G_OPTION_ARG_NONE, &opt_din,
      "print DineroIV input (label address: 0 read, 1 write)", NULL },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &opt_raw,
      "write the record stream itself (binary, drop markers included)",
      NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT64, &opt_limit,
      "stop after N records", "N" },
    { "summary", 's', 0, G_OPTION_ARG_NONE, &opt_summary,
      "print counts by kind, cpl and size instead of records", NULL },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
      "record format of a stream without a header: gmbeoo16 (default), "
      "compact8 or extended32", "FORMAT" },
    { "cr3", 0, 0, G_OPTION_ARG_STRING, &opt_cr3,
      "keep only the records of the address space CR3 X (extended32)", "X" },
    G_OPTION_ENTRY_NULL
};

typedef struct Dump {
    GmbeooRecordFormat format;
    bool filter_cr3;
    guint64 cr3;
    guint64 done;               /* records printed or counted */
    GString *out;
    /* summary */
    guint64 by_kind[2];
    guint64 by_cpl[4];
    guint64 by_size_shift[8];
    guint64 by_vcpu[256];
    guint64 sign_extend, big_endian;
    guint64 markers, dropped;
    GHashTable *cr3s;           /* extended32: address spaces seen */
} Dump;

static void flush_out(Dump *d, bool force)
{
    if (force || d->out->len > (1 << 16) - 512) {
        fwrite(d->out->str, 1, d->out->len, stdout);
        g_string_truncate(d->out, 0);
    }
}

static void csv_header(Dump *d)
{
    g_string_append(d->out, "vaddr");
    if (d->format == GMBEOO_FORMAT_EXTENDED32) {
        g_string_append(d->out, ",paddr,pc");
    }
    g_string_append(d->out, ",size,sign_extend,store,cpl");
    if (d->format != GMBEOO_FORMAT_COMPACT8) {
        g_string_append(d->out, ",vcpu");
    }
    if (d->format == GMBEOO_FORMAT_EXTENDED32) {
        g_string_append(d->out, ",cr3");
    }
    g_string_append_c(d->out, '\n');
}

static void print_access(Dump *d, const GmbeooAccess *a)
{
    uint64_t w0 = a->info;
    unsigned size = gmbeoo_size_bytes(w0);
    bool sx = gmbeoo_is_sign_extend(w0), store = gmbeoo_is_store(w0);
    unsigned cpl = gmbeoo_cpl(w0);
    bool ext = d->format == GMBEOO_FORMAT_EXTENDED32;
    if (opt_din) {
        g_string_append_printf(d->out, "%d %" PRIx64 "\n", store, a->vaddr);
    } else if (opt_csv) {
        g_string_append_printf(d->out, "0x%" PRIx64, a->vaddr);
        if (ext) {
            g_string_append_printf(d->out, ",0x%" PRIx64 ",0x%" PRIx64,
                                   a->paddr, a->pc);
        }
        g_string_append_printf(d->out, ",%u,%d,%d,%u", size, sx, store, cpl);
        if (d->format != GMBEOO_FORMAT_COMPACT8) {
            g_string_append_printf(d->out, ",%u", a->vcpu);
        }
        if (ext) {
            g_string_append_printf(d->out, ",0x%" PRIx64, a->cr3);
        }
        g_string_append_c(d->out, '\n');
    } else {
        g_string_append_printf(d->out, "%-6s size=%u%s cpl=%u %s 0x%016"
                               PRIx64, store ? "store" : "load", size,
                               sx ? " sx" : "", cpl,
                               gmbeoo_is_big_endian(w0) ? "be" : "le",
                               a->vaddr);
        if (ext) {
            g_string_append_printf(d->out, " vcpu=%u cr3=0x%" PRIx64
                                   " paddr=0x%016" PRIx64 " pc=0x%016"
                                   PRIx64, a->vcpu, a->cr3, a->paddr, a->pc);
        }
        g_string_append_c(d->out, '\n');
    }
}

static void count_access(Dump *d, const GmbeooAccess *a)
{
    uint64_t w0 = a->info;
    d->by_kind[gmbeoo_is_store(w0)]++;
    d->by_cpl[gmbeoo_cpl(w0)]++;
    d->by_size_shift[gmbeoo_size_shift(w0)]++;
    d->by_vcpu[a->vcpu]++;
    d->sign_extend += gmbeoo_is_sign_extend(w0);
    d->big_endian += gmbeoo_is_big_endian(w0);
    if (d->format == GMBEOO_FORMAT_EXTENDED32) {
        g_hash_table_add(d->cr3s, g_memdup2(&a->cr3, sizeof(a->cr3)));
    }
}

/* Access @i of @b, decoded into record.h's one struct. */
static void access_at(const GmbeooBatch *b, size_t i, GmbeooAccess *a)
{
    *a = (GmbeooAccess){
        .vaddr = b->vaddr[i],
        .paddr = b->paddr ? b->paddr[i] : GMBEOO_NO_PADDR,
        .pc = b->pc ? b->pc[i] : 0,
        .cr3 = b->cr3 ? b->cr3[i] : 0,
        .info = b->info[i],
        .vcpu = b->vcpu ? b->vcpu[i] : 0,
        .valid = true,
    };
}

static void drop_marker(Dump *d, const GmbeooDrop *m)
{
    d->markers++;
    d->dropped += m->dropped;
    if (opt_summary) {
        return;
    }
    if (opt_csv || opt_din) {
        error_msg("%" G_GUINT64_FORMAT " records dropped before record %"
                  G_GUINT64_FORMAT, (guint64)m->dropped, (guint64)m->index);
    } else {
        g_string_append_printf(d->out, "dropped %" G_GUINT64_FORMAT
                               " records\n", (guint64)m->dropped);
    }
}

/* One batch, accesses and markers in stream order; false at the limit. */
static bool on_batch(Dump *d, const GmbeooBatch *b)
{
    size_t m = 0;
    for (size_t i = 0; i <= b->count; i++) {
        /* The markers that came before access i. */
        for (; m < b->ndrops && b->drops[m].before == i; m++) {
            if (opt_limit >= 0 && d->done >= (guint64)opt_limit) {
                return false;
            }
            drop_marker(d, &b->drops[m]);
        }
        if (i == b->count) {
            break;
        }
        if (opt_limit >= 0 && d->done >= (guint64)opt_limit) {
            return false;
        }
        GmbeooAccess a;
        access_at(b, i, &a);
        if (d->filter_cr3 && a.cr3 != d->cr3) {
            continue;
        }
        if (opt_summary) {
            count_access(d, &a);
        } else {
            print_access(d, &a);
        }
        d->done++;
    }
    flush_out(d, false);
    return true;
}

/* --raw: the batch's records as they came, drop markers included (--limit
 * counts records); false at the limit or when stdout fails. */
static bool on_raw_batch(Dump *d, const GmbeooBatch *b, bool *write_failed)
{
    guint64 n = b->count + b->ndrops;
    if (opt_limit >= 0) {
        n = MIN(n, (guint64)opt_limit - d->done);
    }
    if (fwrite(b->raw, b->record_size, n, stdout) != n) {
        *write_failed = true;
        return false;
    }
    d->done += n;
    return opt_limit < 0 || d->done < (guint64)opt_limit;
}

static void print_summary(Dump *d, GmbeooSource *src, gsize trailing)
{
    printf("records: %" G_GUINT64_FORMAT "\n", d->done);
    printf("load: %" G_GUINT64_FORMAT "\n", d->by_kind[0]);
    printf("store: %" G_GUINT64_FORMAT "\n", d->by_kind[1]);
    for (int c = 0; c < 4; c++) {
        if (d->by_cpl[c] || c == 0 || c == 3) {
            printf("cpl%d: %" G_GUINT64_FORMAT "\n", c, d->by_cpl[c]);
        }
    }
    for (int k = 0; k < 8; k++) {
        if (d->by_size_shift[k]) {
            printf("size%u: %" G_GUINT64_FORMAT "\n", 1u << k,
                   d->by_size_shift[k]);
        }
    }
    printf("sign_extend: %" G_GUINT64_FORMAT "\n", d->sign_extend);
    if (d->big_endian) {
        printf("big_endian: %" G_GUINT64_FORMAT "\n", d->big_endian);
    }
    if (d->by_vcpu[0] != d->done) {
        for (int v = 0; v < 256; v++) {
            if (d->by_vcpu[v]) {
                printf("vcpu%d: %" G_GUINT64_FORMAT "\n", v, d->by_vcpu[v]);
            }
        }
    }
    if (d->format == GMBEOO_FORMAT_EXTENDED32) {
        printf("address_spaces: %u\n", g_hash_table_size(d->cr3s));
    }
    if (d->markers) {
        printf("drop_markers: %" G_GUINT64_FORMAT "\n", d->markers);
        printf("dropped_records: %" G_GUINT64_FORMAT "\n", d->dropped);
    }
    if (trailing) {
        printf("trailing_bytes: %" G_GSIZE_FORMAT "\n", trailing);
    }
    bool trace_file = gmbeoo_kind(src) == GMBEOO_SOURCE_TRACE_FILE;
    const GmbeooMeta *m = gmbeoo_meta(src);
    if (trace_file || d->format != GMBEOO_FORMAT_GMBEOO16) {
        printf("record_format: %s\n", gmbeoo_format_name(d->format));
    }
    if (trace_file) {
        printf("source: trace file\n");
        printf("log_of_GMBE_block_len: %d\n", m->log_of_GMBE_block_len);
        printf("log_of_GMBE_tracing_ratio: %d\n",
               m->log_of_GMBE_tracing_ratio);
        printf("trace_only_CPL3_code_GMBE: %s\n",
               m->trace_only_CPL3_code_GMBE == 1 ? "yes" : "no");
        printf("guest_image: %s\n", m->guest_image ? m->guest_image : "");
        printf("snapshot: %s\n", m->snapshot ? m->snapshot : "");
        printf("workload: %s\n", m->workload ? m->workload : "");
        printf("memory_tracer_version: %s\n",
               m->memory_tracer_version ? m->memory_tracer_version : "");
        printf("qemu_version: %s\n", m->qemu_version ? m->qemu_version : "");
    }
}

int main(int argc, char **argv)
{
    msg_set_program("gmbeoo_dump");
    g_autoptr(GOptionContext) ctx = g_option_context_new("[FILE]");
    g_option_context_set_summary(ctx, "Decode a GMBEOO record stream (a FIFO, "
                                 "a raw record file or a trace file) from "
                                 "FILE or stdin.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc > 2) {
        error_msg("%s", err ? err->message : "at most one FILE");
        return 2;
    }
    if (opt_csv + opt_din + opt_summary + opt_raw > 1) {
        error_msg("--csv, --din, --summary and --raw exclude each other");
        return 2;
    }
    Dump d = { .cr3s = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                             g_free, NULL) };
    if (opt_cr3) {
        char *end;
        errno = 0;
        d.cr3 = g_ascii_strtoull(opt_cr3, &end, 0);
        if (!*opt_cr3 || *end || errno) {
            error_msg("--cr3: not a number: '%s'", opt_cr3);
            return 2;
        }
        d.cr3 &= ~UINT64_C(0xfff);     /* the PCID bits are not recorded */
        d.filter_cr3 = true;
    }
    int fallback = gmbeoo_format_resolve(opt_format);
    if (fallback < 0) {
        error_msg("%s%s", opt_format && *opt_format ? "--format: " : "",
                  gmbeoo_errmsg());
        return 2;
    }
    const char *path = argc == 2 ? argv[1] : "-";
    GmbeooSource *src = gmbeoo_open(path, fallback);
    GmbeooBatch b;
    /* The first batch: the source's kind and format are known after it. */
    int r = src ? gmbeoo_next(src, &b) : GMBEOO_ERROR;
    if (r == GMBEOO_ERROR && (!src || gmbeoo_kind(src) == GMBEOO_SOURCE_UNKNOWN)) {
        error_msg("%s", gmbeoo_errmsg());
        gmbeoo_close(src);
        return 1;
    }
    const GmbeooMeta *m = gmbeoo_meta(src);
    d.format = m->format;
    bool trace_file = gmbeoo_kind(src) == GMBEOO_SOURCE_TRACE_FILE;
    if (trace_file && opt_format &&
        (int)m->format != gmbeoo_format_from_name(opt_format)) {
        error_msg("--format %s, but %s is a trace file of %s records",
                  opt_format, path, gmbeoo_format_name(m->format));
        gmbeoo_close(src);
        return 2;
    }
    if (d.filter_cr3 && d.format != GMBEOO_FORMAT_EXTENDED32) {
        error_msg("--cr3 needs extended32 records (the only format that "
                  "records the address space), but %s has %s records", path,
                  gmbeoo_format_name(d.format));
        gmbeoo_close(src);
        return 2;
    }
    d.out = g_string_sized_new(1 << 16);
    if (opt_csv) {
        csv_header(&d);
    }
    bool write_failed = false;
    while (r == GMBEOO_BATCH &&
           (opt_raw ? on_raw_batch(&d, &b, &write_failed)
                    : on_batch(&d, &b))) {
        r = gmbeoo_next(src, &b);
    }
    bool ok = r != GMBEOO_ERROR && !write_failed;
    flush_out(&d, true);
    bool limited = opt_limit >= 0 && d.done >= (guint64)opt_limit;
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    gsize trailing = limited ? 0 : st.partial_bytes;
    if (ok && opt_summary) {
        print_summary(&d, src, trailing);
    } else if (ok && trailing) {
        error_msg("%" G_GSIZE_FORMAT " trailing bytes (an incomplete record) "
                  "ignored", trailing);
    }
    if (write_failed) {
        error_msg("cannot write the records: %s", g_strerror(errno));
    } else if (!ok) {
        error_msg("%s", gmbeoo_errmsg());
    }
    gmbeoo_close(src);
    g_string_free(d.out, TRUE);
    g_hash_table_destroy(d.cr3s);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return ok ? 0 : 1;
}
