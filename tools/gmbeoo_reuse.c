/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_reuse: the reuse-distance (LRU stack distance) histogram of a
 * GMBEOO trace, at cache-line and at page granularity.
 *
 *   gmbeoo_reuse [--line 64] [--page 4096] [--paddr] [--cpl 0|3]
 *                [--range START:LEN] [--csv | --json] [--plot OUT.png]
 *                TRACE|FIFO|-
 *
 * The reuse distance of a reference is the number of distinct blocks
 * referenced since the last reference to its block: 0 for a block used
 * twice in a row; a fully associative LRU cache of C blocks misses exactly
 * the cold references and those at distance >= C.  First references
 * ("cold") are counted apart; the others go into log2 buckets: 0, 1, 2-3,
 * 4-7, ...  An access that straddles a block boundary is one reference per
 * block it touches.  All vCPUs' records are taken in stream order.
 *
 * O(log n) per reference: each block's last reference time is in a hash
 * map, and a Fenwick tree over times marks the times that are some
 * block's last; the distance is the count of marks after the block's
 * last time.  Times are renumbered when the tree is full.  Run by
 * memory_tracer (the input a FIFO) it follows the analysis-tool contract.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmbeoo/record.h"

/* ---- the reuse stack: no I/O (tests/unit/test_analyses.c drives it) ---- */

#define REUSE_BUCKETS   65      /* 0, then [2^(b-1), 2^b - 1] for b >= 1 */
#define REUSE_MIN_TIMES (UINT64_C(1) << 16)

/* Block -> last reference time (+ 1: 0 marks an empty slot). */
typedef struct ReuseMap {
    uint64_t *key, *time;
    uint64_t mask, count;
} ReuseMap;

typedef struct ReuseStack {
    unsigned shift;             /* block = address >> shift */
    ReuseMap map;
    uint32_t *tree;             /* Fenwick tree over times 1..ntimes */
    uint64_t ntimes, now;       /* times used: 1..now */
    uint64_t refs, cold;
    uint64_t bucket[REUSE_BUCKETS];
} ReuseStack;

static inline uint64_t reuse_hash(uint64_t k)
{
    return (k * UINT64_C(0x9E3779B97F4A7C15)) ^ (k >> 29);
}

static void reuse_map_init(ReuseMap *m, uint64_t cap)
{
    m->key = g_new0(uint64_t, cap);
    m->time = g_new0(uint64_t, cap);
    m->mask = cap - 1;
    m->count = 0;
}

/* The slot of @k (its time 0 if new). */
static uint64_t reuse_map_slot(ReuseMap *m, uint64_t k)
{
    uint64_t i = reuse_hash(k) & m->mask;
    while (m->time[i] && m->key[i] != k) {
        i = (i + 1) & m->mask;
    }
    return i;
}

static void reuse_map_grow(ReuseMap *m)
{
    ReuseMap n;
    reuse_map_init(&n, (m->mask + 1) * 2);
    for (uint64_t i = 0; i <= m->mask; i++) {
        if (m->time[i]) {
            uint64_t j = reuse_map_slot(&n, m->key[i]);
            n.key[j] = m->key[i];
            n.time[j] = m->time[i];
        }
    }
    n.count = m->count;
    g_free(m->key);
    g_free(m->time);
    *m = n;
}

static void reuse_tree_add(ReuseStack *r, uint64_t t, int32_t d)
{
    for (; t <= r->ntimes; t += t & -t) {
        r->tree[t] += (uint32_t)d;
    }
}

/* Marks at times 1..t. */
static uint64_t reuse_tree_sum(const ReuseStack *r, uint64_t t)
{
    uint64_t s = 0;
    for (; t; t -= t & -t) {
        s += r->tree[t];
    }
    return s;
}

static void reuse_init(ReuseStack *r, uint64_t block_bytes)
{
    memset(r, 0, sizeof(*r));
    r->shift = (unsigned)__builtin_ctzll(block_bytes);
    reuse_map_init(&r->map, 1024);
    r->ntimes = REUSE_MIN_TIMES;
    r->tree = g_new0(uint32_t, r->ntimes + 1);
}

static void reuse_free(ReuseStack *r)
{
    g_free(r->map.key);
    g_free(r->map.time);
    g_free(r->tree);
}

static int cmp_time(const void *a, const void *b)
{
    uint64_t x = **(uint64_t *const *)a, y = **(uint64_t *const *)b;
    return x < y ? -1 : x > y;
}

/*
 * Every time is used: give the blocks' last times 1..k again in their
 * order (only the order matters) and make room for as many again.
 */
