/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_heatmap: a picture of a trace -- accesses per page (y) over the
 * record index (x), loads and stores in two panels side by side, each with
 * a log colour scale and its legend.
 *
 *   gmbeoo_heatmap TRACE -o OUT.png [--rows N] [--cols N] [--page-size B]
 *                  [--format F] [--cpl 0|3] [--width W] [--height H]
 *
 * TRACE is a trace file or a raw record file (read twice: first for the
 * pages and the record count, then for the picture).  Rows are the pages
 * touched, in address order (gaps in the address space are not drawn);
 * with more pages than rows, each row is a run of consecutive touched
 * pages and is labelled with the first.  Drop markers are skipped.
 */
#include <cairo.h>
#include <errno.h>
#include <gio/gio.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis_io.h"
#include "gmbeoo/gmbeoo.h"
#include "msg.h"

static char *opt_out, *opt_format;
static gint opt_rows = 256, opt_cols = 640, opt_width = 1400,
            opt_height = 900, opt_cpl = -1;
static gint64 opt_page = 4096;

static const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "the PNG to write", "OUT.png" },
    { "rows", 0, 0, G_OPTION_ARG_INT, &opt_rows,
      "at most N rows of pages (default 256)", "N" },
    { "cols", 0, 0, G_OPTION_ARG_INT, &opt_cols,
      "N columns of record index (default 640)", "N" },
    { "page-size", 0, 0, G_OPTION_ARG_INT64, &opt_page,
      "bytes per page (a power of two, default 4096)", "B" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
      "record format of a raw stream (default: $GMBEOO_RECORD_FORMAT, "
      "else gmbeoo16)", "FORMAT" },
    { "cpl", 0, 0, G_OPTION_ARG_INT, &opt_cpl,
      "only accesses made at this CPL (0 or 3)", "CPL" },
    { "width", 0, 0, G_OPTION_ARG_INT, &opt_width, "image width", "PX" },
    { "height", 0, 0, G_OPTION_ARG_INT, &opt_height, "image height", "PX" },
    G_OPTION_ENTRY_NULL
};

typedef struct Map {
    unsigned page_shift;
    /* pass 1 */
    GHashTable *pages;          /* page number -> row + 1 (after pass 1) */
    guint64 records;            /* accesses (markers not included) */
    guint64 markers_seen;
    /* pass 2 */
    guint64 index;              /* accesses seen so far */
    int rows, cols;
    guint64 *load, *store;      /* rows x cols */
    guint64 *row_page;          /* first page of each row */
    guint64 max_load, max_store;
} Map;

static bool keep(uint8_t info)
{
    return opt_cpl < 0 || gmbeoo_cpl(info) == (unsigned)opt_cpl;
}

static void collect_pages(Map *m, const GmbeooBatch *b)
{
    m->markers_seen += b->ndrops;
    for (gsize i = 0; i < b->count; i++) {
        if (keep(b->info[i])) {
            g_hash_table_add(m->pages,
                             GSIZE_TO_POINTER(b->vaddr[i] >> m->page_shift));
            m->records++;
        }
    }
}

static void count_cells(Map *m, const GmbeooBatch *b)
{
    for (gsize i = 0; i < b->count; i++) {
        if (!keep(b->info[i])) {
            continue;
        }
        gsize row1 = GPOINTER_TO_SIZE(g_hash_table_lookup(
            m->pages, GSIZE_TO_POINTER(b->vaddr[i] >> m->page_shift)));
        if (row1 == 0 || m->index >= m->records) {
            continue;           /* the file changed between the passes */
        }
        int col = (int)(m->index * (guint64)m->cols / m->records);
        m->index++;
        gsize cell = (row1 - 1) * (gsize)m->cols + (gsize)col;
        if (gmbeoo_is_store(b->info[i])) {
            m->max_store = MAX(m->max_store, ++m->store[cell]);
        } else {
            m->max_load = MAX(m->max_load, ++m->load[cell]);
        }
    }
}

static gint cmp_u64(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

/* Rows: the touched pages in order, n pages per row when there are more
 * pages than rows. */
static void assign_rows(Map *m)
{
    guint n = g_hash_table_size(m->pages);
    g_autofree guint64 *sorted = g_new(guint64, MAX(n, 1));
    GHashTableIter it;
    gpointer key;
    guint k = 0;
    g_hash_table_iter_init(&it, m->pages);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        sorted[k++] = GPOINTER_TO_SIZE(key);
    }
    qsort(sorted, n, sizeof(*sorted),
          (int (*)(const void *, const void *))cmp_u64);
    m->rows = (int)MIN(n, (guint)opt_rows);
    m->rows = MAX(m->rows, 1);
    m->row_page = g_new0(guint64, m->rows);
    for (guint i = n; i-- > 0;) {
        int row = (int)((guint64)i * (guint64)m->rows / MAX(n, 1));
        m->row_page[row] = sorted[i] << m->page_shift;
        g_hash_table_insert(m->pages, GSIZE_TO_POINTER(sorted[i]),
                            GSIZE_TO_POINTER((gsize)row + 1));
    }
}

