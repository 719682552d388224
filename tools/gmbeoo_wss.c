/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_wss: the working-set size of a GMBEOO trace over time -- the
 * distinct cache lines and pages touched in each window of N accesses.
 *
 *   gmbeoo_wss [--window N] [--line 64] [--page 4096] [--paddr]
 *              [--cpl 0|3] [--range START:LEN] [--csv | --json]
 *              [--plot OUT.png] TRACE|FIFO|-
 *
 * Windows are consecutive and do not overlap: accesses 0..N-1, N..2N-1,
 * ... (after the --cpl / --range filters; drop markers are not accesses);
 * the last one may be shorter and says so.  An access that straddles a
 * line or page boundary touches both.  All vCPUs' records count, in stream
 * order.  Each window's sets are hash sets stamped with the window's
 * number, so starting a window clears nothing.  Run by memory_tracer (the
 * input a FIFO) it follows the analysis-tool contract.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmbeoo/record.h"

/* ---- the windows: no I/O (tests/unit/test_analyses.c drives them) ---- */

/* A set of blocks whose members are those stamped with the current
 * window: a slot of another stamp is free. */
typedef struct WssSet {
    uint64_t *key, *stamp;
    uint64_t mask, count;       /* count: members of the current window */
} WssSet;

typedef struct WssWindow {
    uint64_t first;             /* index of its first access */
    uint64_t accesses, lines, pages;
} WssWindow;

typedef struct Wss {
    uint64_t window;            /* accesses per window */
    unsigned line_shift, page_shift;
    WssSet lines, pages;
    uint64_t stamp;             /* the current window's number + 1 */
    WssWindow cur;
    GArray *done;               /* of WssWindow, the whole windows */
} Wss;

static void wss_set_init(WssSet *s, uint64_t cap)
{
    s->key = g_new0(uint64_t, cap);
    s->stamp = g_new0(uint64_t, cap);
    s->mask = cap - 1;
    s->count = 0;
}

static inline uint64_t wss_hash(uint64_t k)
{
    return (k * UINT64_C(0x9E3779B97F4A7C15)) ^ (k >> 29);
}

/* Add @k to the window @stamp's set; true if it was not in it. */
static bool wss_set_add(WssSet *s, uint64_t k, uint64_t stamp)
{
    uint64_t i = wss_hash(k) & s->mask;
    /* Members of this window sit before any free slot of their chain: a
     * slot only frees when the window ends. */
    while (s->stamp[i] == stamp) {
        if (s->key[i] == k) {
            return false;
        }
        i = (i + 1) & s->mask;
    }
    s->key[i] = k;
    s->stamp[i] = stamp;
    if (++s->count * 2 > s->mask + 1) {
        WssSet n;
        wss_set_init(&n, (s->mask + 1) * 2);
        for (uint64_t j = 0; j <= s->mask; j++) {
            if (s->stamp[j] == stamp) {
                wss_set_add(&n, s->key[j], stamp);
            }
        }
        g_free(s->key);
        g_free(s->stamp);
        *s = n;
    }
    return true;
}

static void wss_init(Wss *w, uint64_t window, uint64_t line, uint64_t page)
{
    memset(w, 0, sizeof(*w));
    w->window = window;
    w->line_shift = (unsigned)__builtin_ctzll(line);
    w->page_shift = (unsigned)__builtin_ctzll(page);
    wss_set_init(&w->lines, 1024);
    wss_set_init(&w->pages, 1024);
    w->stamp = 1;
    w->done = g_array_new(FALSE, FALSE, sizeof(WssWindow));
}

static void wss_free(Wss *w)
{
    g_free(w->lines.key);
    g_free(w->lines.stamp);
    g_free(w->pages.key);
    g_free(w->pages.stamp);
    g_array_free(w->done, TRUE);
}

static void wss_blocks(WssSet *s, uint64_t stamp, unsigned shift,
                       uint64_t addr, unsigned size, uint64_t *n)
{
    uint64_t end = addr + size - 1;
    uint64_t last = (end < addr ? UINT64_MAX : end) >> shift;  /* no wrap */
    for (uint64_t b = addr >> shift;; b++) {
        *n += wss_set_add(s, b, stamp);
        if (b == last) {
            break;
        }
    }
}

/* One access of @size bytes at @addr. */
static void wss_access(Wss *w, uint64_t addr, unsigned size)
{
    wss_blocks(&w->lines, w->stamp, w->line_shift, addr, size,
               &w->cur.lines);
    wss_blocks(&w->pages, w->stamp, w->page_shift, addr, size,
               &w->cur.pages);
    if (++w->cur.accesses == w->window) {
        g_array_append_val(w->done, w->cur);
        w->cur = (WssWindow){ .first = w->cur.first + w->window };
        w->stamp++;
        w->lines.count = w->pages.count = 0;
    }
}