static void reuse_renumber(ReuseStack *r)
{
    uint64_t k = r->map.count, n = 0;
    uint64_t **last = g_new(uint64_t *, MAX(k, 1));
    for (uint64_t i = 0; i <= r->map.mask; i++) {
        if (r->map.time[i]) {
            last[n++] = &r->map.time[i];
        }
    }
    qsort(last, n, sizeof(*last), cmp_time);
    for (uint64_t i = 0; i < n; i++) {
        *last[i] = i + 1;
    }
    g_free(last);
    r->ntimes = MAX(2 * k, REUSE_MIN_TIMES);
    g_free(r->tree);
    r->tree = g_new0(uint32_t, r->ntimes + 1);
    /* Times 1..k all marked: node t covers (t - lowbit(t), t]. */
    for (uint64_t t = 1; t <= r->ntimes; t++) {
        uint64_t lo = t - (t & -t);
        r->tree[t] = (uint32_t)(t <= k ? t - lo : lo < k ? k - lo : 0);
    }
    r->now = k;
}

static unsigned reuse_bucket_of(uint64_t d)
{
    return d == 0 ? 0 : 64 - (unsigned)__builtin_clzll(d);
}

/* One reference to the block of @addr. */
static void reuse_ref(ReuseStack *r, uint64_t addr)
{
    uint64_t block = addr >> r->shift;
    if (r->now == r->ntimes) {
        reuse_renumber(r);
    }
    uint64_t t = ++r->now;
    uint64_t i = reuse_map_slot(&r->map, block);
    r->refs++;
    if (r->map.time[i]) {
        uint64_t last = r->map.time[i];
        uint64_t d = reuse_tree_sum(r, t - 1) - reuse_tree_sum(r, last);
        r->bucket[reuse_bucket_of(d)]++;
        reuse_tree_add(r, last, -1);
        r->map.time[i] = t;
    } else {
        r->cold++;
        r->map.key[i] = block;
        r->map.time[i] = t;
        if (++r->map.count * 2 > r->map.mask + 1) {
            reuse_map_grow(&r->map);
        }
    }
    reuse_tree_add(r, t, 1);
}

/* An access of @size bytes at @addr: one reference per block touched. */
static void reuse_access(ReuseStack *r, uint64_t addr, unsigned size)
{
    uint64_t end = addr + size - 1;
    uint64_t last = (end < addr ? UINT64_MAX : end) >> r->shift;  /* no wrap */
    for (uint64_t b = addr >> r->shift;; b++) {
        reuse_ref(r, b << r->shift);
        if (b == last) {
            break;
        }
    }
}

/* References at distance >= @c plus the cold ones: the misses of a fully
 * associative LRU cache of @c blocks (@c a power of two). */
static uint64_t reuse_misses(const ReuseStack *r, uint64_t c)
{
    /* Buckets are exact only at powers of two. */
    uint64_t m = r->cold;
    for (unsigned b = reuse_bucket_of(c); b < REUSE_BUCKETS; b++) {
        m += r->bucket[b];
    }
    return m;
}

#ifndef GMBEOO_CORE_ONLY
/* ---- the tool: options, input, report, plot ---- */

#include <cairo.h>

#include "analysis_io.h"
#include "gmbeoo/gmbeoo.h"

#define TOOL "gmbeoo_reuse"

static gint64 opt_line = 64, opt_page = 4096;

static const GOptionEntry entries[] = {
    { "line", 0, 0, G_OPTION_ARG_INT64, &opt_line,
      "bytes per cache line (a power of two, default 64)", "B" },
    { "page", 0, 0, G_OPTION_ARG_INT64, &opt_page,
      "bytes per page (a power of two, default 4096)", "B" },
    G_OPTION_ENTRY_NULL
};

typedef struct Input {
    ReuseStack lines, pages;
    AnalysisInput io;           /* options, filters, counts, the input */
} Input;

static void feed(void *arg, const GmbeooBatch *b)
{
    Input *in = arg;
    const uint64_t *addr = analysis_addrs(&in->io, b);
    for (size_t i = 0; i < b->count; i++) {
        if (analysis_keep(&in->io, b, i)) {
            reuse_access(&in->lines, addr[i], gmbeoo_size_bytes(b->info[i]));
            reuse_access(&in->pages, addr[i], gmbeoo_size_bytes(b->info[i]));
        }
    }
}

/* The bucket's distances: [lo, hi]. */
static void bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
    *lo = b == 0 ? 0 : UINT64_C(1) << (b - 1);
    *hi = b == 0 ? 0 : b == 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
}

/* One past the last bucket with references (at least 1). */
static unsigned buckets_used(const ReuseStack *r)
{
    unsigned n = 1;
    for (unsigned b = 0; b < REUSE_BUCKETS; b++) {
        if (r->bucket[b]) {
            n = b + 1;
        }
    }
    return n;
}