/* Colour of @t in [0, 1] for loads (blue) or stores (orange-red). */
static void ramp(double t, bool store, double rgb[3])
{
    static const double lo[3] = { 0.97, 0.97, 0.97 };
    static const double mid_l[3] = { 0.35, 0.62, 0.88 };
    static const double hi_l[3] = { 0.03, 0.12, 0.40 };
    static const double mid_s[3] = { 0.98, 0.62, 0.30 };
    static const double hi_s[3] = { 0.55, 0.03, 0.02 };
    const double *mid = store ? mid_s : mid_l, *hi = store ? hi_s : hi_l;
    for (int c = 0; c < 3; c++) {
        rgb[c] = t < 0.5 ? lo[c] + (mid[c] - lo[c]) * t * 2
                         : mid[c] + (hi[c] - mid[c]) * (t - 0.5) * 2;
    }
}

static double log_scale(guint64 v, guint64 max)
{
    return max <= 1 ? (v ? 1.0 : 0.0) : log((double)v) / log((double)max);
}

/* One panel: the cells as an image, scaled without smoothing. */
static void draw_cells(cairo_t *cr, const Map *m, const guint64 *cells,
                       guint64 max, bool store, double x, double y,
                       double w, double h)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                                      m->cols, m->rows);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    cairo_surface_flush(img);
    for (int r = 0; r < m->rows; r++) {
        /* Row 0 (lowest address) at the bottom. */
        guint32 *line = (guint32 *)(px + (m->rows - 1 - r) * stride);
        for (int c = 0; c < m->cols; c++) {
            guint64 v = cells[(gsize)r * m->cols + c];
            double rgb[3] = { 1, 1, 1 };
            if (v) {
                ramp(0.12 + 0.88 * log_scale(v, max), store, rgb);
            }
            line[c] = (guint32)(rgb[0] * 255) << 16 |
                      (guint32)(rgb[1] * 255) << 8 | (guint32)(rgb[2] * 255);
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, w / m->cols, h / m->rows);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, m->cols, m->rows);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
    cairo_stroke(cr);
}

static void x_axis(cairo_t *cr, const Map *m, double x, double y, double w)
{
    cairo_set_font_size(cr, 11);
    for (int t = 0; t <= 4; t++) {
        double px = x + w * t / 4;
        char label[32];
        g_snprintf(label, sizeof(label), "%" G_GUINT64_FORMAT,
                   m->records * (guint64)t / 4);
        cairo_move_to(cr, px + 0.5, y);
        cairo_line_to(cr, px + 0.5, y + 5);
        cairo_stroke(cr);
        analysis_text_at(cr, label, px, y + 8, t == 0 ? 0 : t == 4 ? 1 : 0.5, 0);
    }
    cairo_set_font_size(cr, 12);
    analysis_text_at(cr, "record index", x + w / 2, y + 26, 0.5, 0);
}

static void y_axis(cairo_t *cr, const Map *m, double x, double y, double h)
{
    cairo_set_font_size(cr, 10);
    int every = MAX(1, (int)ceil(m->rows * 16.0 / h));
    for (int r = 0; r < m->rows; r += every) {
        double py = y + h - (r + 0.5) * h / m->rows;
        char label[32];
        g_snprintf(label, sizeof(label), "0x%" PRIx64, m->row_page[r]);
        cairo_move_to(cr, x - 4, py);
        cairo_line_to(cr, x, py);
        cairo_stroke(cr);
        analysis_text_at(cr, label, x - 7, py, 1, 0.5);
    }
}