#ifndef GMBEOO_CORE_ONLY
/* ---- the tool: options, input, report, plot ---- */

#include <cairo.h>

#include "analysis_io.h"
#include "gmbeoo/gmbeoo.h"

#define TOOL "gmbeoo_wss"

static gint64 opt_window = 1000000, opt_line = 64, opt_page = 4096;

static const GOptionEntry entries[] = {
    { "window", 'w', 0, G_OPTION_ARG_INT64, &opt_window,
      "accesses per window (default 1000000)", "N" },
    { "line", 0, 0, G_OPTION_ARG_INT64, &opt_line,
      "bytes per cache line (a power of two, default 64)", "B" },
    { "page", 0, 0, G_OPTION_ARG_INT64, &opt_page,
      "bytes per page (a power of two, default 4096)", "B" },
    G_OPTION_ENTRY_NULL
};

typedef struct Input {
    Wss wss;
    AnalysisInput io;           /* options, filters, counts, the input */
} Input;

static void feed(void *arg, const GmbeooBatch *b)
{
    Input *in = arg;
    const uint64_t *addr = analysis_addrs(&in->io, b);
    for (size_t i = 0; i < b->count; i++) {
        if (analysis_keep(&in->io, b, i)) {
            wss_access(&in->wss, addr[i], gmbeoo_size_bytes(b->info[i]));
        }
    }
}

/* Window @k (the last one may be the partial one). */
static const WssWindow *window_at(const Input *in, guint k)
{
    return k < in->wss.done->len
           ? &g_array_index(in->wss.done, WssWindow, k) : &in->wss.cur;
}

static guint windows(const Input *in)
{
    return in->wss.done->len + (in->wss.cur.accesses > 0);
}

static void report_text(FILE *out, const Input *in)
{
    const Wss *w = &in->wss;
    fprintf(out, "accesses: %" PRIu64 " (%s, %s), filtered out: %" PRIu64
            ", without a physical address: %" PRIu64 "\n", in->io.accesses,
            gmbeoo_format_name(in->io.format), in->io.kind, in->io.filtered,
            in->io.no_paddr);
    if (in->io.drops) {
        fprintf(out, "ATTENTION: %" PRIu64 " drop markers, %" PRIu64
                " records missing: the windows are of what is left\n",
                in->io.drops, in->io.dropped);
    }
    if (in->io.error) {
        fprintf(out, "ATTENTION: the input failed: %s\n", in->io.error);
    }
    fprintf(out, "windows of %" PRIu64 " accesses; lines of %u bytes, "
            "pages of %u bytes\n", w->window, 1u << w->line_shift,
            1u << w->page_shift);
    fprintf(out, "%8s %14s %10s %12s %12s %10s %12s\n", "window",
            "first_access", "accesses", "lines", "line_bytes", "pages",
            "page_bytes");
    for (guint k = 0; k < windows(in); k++) {
        const WssWindow *d = window_at(in, k);
        fprintf(out, "%8u %14" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12"
                PRIu64 " %10" PRIu64 " %12" PRIu64 "%s\n", k, d->first,
                d->accesses, d->lines, d->lines << w->line_shift, d->pages,
                d->pages << w->page_shift,
                d->accesses < w->window ? "  (partial)" : "");
    }
}

static void report_csv(FILE *out, const Input *in)
{
    const Wss *w = &in->wss;
    fprintf(out, "window,first_access,accesses,lines,pages,line_bytes,"
            "page_bytes\n");
    for (guint k = 0; k < windows(in); k++) {
        const WssWindow *d = window_at(in, k);
        fprintf(out, "%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,"
                "%u\n", k, d->first, d->accesses, d->lines, d->pages,
                1u << w->line_shift, 1u << w->page_shift);
    }
}