static const char *gran_name(const Input *in, const ReuseStack *r)
{
    return r == &in->lines ? "line" : "page";
}

static void text_hist(FILE *out, const Input *in, const ReuseStack *r)
{
    fprintf(out, "%ss of %u bytes: %" PRIu64 " references, %" PRIu64
            " cold (distinct %ss)\n", gran_name(in, r), 1u << r->shift,
            r->refs, r->cold, gran_name(in, r));
    fprintf(out, "  %-24s %14s %8s %8s\n", "distance", "references", "%",
            "cumul. %");
    uint64_t cum = 0;
    for (unsigned b = 0; b < buckets_used(r); b++) {
        uint64_t lo, hi;
        char range[48];
        bucket_range(b, &lo, &hi);
        if (lo == hi) {
            snprintf(range, sizeof(range), "%" PRIu64, lo);
        } else {
            snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, lo, hi);
        }
        cum += r->bucket[b];
        fprintf(out, "  %-24s %14" PRIu64 " %8.2f %8.2f\n", range,
                r->bucket[b], r->refs ? 100.0 * r->bucket[b] / r->refs : 0,
                r->refs ? 100.0 * cum / r->refs : 0);
    }
    fprintf(out, "  %-24s %14" PRIu64 " %8.2f\n", "cold", r->cold,
            r->refs ? 100.0 * r->cold / r->refs : 0);
    fprintf(out, "  misses of a fully associative LRU cache of");
    for (uint64_t c = 64; c <= 32768; c *= 8) {
        fprintf(out, " %" PRIu64 ": %" PRIu64 "%s", c, reuse_misses(r, c),
                c < 32768 ? "," : "");
    }
    fprintf(out, " %ss\n", gran_name(in, r));
}

static void report_text(FILE *out, const Input *in)
{
    fprintf(out, "accesses: %" PRIu64 " (%s, %s), filtered out: %" PRIu64
            ", without a physical address: %" PRIu64 "\n", in->io.accesses,
            gmbeoo_format_name(in->io.format), in->io.kind, in->io.filtered,
            in->io.no_paddr);
    if (in->io.drops) {
        fprintf(out, "ATTENTION: %" PRIu64 " drop markers, %" PRIu64
                " records missing: the distances are of what is left\n",
                in->io.drops, in->io.dropped);
    }
    if (in->io.error) {
        fprintf(out, "ATTENTION: the input failed: %s\n", in->io.error);
    }
    text_hist(out, in, &in->lines);
    text_hist(out, in, &in->pages);
}