/* A vertical colour bar with log ticks 1, 10, 100, ... up to @max. */
static void legend(cairo_t *cr, guint64 max, bool store, double x, double y,
                   double h)
{
    const double w = 16;
    for (int i = 0; i < (int)h; i++) {
        double t = 1.0 - (double)i / h, rgb[3];
        ramp(0.12 + 0.88 * t, store, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, x, y + i, w, 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 10);
    for (guint64 v = 1; v <= MAX(max, 1); v *= 10) {
        double py = y + h - log_scale(v, max) * h;
        char label[32];
        g_snprintf(label, sizeof(label), "%" G_GUINT64_FORMAT, v);
        cairo_move_to(cr, x + w, py);
        cairo_line_to(cr, x + w + 4, py);
        cairo_stroke(cr);
        analysis_text_at(cr, label, x + w + 6, py, 0, 0.5);
        if (v > G_MAXUINT64 / 10) {
            break;
        }
    }
    cairo_set_font_size(cr, 11);
    analysis_text_at(cr, store ? "stores" : "loads", x + w / 2, y - 8, 0.5, 1);
}

static bool draw(const Map *m, const char *trace, GmbeooRecordFormat format,
                 const char *out, GError **err)
{
    const double W = opt_width, H = opt_height;
    const double left = 150, right = 140, top = 66, bottom = 58, gap = 24;
    const double pw = (W - left - right - gap) / 2, ph = H - top - bottom;
    cairo_surface_t *s;
    cairo_t *cr = analysis_canvas(opt_width, opt_height, &s);
    g_autofree char *base = g_path_get_basename(trace);
    g_autofree char *title = g_strdup_printf(
        "%s: %" G_GUINT64_FORMAT " accesses (%s%s) on %u pages of %"
        G_GINT64_FORMAT " bytes", base, m->records, gmbeoo_format_name(format),
        opt_cpl == 0 ? ", CPL 0" : opt_cpl == 3 ? ", CPL 3" : "",
        g_hash_table_size(m->pages), opt_page);
    analysis_text_at(cr, title, W / 2, 12, 0.5, 0);
    cairo_set_font_size(cr, 11);
    g_autofree char *sub = g_strdup_printf(
        "rows: touched pages in address order%s; colour: accesses per cell, "
        "log scale", m->rows < (int)g_hash_table_size(m->pages)
                     ? " (several per row)" : "");
    analysis_text_at(cr, sub, W / 2, 30, 0.5, 0);

    const guint64 *cells[2] = { m->load, m->store };
    guint64 max[2] = { m->max_load, m->max_store };
    for (int p = 0; p < 2; p++) {
        double x = left + p * (pw + gap);
        draw_cells(cr, m, cells[p], max[p], p == 1, x, top, pw, ph);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 13);
        analysis_text_at(cr, p ? "stores" : "loads", x + pw / 2, top - 6, 0.5, 1);
        x_axis(cr, m, x, top + ph, pw);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    y_axis(cr, m, left, top, ph);
    cairo_save(cr);
    cairo_set_font_size(cr, 12);
    cairo_translate(cr, 14, top + ph / 2);
    cairo_rotate(cr, -G_PI / 2);
    analysis_text_at(cr, "page (virtual address)", 0, 0, 0.5, 0.5);
    cairo_restore(cr);
    double lx = W - right + 24;
    legend(cr, m->max_load, false, lx, top + 20, ph / 2 - 40);
    legend(cr, m->max_store, true, lx, top + ph / 2 + 20, ph / 2 - 40);

    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(s, out);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s: %s",
                    out, cairo_status_to_string(st));
        return false;
    }
    return true;
}

static bool pass(const char *path, int fallback,
                 void (*fn)(Map *, const GmbeooBatch *), Map *m,
                 GmbeooRecordFormat *format, GError **err)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s is not a regular file (a FIFO?); gmbeoo_heatmap reads "
                    "its input twice: give it a file (e.g. memory_tracer "
                    "--trace_file_path)", path);
        return false;
    }
    GmbeooSource *src = gmbeoo_open(path, fallback);
    GmbeooBatch b;
    int r = src ? GMBEOO_BATCH : GMBEOO_ERROR;
    while (r == GMBEOO_BATCH && (r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        fn(m, &b);
    }
    if (r == GMBEOO_ERROR) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    gmbeoo_errmsg());
    }
    if (src) {
        *format = gmbeoo_meta(src)->format;
    }
    gmbeoo_close(src);
    return r != GMBEOO_ERROR;
}

int main(int argc, char **argv)
{
    msg_set_program("gmbeoo_heatmap");
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_option_context_set_summary(ctx, "Draw accesses per page over the record "
                                 "index of a GMBEOO trace as a PNG.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 2 ||
        !opt_out) {
        error_msg("%s", err ? err->message
                          : "usage: gmbeoo_heatmap TRACE -o OUT.png");
        return 2;
    }
    if (opt_page <= 0 || (opt_page & (opt_page - 1)) || opt_rows < 1 ||
        opt_cols < 1 || opt_width < 400 || opt_height < 300 ||
        (opt_cpl != -1 && opt_cpl != 0 && opt_cpl != 3)) {
        error_msg("--page-size must be a power of two, --rows and --cols "
                  "positive, --width >= 400, --height >= 300, --cpl 0 or 3");
        return 2;
    }
    GmbeooRecordFormat format = GMBEOO_FORMAT_GMBEOO16;
    int fallback = gmbeoo_format_resolve(opt_format);
    if (fallback < 0) {
        error_msg("%s%s", opt_format && *opt_format ? "--format: " : "",
                  gmbeoo_errmsg());
        return 2;
    }
    Map m = { .page_shift = (unsigned)__builtin_ctzll((guint64)opt_page),
              .cols = opt_cols,
              .pages = g_hash_table_new(g_direct_hash, g_direct_equal) };
    bool ok = pass(argv[1], fallback, collect_pages, &m, &format, &err);
    if (ok && m.records == 0) {
        g_set_error(&err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s holds no accesses to draw", argv[1]);
        ok = false;
    }
    if (ok) {
        assign_rows(&m);
        m.load = g_new0(guint64, (gsize)m.rows * m.cols);
        m.store = g_new0(guint64, (gsize)m.rows * m.cols);
        ok = pass(argv[1], fallback, count_cells, &m, &format, &err) &&
             draw(&m, argv[1], format, opt_out, &err);
    }
    if (!ok) {
        error_msg("%s", err->message);
    }
    g_hash_table_destroy(m.pages);
    g_free(m.load);
    g_free(m.store);
    g_free(m.row_page);
    return ok ? 0 : 1;
}