static void report_json(FILE *out, const Input *in)
{
    const Wss *w = &in->wss;
    fprintf(out, "{\"accesses\": %" PRIu64 ", \"format\": \"%s\", "
            "\"filtered\": %" PRIu64 ", \"no_paddr\": %" PRIu64
            ", \"drop_markers\": %" PRIu64 ", \"records_dropped\": %" PRIu64
            "%s, \"window\": %" PRIu64 ", \"line_bytes\": %u, "
            "\"page_bytes\": %u, \"windows\": [", in->io.accesses,
            gmbeoo_format_name(in->io.format), in->io.filtered,
            in->io.no_paddr, in->io.drops, in->io.dropped,
            in->io.error ? ", \"error\": \"the input failed\"" : "", w->window,
            1u << w->line_shift, 1u << w->page_shift);
    for (guint k = 0; k < windows(in); k++) {
        const WssWindow *d = window_at(in, k);
        fprintf(out, "%s\n {\"first\": %" PRIu64 ", \"accesses\": %" PRIu64
                ", \"lines\": %" PRIu64 ", \"pages\": %" PRIu64 "}",
                k ? "," : "", d->first, d->accesses, d->lines, d->pages);
    }
    fprintf(out, "]}\n");
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

/* One panel: a step line of @lines ? lines : pages per window. */
static void panel(cairo_t *cr, const Input *in, bool lines, double x,
                  double y, double w, double h)
{
    guint n = windows(in);
    uint64_t max = 1;
    for (guint k = 0; k < n; k++) {
        const WssWindow *d = window_at(in, k);
        max = MAX(max, lines ? d->lines : d->pages);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 10);
    for (int t = 0; t <= 4; t++) {
        char label[32];
        snprintf(label, sizeof(label), "%" PRIu64, max * (uint64_t)t / 4);
        analysis_text_at(cr, label, x - 6, y + h - h * t / 4, 1, 0.5);
        snprintf(label, sizeof(label), "%" PRIu64,
                 in->io.accesses * (uint64_t)t / 4);
        analysis_text_at(cr, label, x + w * t / 4, y + h + 4, t == 0 ? 0 : t == 4
                ? 1 : 0.5, 0);
    }
    cairo_set_font_size(cr, 12);
    g_autofree char *title = g_strdup_printf(
        "distinct %s of %u bytes per window of %" PRIu64 " accesses",
        lines ? "lines" : "pages",
        1u << (lines ? in->wss.line_shift : in->wss.page_shift),
        in->wss.window);
    analysis_text_at(cr, title, x + w / 2, y - 6, 0.5, 1);
    if (lines) {
        cairo_set_source_rgb(cr, 0.15, 0.35, 0.70);
    } else {
        cairo_set_source_rgb(cr, 0.75, 0.25, 0.10);
    }
    cairo_set_line_width(cr, 1.5);
    for (guint k = 0; k < n; k++) {
        const WssWindow *d = window_at(in, k);
        double v = (double)(lines ? d->lines : d->pages);
        double x0 = x + w * (double)d->first / (double)MAX(in->io.accesses, 1);
        double x1 = x + w * (double)(d->first + d->accesses) /
                    (double)MAX(in->io.accesses, 1);
        double py = y + h - h * v / (double)max;
        if (k == 0) {
            cairo_move_to(cr, x0, py);
        } else {
            cairo_line_to(cr, x0, py);
        }
        cairo_line_to(cr, x1, py);
    }
    cairo_stroke(cr);
}

static bool plot(void *arg, const char *path)
{
    const Input *in = arg;
    const double W = 1000, H = 640, left = 80, right = 30, top = 50,
                 gap = 70, bottom = 50, pw = W - left - right,
                 ph = (H - top - gap - bottom) / 2;
    cairo_surface_t *surf;
    cairo_t *cr = analysis_canvas((int)W, (int)H, &surf);
    g_autofree char *title = g_strdup_printf(
        "working set over time: %" PRIu64 " accesses", in->io.accesses);
    analysis_text_at(cr, title, W / 2, 10, 0.5, 0);
    panel(cr, in, true, left, top, pw, ph);
    panel(cr, in, false, left, top + ph + gap, pw, ph);
    cairo_set_font_size(cr, 11);
    cairo_set_source_rgb(cr, 0, 0, 0);
    analysis_text_at(cr, "access index", left + pw / 2, H - 18, 0.5, 0);
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
        "The working-set size of a GMBEOO trace per window of "
        "N accesses: distinct lines and pages.",
        entries, &in.io, "physical addresses (extended32 records)",
        "draw lines and pages per window as a PNG", &argc, &argv);
    if (bad) {
        return bad;
    }
    if (!analysis_options_ok(&in.io) || !analysis_power_of_two(opt_line) ||
        !analysis_power_of_two(opt_page) || opt_window < 1) {
        return usage("--cpl takes 0 or 3, --line and --page powers of two, "
                     "--window a positive count; --csv and --json exclude "
                     "each other");
    }
    bad = analysis_range(TOOL, &in.io);
    if (bad) {
        return bad;
    }
    int format = analysis_format(TOOL, in.io.format_name);
    if (format == -2) {
        return 2;
    }
    wss_init(&in.wss, (uint64_t)opt_window, (uint64_t)opt_line,
             (uint64_t)opt_page);

    int status = analysis_run(TOOL, argc, argv, format, &in.io, feed, plot,
                              report, &in);
    wss_free(&in.wss);
    return status;
}
#endif /* GMBEOO_CORE_ONLY */