static void report_csv(FILE *out, const Input *in)
{
    fprintf(out, "granularity,block_bytes,distance_min,distance_max,refs\n");
    for (int g = 0; g < 2; g++) {
        const ReuseStack *r = g ? &in->pages : &in->lines;
        for (unsigned b = 0; b < buckets_used(r); b++) {
            uint64_t lo, hi;
            bucket_range(b, &lo, &hi);
            fprintf(out, "%s,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                    gran_name(in, r), 1u << r->shift, lo, hi, r->bucket[b]);
        }
        fprintf(out, "%s,%u,cold,cold,%" PRIu64 "\n", gran_name(in, r),
                1u << r->shift, r->cold);
    }
}

static void report_json(FILE *out, const Input *in)
{
    fprintf(out, "{\"accesses\": %" PRIu64 ", \"format\": \"%s\", "
            "\"filtered\": %" PRIu64 ", \"no_paddr\": %" PRIu64
            ", \"drop_markers\": %" PRIu64 ", \"records_dropped\": %" PRIu64
            "%s", in->io.accesses, gmbeoo_format_name(in->io.format),
            in->io.filtered, in->io.no_paddr, in->io.drops, in->io.dropped,
            in->io.error ? ", \"error\": \"the input failed\"" : "");
    for (int g = 0; g < 2; g++) {
        const ReuseStack *r = g ? &in->pages : &in->lines;
        fprintf(out, ",\n \"%s\": {\"block_bytes\": %u, \"refs\": %" PRIu64
                ", \"cold\": %" PRIu64 ", \"buckets\": [", gran_name(in, r),
                1u << r->shift, r->refs, r->cold);
        for (unsigned b = 0; b < buckets_used(r); b++) {
            uint64_t lo, hi;
            bucket_range(b, &lo, &hi);
            fprintf(out, "%s{\"min\": %" PRIu64 ", \"max\": %" PRIu64
                    ", \"refs\": %" PRIu64 "}", b ? ", " : "", lo, hi,
                    r->bucket[b]);
        }
        fprintf(out, "]}");
    }
    fprintf(out, "}\n");
}

static void report(FILE *out, void *arg)
{
    const Input *in = arg;
    if (in->io.json) {
        report_json(out, in);
    } else if (in->io.csv) {
        report_csv(out, in);
    } else {
        report_text(out, in);
    }
}

/* One histogram: a bar per log2 bucket and one for the cold references,
 * as a share of all references. */
static void panel(cairo_t *cr, const Input *in, const ReuseStack *r,
                  double x, double y, double w, double h)
{
    unsigned n = buckets_used(r);
    double bw = w / (n + 1);
    uint64_t max = r->cold;
    for (unsigned b = 0; b < n; b++) {
        max = MAX(max, r->bucket[b]);
    }
    cairo_set_font_size(cr, 13);
    cairo_set_source_rgb(cr, 0, 0, 0);
    g_autofree char *title = g_strdup_printf(
        "%ss of %u bytes: %" PRIu64 " references", gran_name(in, r),
        1u << r->shift, r->refs);
    analysis_text_at(cr, title, x + w / 2, y - 8, 0.5, 1);
    cairo_set_font_size(cr, 9);
    for (unsigned b = 0; b <= n; b++) {
        uint64_t v = b < n ? r->bucket[b] : r->cold;
        double bh = max ? 0.92 * h * (double)v / (double)max : 0;
        if (b < n) {
            cairo_set_source_rgb(cr, 0.20, 0.42, 0.72);
        } else {
            cairo_set_source_rgb(cr, 0.80, 0.30, 0.15);
        }
        cairo_rectangle(cr, x + bw * b + 1, y + h - bh, bw - 2, bh);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        char label[32];
        if (b == n) {
            snprintf(label, sizeof(label), "cold");
        } else if (b == 0) {
            snprintf(label, sizeof(label), "0");
        } else {
            snprintf(label, sizeof(label), "2^%u", b - 1);
        }
        if (bw >= 18 || b % 2 == 0 || b == n) {
            analysis_text_at(cr, label, x + bw * b + bw / 2, y + h + 4, 0.5, 0);
        }
        if (r->refs && v) {
            snprintf(label, sizeof(label), "%.0f%%",
                     100.0 * (double)v / (double)r->refs);
            analysis_text_at(cr, label, x + bw * b + bw / 2, y + h - bh - 2, 0.5, 1);
        }
    }
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    analysis_text_at(cr, "reuse distance: distinct blocks in between (2^k: "
            "2^k to 2^(k+1)-1)",
            x + w / 2, y + h + 20, 0.5, 0);
}

static bool plot(void *arg, const char *path)
{
    const Input *in = arg;
    const double W = 1200, H = 480, top = 60, bottom = 60, side = 30,
                 gap = 40, pw = (W - 2 * side - gap) / 2, ph = H - top - bottom;
    cairo_surface_t *surf;
    cairo_t *cr = analysis_canvas((int)W, (int)H, &surf);
    g_autofree char *title = g_strdup_printf(
        "reuse distance: %" PRIu64 " accesses; bar height: references, "
        "label: share", in->io.accesses);
    analysis_text_at(cr, title, W / 2, 12, 0.5, 0);
    panel(cr, in, &in->lines, side, top, pw, ph);
    panel(cr, in, &in->pages, side + pw + gap, top, pw, ph);
    return analysis_write_png(TOOL, cr, surf, path);
}

static int usage(const char *why)
{
    return analysis_usage(TOOL, why);
}

int main(int argc, char **argv)
{
    static Input in;
    int bad = analysis_parse(TOOL,
        "The reuse-distance histogram of a GMBEOO trace, per "
        "cache line and per page.",
        entries, &in.io, "physical addresses (extended32 records)",
        "draw the two histograms as a PNG", &argc, &argv);
    if (bad) {
        return bad;
    }
    if (!analysis_options_ok(&in.io) || !analysis_power_of_two(opt_line) ||
        !analysis_power_of_two(opt_page)) {
        return usage("--cpl takes 0 or 3, --line and --page powers of two; "
                     "--csv and --json exclude each other");
    }
    bad = analysis_range(TOOL, &in.io);
    if (bad) {
        return bad;
    }
    int format = analysis_format(TOOL, in.io.format_name);
    if (format == -2) {
        return 2;
    }
    reuse_init(&in.lines, (uint64_t)opt_line);
    reuse_init(&in.pages, (uint64_t)opt_page);

    int status = analysis_run(TOOL, argc, argv, format, &in.io, feed, plot,
                              report, &in);
    reuse_free(&in.lines);
    reuse_free(&in.pages);
    return status;
}
#endif /* GMBEOO_CORE_ONLY */
