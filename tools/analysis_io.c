/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ready-made analyses' shared input and output (analysis_io.h). */
#include "analysis_io.h"

#include <sys/stat.h>

int analysis_usage(const char *tool, const char *why)
{
    fprintf(stderr, "%s: %s\n", tool, why);
    return 2;
}

int analysis_parse(const char *tool, const char *summary,
                   const GOptionEntry *entries, AnalysisInput *io,
                   const char *paddr_help, const char *plot_help,
                   int *argc, char ***argv)
{
    const GOptionEntry common[] = {
        { "paddr", 0, 0, G_OPTION_ARG_NONE, &io->paddr, paddr_help, NULL },
        { "cpl", 0, 0, G_OPTION_ARG_INT, &io->cpl,
          "only accesses made at this CPL (0 or 3)", "CPL" },
        { "range", 0, 0, G_OPTION_ARG_STRING, &io->range,
          "only accesses whose virtual address is in [START, START+LEN) "
          "(also with --paddr)", "START:LEN" },
        { "format", 'f', 0, G_OPTION_ARG_STRING, &io->format_name,
          "record format of a raw stream (default: $GMBEOO_RECORD_FORMAT, "
          "else gmbeoo16)", "FORMAT" },
        { "csv", 0, 0, G_OPTION_ARG_NONE, &io->csv, "print CSV", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &io->json, "print JSON", NULL },
        { "plot", 0, 0, G_OPTION_ARG_FILENAME, &io->plot, plot_help,
          "OUT.png" },
        G_OPTION_ENTRY_NULL
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "TRACE|FIFO|- [INFO_TOKEN...]");
    io->cpl = -1;
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, common, NULL);
    g_option_context_set_strict_posix(ctx, TRUE);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        return analysis_usage(tool, err->message);
    }
    if (*argc < 2) {
        return analysis_usage(tool, "no input: give a trace file, a raw "
                              "record file, - (stdin) or, as memory_tracer "
                              "does, a FIFO");
    }
    return 0;
}

bool analysis_options_ok(const AnalysisInput *io)
{
    return (io->cpl == -1 || io->cpl == 0 || io->cpl == 3) &&
           !(io->csv && io->json);
}

int analysis_range(const char *tool, AnalysisInput *io)
{
    if (io->range && !analysis_parse_range(io->range, &io->range_start,
                                           &io->range_len)) {
        return analysis_usage(tool, "--range takes START:LEN, e.g. "
                              "0x4c1000:16384");
    }
    return 0;
}

int analysis_format(const char *tool, const char *name)
{
    if (!name) {
        return GMBEOO_FORMAT_AUTO;
    }
    /* An unknown name resolves to -1, which is also GMBEOO_FORMAT_AUTO's
     * value: test the name's result itself. */
    int format = gmbeoo_format_resolve(name);
    if (format < 0) {
        analysis_usage(tool, gmbeoo_errmsg());
        return -2;
    }
    return format;
}

bool analysis_parse_range(const char *s, uint64_t *start, uint64_t *len)
{
    char *end;
    *start = g_ascii_strtoull(s, &end, 0);
    if (end == s || *end != ':') {
        return false;
    }
    s = end + 1;
    *len = g_ascii_strtoull(s, &end, 0);
    return end != s && !*end && *len > 0;
}

bool analysis_power_of_two(int64_t v)
{
    return v > 0 && v <= (1 << 30) && !(v & (v - 1));
}

/*
 * Open argv[1]: a FIFO is a run's (memory_tracer --analysis_tool_path:
 * the analysis-tool contract, *@live set), anything else a file or "-"
 * read to its end.  NULL after saying why.
 */
static GmbeooSource *analysis_open(const char *tool, int argc, char **argv,
                                   int format, bool *live)
{
    struct stat st;
    *live = stat(argv[1], &st) == 0 && S_ISFIFO(st.st_mode);
    GmbeooSource *src = *live ? gmbeoo_tool_start(argc, argv, format, 0)
                              : gmbeoo_open(argv[1], format);
    /* gmbeoo_tool_start() says itself what went wrong. */
    if (!src && !*live) {
        fprintf(stderr, "%s: %s\n", tool, gmbeoo_errmsg());
    }
    return src;
}

/*
 * Feed every batch of @src to @feed and count its drop markers.  With
 * --paddr, a format without physical addresses is refused: -1 after
 * saying why.  An input that fails midway: 1, with why in io->error (kept
 * for the block).  Else 0.
 */
static int analysis_read(const char *tool, GmbeooSource *src,
                         AnalysisInput *io,
                         void (*feed)(void *arg, const GmbeooBatch *b),
                         void *arg)
{
    GmbeooBatch b;
    int rc;
    while ((rc = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        if (io->paddr && !b.paddr && b.count) {
            fprintf(stderr, "%s: --paddr needs extended32 records, these "
                    "are %s\n", tool, gmbeoo_format_name(b.format));
            return -1;
        }
        feed(arg, &b);
        for (size_t i = 0; i < b.ndrops; i++) {
            io->drops++;
            io->dropped += b.drops[i].dropped;
        }
    }
    if (rc == GMBEOO_ERROR) {
        io->error = g_strdup(gmbeoo_errmsg());
        fprintf(stderr, "%s: %s\n", tool, io->error);
        return 1;
    }
    return 0;
}

int analysis_run(const char *tool, int argc, char **argv, int format,
                 AnalysisInput *io,
                 void (*feed)(void *arg, const GmbeooBatch *b),
                 bool (*plot)(void *arg, const char *path),
                 void (*report)(FILE *out, void *arg), void *arg)
{
    bool live;
    GmbeooSource *src = analysis_open(tool, argc, argv, format, &live);
    if (!src) {
        return 1;
    }
    int status = analysis_read(tool, src, io, feed, arg);
    if (status < 0) {
        gmbeoo_close(src);
        return 1;
    }
    io->format = gmbeoo_meta(src)->format;
    io->kind = gmbeoo_kind_name(src);
    /* Before the block: memory_tracer ends the tool soon after it. */
    if (io->plot && !plot(arg, io->plot)) {
        status = 1;
    }
    if (live) {
        status = gmbeoo_tool_report(src, report, arg) == 0 ? status : 1;
    } else {
        report(stdout, arg);
        status = fflush(stdout) == 0 ? status : 1;
    }
    gmbeoo_close(src);
    g_free(io->error);
    io->error = NULL;
    return status;
}

cairo_t *analysis_canvas(int w, int h, cairo_surface_t **surf)
{
    *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(*surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 14);
    return cr;
}

void analysis_text_at(cairo_t *cr, const char *s, double x, double y,
                      double align_x, double align_y)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width * align_x - e.x_bearing,
                  y - e.height * align_y - e.y_bearing);
    cairo_show_text(cr, s);
}

bool analysis_write_png(const char *tool, cairo_t *cr,
                        cairo_surface_t *surf, const char *path)
{
    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(surf, path);
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "%s: cannot write %s: %s\n", tool, path,
                cairo_status_to_string(st));
        return false;
    }
    return true;
}
