/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_cachesim: a data-cache hierarchy fed with a GMBEOO trace -- misses
 * per level, split by CPL (0 / 3) and load / store, per vCPU.
 *
 *   gmbeoo_cachesim [--l1d 32k:8:64] [--l2 1m:16:64] [--llc SIZE:WAYS:LINE]
 *                   [--paddr] [--cpl 0|3] [--range START:LEN]
 *                   [--csv | --json] [--plot OUT.png] TRACE|FIFO|-
 *
 * Each level is SIZE:WAYS:LINE (SIZE with k/m/g; sets and LINE powers of
 * two, LINE not smaller than the level above's), LRU, write-allocate and
 * write-back (DineroIV's policies of those names): a level is looked up
 * for the misses of the level above (the line is fetched) and for its
 * dirty evictions (write-backs: counted apart, by vCPU only; a write-back
 * that misses allocates the line without a fetch).  L1d and L2 are private
 * to each vCPU, the LLC is shared (vCPUs' records interleave in chunks,
 * not in time order: the LLC sees an approximation).  An access that
 * straddles a line boundary is one reference per line it touches; counts
 * are of line references.  Run by memory_tracer (--analysis_tool_path, the
 * input a FIFO) it follows the analysis-tool contract; options then come
 * from a wrapper script: `exec gmbeoo_cachesim --l2 2m:16:64 "$@"`.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmbeoo/record.h"

/* ---- the simulation: no I/O (tests/unit/test_cachesim.c drives it) ---- */

#define CACHE_LEVELS    3
#define CACHE_VCPUS     256

enum { KIND_LOAD, KIND_STORE, KIND_WRITEBACK };

typedef struct CacheConfig {
    uint64_t size;
    unsigned ways, line;
} CacheConfig;

/* One cache: per set, its lines' tags from most to least recently used.
 * A tag is (line number + 1) << 1 | dirty; 0 is an empty way. */
typedef struct Cache {
    unsigned ways, line_shift;
    uint64_t set_mask;
    uint64_t *tags;
} Cache;

typedef struct CacheCounts {
    uint64_t refs[2][2], misses[2][2];      /* [cpl == 3][store] */
    uint64_t wb_refs, wb_misses;            /* write-backs from above */
} CacheCounts;

typedef struct CacheSim {
    int levels;
    CacheConfig cfg[CACHE_LEVELS];
    const char *name[CACHE_LEVELS];
    bool shared[CACHE_LEVELS];
    Cache *cache[CACHE_LEVELS][CACHE_VCPUS];    /* shared: [0] only */
    CacheCounts counts[CACHE_LEVELS][CACHE_VCPUS];
    unsigned vcpus;                         /* highest vCPU seen + 1 */
    uint64_t accesses;                      /* records simulated */
} CacheSim;

/* Parse "32k:8:64" into @c; NULL on success, else what is wrong. */
static const char *cache_config_parse(const char *s, CacheConfig *c)
{
    char *end;
    uint64_t size = strtoull(s, &end, 10);
    switch (*end) {
    case 'k': case 'K': size <<= 10; end++; break;
    case 'm': case 'M': size <<= 20; end++; break;
    case 'g': case 'G': size <<= 30; end++; break;
    }
    if (end == s || *end != ':') {
        return "expected SIZE:WAYS:LINE, e.g. 32k:8:64";
    }
    s = end + 1;
    unsigned long ways = strtoul(s, &end, 10);
    if (end == s || *end != ':') {
        return "expected SIZE:WAYS:LINE, e.g. 32k:8:64";
    }
    s = end + 1;
    unsigned long line = strtoul(s, &end, 10);
    if (end == s || *end) {
        return "expected SIZE:WAYS:LINE, e.g. 32k:8:64";
    }
    if (line < 4 || line > 65536 || (line & (line - 1))) {
        return "LINE must be a power of two from 4 to 65536";
    }
    if (ways < 1 || ways > 1024) {
        return "WAYS must be from 1 to 1024";
    }
    if (size == 0 || size % (ways * line)) {
        return "SIZE must be a multiple of WAYS * LINE";
    }
    uint64_t sets = size / (ways * line);
    if (sets & (sets - 1)) {
        return "SIZE / (WAYS * LINE), the number of sets, must be a power "
               "of two";
    }
    c->size = size;
    c->ways = (unsigned)ways;
    c->line = (unsigned)line;
    return NULL;
}

static Cache *cache_new(const CacheConfig *c)
{
    Cache *k = g_new0(Cache, 1);
    uint64_t sets = c->size / ((uint64_t)c->ways * c->line);
    k->ways = c->ways;
    k->line_shift = (unsigned)__builtin_ctz(c->line);
    k->set_mask = sets - 1;
    k->tags = g_new0(uint64_t, sets * c->ways);
    return k;
}

static void cache_free(Cache *k)
{
    if (k) {
        g_free(k->tags);
        g_free(k);
    }
}

/*
 * Reference the line holding @addr; @dirty: the reference writes it.
 * Returns true on a hit.  On a miss the line is put in (the LRU way goes);
 * if that way held a dirty line, *victim is its address, else UINT64_MAX.
 */
static bool cache_ref(Cache *k, uint64_t addr, bool dirty, uint64_t *victim)
{
    uint64_t line = addr >> k->line_shift;
    uint64_t *set = k->tags + (line & k->set_mask) * k->ways;
    uint64_t want = (line + 1) << 1;
    unsigned w;

    *victim = UINT64_MAX;
    for (w = 0; w < k->ways; w++) {
        if ((set[w] & ~(uint64_t)1) == want) {
            uint64_t t = set[w] | dirty;
            memmove(set + 1, set, w * sizeof(*set));
            set[0] = t;
            return true;
        }
    }
    uint64_t out = set[k->ways - 1];
    if (out & 1) {
        *victim = ((out >> 1) - 1) << k->line_shift;
    }
    memmove(set + 1, set, (k->ways - 1) * sizeof(*set));
    set[0] = want | dirty;
    return false;
}

/* Add a level below the ones there are. */
static void cachesim_add_level(CacheSim *s, const char *name,
                               const CacheConfig *c, bool shared)
{
    s->name[s->levels] = name;
    s->cfg[s->levels] = *c;
    s->shared[s->levels] = shared;
    s->levels++;
}

static void cachesim_free(CacheSim *s)
{
    for (int l = 0; l < s->levels; l++) {
        for (int v = 0; v < CACHE_VCPUS; v++) {
            cache_free(s->cache[l][v]);
        }
    }
}

/* One reference of @kind to level @l (and below, on a miss). */
static void cachesim_ref(CacheSim *s, unsigned vcpu, int l, uint64_t addr,
                         int cpl3, int kind)
{
    if (l >= s->levels) {
        return;
    }
    unsigned slot = s->shared[l] ? 0 : vcpu;
    if (!s->cache[l][slot]) {
        s->cache[l][slot] = cache_new(&s->cfg[l]);
    }
    uint64_t victim;
    /* L1 is written by stores; the levels below only by write-backs. */
    bool dirty = kind == KIND_WRITEBACK || (l == 0 && kind == KIND_STORE);
    bool hit = cache_ref(s->cache[l][slot], addr, dirty, &victim);
    CacheCounts *c = &s->counts[l][vcpu];
    if (kind == KIND_WRITEBACK) {
        c->wb_refs++;
        c->wb_misses += !hit;
    } else {
        c->refs[cpl3][kind]++;
        c->misses[cpl3][kind] += !hit;
    }
    if (!hit) {
        if (victim != UINT64_MAX) {
            cachesim_ref(s, vcpu, l + 1, victim, cpl3, KIND_WRITEBACK);
        }
        if (kind != KIND_WRITEBACK) {
            cachesim_ref(s, vcpu, l + 1, addr, cpl3, kind);
        }
    }
}

/* One access: @size bytes at @addr; one L1 reference per line touched. */
static void cachesim_access(CacheSim *s, unsigned vcpu, uint8_t info,
                            uint64_t addr)
{
    if (s->levels == 0) {
        return;
    }
    unsigned shift = (unsigned)__builtin_ctz(s->cfg[0].line);
    uint64_t end = addr + gmbeoo_size_bytes(info) - 1;
    uint64_t last = (end < addr ? UINT64_MAX : end) >> shift;  /* no wrap */
    int cpl3 = gmbeoo_cpl(info) == 3;
    int kind = gmbeoo_is_store(info) ? KIND_STORE : KIND_LOAD;

    vcpu %= CACHE_VCPUS;
    s->vcpus = MAX(s->vcpus, vcpu + 1);
    s->accesses++;
    for (uint64_t line = addr >> shift;; line++) {
        cachesim_ref(s, vcpu, 0, line << shift, cpl3, kind);
        if (line == last) {
            break;
        }
    }
}

/* Level @l's counts summed over the vCPUs (@vcpu < 0) or of one. */
static CacheCounts cachesim_counts(const CacheSim *s, int l, int vcpu)
{
    CacheCounts t = { 0 };
    for (unsigned v = 0; v < s->vcpus; v++) {
        if (vcpu >= 0 && (unsigned)vcpu != v) {
            continue;
        }
        const CacheCounts *c = &s->counts[l][v];
        for (int p = 0; p < 2; p++) {
            for (int k = 0; k < 2; k++) {
                t.refs[p][k] += c->refs[p][k];
                t.misses[p][k] += c->misses[p][k];
            }
        }
        t.wb_refs += c->wb_refs;
        t.wb_misses += c->wb_misses;
    }
    return t;
}

static uint64_t counts_refs(const CacheCounts *c)
{
    return c->refs[0][0] + c->refs[0][1] + c->refs[1][0] + c->refs[1][1];
}

static uint64_t counts_misses(const CacheCounts *c)
{
    return c->misses[0][0] + c->misses[0][1] + c->misses[1][0] +
           c->misses[1][1];
}

#ifndef GMBEOO_CORE_ONLY
/* ---- the tool: options, input, report, plot ---- */

#include <cairo.h>

#include "analysis_io.h"
#include "gmbeoo/gmbeoo.h"

#define TOOL "gmbeoo_cachesim"

static char *opt_level[CACHE_LEVELS] = { NULL, NULL, NULL };

static const GOptionEntry entries[] = {
    { "l1d", 0, 0, G_OPTION_ARG_STRING, &opt_level[0],
      "the L1 data cache, private per vCPU (default 32k:8:64)",
      "SIZE:WAYS:LINE" },
    { "l2", 0, 0, G_OPTION_ARG_STRING, &opt_level[1],
      "the L2, private per vCPU (default 1m:16:64; none: no L2)",
      "SIZE:WAYS:LINE" },
    { "llc", 0, 0, G_OPTION_ARG_STRING, &opt_level[2],
      "a last-level cache shared by the vCPUs (default none)",
      "SIZE:WAYS:LINE" },
    G_OPTION_ENTRY_NULL
};

/* What was read, beside the simulation. */
typedef struct Input {
    CacheSim sim;
    AnalysisInput io;           /* options, filters, counts, the input */
} Input;

static void feed(void *arg, const GmbeooBatch *b)
{
    Input *in = arg;
    const uint64_t *addr = analysis_addrs(&in->io, b);
    for (size_t i = 0; i < b->count; i++) {
        if (analysis_keep(&in->io, b, i)) {
            cachesim_access(&in->sim, b->vcpu ? b->vcpu[i] : 0, b->info[i],
                            addr[i]);
        }
    }
}

/* "32k", "1m", "192": SIZE as the options take it. */
static const char *size_name(uint64_t size, char buf[32])
{
    const char *unit = "";
    if (size % (1 << 30) == 0) {
        size >>= 30, unit = "g";
    } else if (size % (1 << 20) == 0) {
        size >>= 20, unit = "m";
    } else if (size % (1 << 10) == 0) {
        size >>= 10, unit = "k";
    }
    snprintf(buf, 32, "%" PRIu64 "%s", size, unit);
    return buf;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *const cpl_name[2] = { "cpl0", "cpl3" };
static const char *const kind_name[2] = { "load", "store" };

static void text_counts(FILE *out, const CacheCounts *c, bool below_l1)
{
    for (int p = 0; p < 2; p++) {
        for (int k = 0; k < 2; k++) {
            fprintf(out, "  %s %-5s   refs %12" PRIu64 "  misses %12" PRIu64
                    "  (%6.2f %%)\n", cpl_name[p], kind_name[k],
                    c->refs[p][k], c->misses[p][k],
                    pct(c->misses[p][k], c->refs[p][k]));
        }
    }
    if (below_l1) {
        fprintf(out, "  write-backs  refs %12" PRIu64 "  misses %12" PRIu64
                "\n", c->wb_refs, c->wb_misses);
    }
}

static void report_text(FILE *out, const Input *in)
{
    const CacheSim *s = &in->sim;
    fprintf(out, "accesses: %" PRIu64 " (%s, %s), filtered out: %" PRIu64
            ", without a physical address: %" PRIu64 "\n", s->accesses,
            gmbeoo_format_name(in->io.format), in->io.kind, in->io.filtered,
            in->io.no_paddr);
    if (in->io.drops) {
        fprintf(out, "ATTENTION: %" PRIu64 " drop markers, %" PRIu64
                " records missing: the counts are of what is left\n",
                in->io.drops, in->io.dropped);
    }
    if (in->io.error) {
        fprintf(out, "ATTENTION: the input failed: %s\n", in->io.error);
    }
    for (int l = 0; l < s->levels; l++) {
        const CacheConfig *c = &s->cfg[l];
        CacheCounts t = cachesim_counts(s, l, -1);
        char size[32];
        fprintf(out, "%s %s:%u:%u (%s): refs %" PRIu64 "  misses %"
                PRIu64 "  (%.2f %%)\n", s->name[l], size_name(c->size, size),
                c->ways, c->line,
                s->shared[l] ? "shared" : "per vCPU", counts_refs(&t),
                counts_misses(&t), pct(counts_misses(&t), counts_refs(&t)));
        text_counts(out, &t, l > 0);
        for (unsigned v = 0; s->vcpus > 1 && v < s->vcpus; v++) {
            CacheCounts cv = cachesim_counts(s, l, (int)v);
            fprintf(out, " vCPU %u: refs %" PRIu64 "  misses %" PRIu64
                    "  (%.2f %%)\n", v, counts_refs(&cv), counts_misses(&cv),
                    pct(counts_misses(&cv), counts_refs(&cv)));
            text_counts(out, &cv, l > 0);
        }
    }
}

static void csv_rows(FILE *out, const char *level, const char *vcpu,
                     const CacheCounts *c)
{
    fprintf(out, "%s,%s,all,all,%" PRIu64 ",%" PRIu64 "\n", level, vcpu,
            counts_refs(c), counts_misses(c));
    for (int p = 0; p < 2; p++) {
        for (int k = 0; k < 2; k++) {
            fprintf(out, "%s,%s,%d,%s,%" PRIu64 ",%" PRIu64 "\n", level, vcpu,
                    p ? 3 : 0, kind_name[k], c->refs[p][k], c->misses[p][k]);
        }
    }
    fprintf(out, "%s,%s,all,writeback,%" PRIu64 ",%" PRIu64 "\n", level,
            vcpu, c->wb_refs, c->wb_misses);
}

static void report_csv(FILE *out, const Input *in)
{
    const CacheSim *s = &in->sim;
    fprintf(out, "level,vcpu,cpl,kind,refs,misses\n");
    for (int l = 0; l < s->levels; l++) {
        CacheCounts t = cachesim_counts(s, l, -1);
        csv_rows(out, s->name[l], "all", &t);
        for (unsigned v = 0; v < s->vcpus; v++) {
            char id[16];
            CacheCounts cv = cachesim_counts(s, l, (int)v);
            snprintf(id, sizeof(id), "%u", v);
            csv_rows(out, s->name[l], id, &cv);
        }
    }
}

static void json_counts(FILE *out, const CacheCounts *c)
{
    fprintf(out, "\"refs\": %" PRIu64 ", \"misses\": %" PRIu64,
            counts_refs(c), counts_misses(c));
    for (int p = 0; p < 2; p++) {
        fprintf(out, ", \"%s\": {", cpl_name[p]);
        for (int k = 0; k < 2; k++) {
            fprintf(out, "%s\"%s\": {\"refs\": %" PRIu64 ", \"misses\": %"
                    PRIu64 "}", k ? ", " : "", kind_name[k], c->refs[p][k],
                    c->misses[p][k]);
        }
        fprintf(out, "}");
    }
    fprintf(out, ", \"writeback_refs\": %" PRIu64 ", \"writeback_misses\": %"
            PRIu64, c->wb_refs, c->wb_misses);
}

static void report_json(FILE *out, const Input *in)
{
    const CacheSim *s = &in->sim;
    fprintf(out, "{\"accesses\": %" PRIu64 ", \"format\": \"%s\", "
            "\"filtered\": %" PRIu64 ", \"no_paddr\": %" PRIu64
            ", \"drop_markers\": %" PRIu64 ", \"records_dropped\": %" PRIu64
            ", \"vcpus\": %u, \"levels\": [", s->accesses,
            gmbeoo_format_name(in->io.format), in->io.filtered,
            in->io.no_paddr, in->io.drops, in->io.dropped, s->vcpus);
    for (int l = 0; l < s->levels; l++) {
        const CacheConfig *c = &s->cfg[l];
        CacheCounts t = cachesim_counts(s, l, -1);
        fprintf(out, "%s\n  {\"name\": \"%s\", \"size\": %" PRIu64
                ", \"ways\": %u, \"line\": %u, \"shared\": %s, ",
                l ? "," : "", s->name[l], c->size, c->ways, c->line,
                s->shared[l] ? "true" : "false");
        json_counts(out, &t);
        fprintf(out, ", \"per_vcpu\": [");
        for (unsigned v = 0; v < s->vcpus; v++) {
            CacheCounts cv = cachesim_counts(s, l, (int)v);
            fprintf(out, "%s{\"vcpu\": %u, ", v ? ", " : "", v);
            json_counts(out, &cv);
            fprintf(out, "}");
        }
        fprintf(out, "]}");
    }
    fprintf(out, "]%s%s%s}\n", in->io.error ? ", \"error\": \"" : "",
            in->io.error ? "the input failed" : "", in->io.error ? "\"" : "");
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

/* Miss rate per level in four bars: CPL 0 / 3, load / store. */
static bool plot(void *arg, const char *path)
{
    const Input *in = arg;
    static const double colour[4][3] = {
        { 0.55, 0.70, 0.90 }, { 0.95, 0.65, 0.40 },
        { 0.15, 0.35, 0.70 }, { 0.75, 0.25, 0.10 },
    };
    const CacheSim *s = &in->sim;
    const double W = 900, H = 520, left = 70, right = 170, top = 50,
                 bottom = 60, pw = W - left - right, ph = H - top - bottom;
    cairo_surface_t *surf;
    cairo_t *cr = analysis_canvas((int)W, (int)H, &surf);
    g_autofree char *title = g_strdup_printf(
        "miss rate per level: %" PRIu64 " accesses", s->accesses);
    analysis_text_at(cr, title, W / 2, 16, 0.5, 0);
    cairo_set_font_size(cr, 10);
    cairo_set_line_width(cr, 1);
    for (int t = 0; t <= 4; t++) {
        double y = top + ph - ph * t / 4;
        char label[16];
        snprintf(label, sizeof(label), "%d %%", 25 * t);
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, left, y + 0.5);
        cairo_line_to(cr, left + pw, y + 0.5);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        analysis_text_at(cr, label, left - 6, y, 1, 0.5);
    }
    double gw = pw / MAX(s->levels, 1), bw = gw * 0.8 / 4;
    for (int l = 0; l < s->levels; l++) {
        CacheCounts c = cachesim_counts(s, l, -1);
        double x0 = left + gw * l + gw * 0.1;
        for (int b = 0; b < 4; b++) {
            int p = b / 2, k = b % 2;
            double h = ph * pct(c.misses[p][k], c.refs[p][k]) / 100;
            cairo_set_source_rgb(cr, colour[b][0], colour[b][1],
                                 colour[b][2]);
            cairo_rectangle(cr, x0 + bw * b, top + ph - h, bw * 0.9, h);
            cairo_fill(cr);
            char label[32];
            snprintf(label, sizeof(label), "%" PRIu64, c.misses[p][k]);
            cairo_set_source_rgb(cr, 0, 0, 0);
            analysis_text_at(cr, label, x0 + bw * b + bw * 0.45, top + ph - h - 3,
                    0.5, 1);
        }
        cairo_set_font_size(cr, 12);
        char size[32];
        g_autofree char *name = g_strdup_printf(
            "%s %s:%u:%u", s->name[l], size_name(s->cfg[l].size, size),
            s->cfg[l].ways, s->cfg[l].line);
        analysis_text_at(cr, name, x0 + gw * 0.4, top + ph + 10, 0.5, 0);
        cairo_set_font_size(cr, 10);
    }
    cairo_rectangle(cr, left + 0.5, top + 0.5, pw, ph);
    cairo_stroke(cr);
    for (int b = 0; b < 4; b++) {
        double y = top + 20 + 22 * b;
        cairo_set_source_rgb(cr, colour[b][0], colour[b][1], colour[b][2]);
        cairo_rectangle(cr, left + pw + 20, y, 14, 14);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        g_autofree char *label = g_strdup_printf("CPL %d %s", b / 2 ? 3 : 0,
                                                 kind_name[b % 2]);
        analysis_text_at(cr, label, left + pw + 40, y + 7, 0, 0.5);
    }
    analysis_text_at(cr, "bar label: misses", left + pw + 20, top + 120, 0, 0);
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
        "Simulate a data-cache hierarchy on a GMBEOO trace: "
        "misses per level, CPL, load and store, vCPU.",
        entries, &in.io, "simulate physical addresses (extended32 records)",
        "draw the miss rates as a PNG", &argc, &argv);
    if (bad) {
        return bad;
    }
    if (!analysis_options_ok(&in.io)) {
        return usage("--cpl takes 0 or 3; --csv and --json exclude each "
                     "other");
    }
    bad = analysis_range(TOOL, &in.io);
    if (bad) {
        return bad;
    }
    static const char *const names[CACHE_LEVELS] = { "L1d", "L2", "LLC" };
    static const char *const defaults[CACHE_LEVELS] = { "32k:8:64",
                                                        "1m:16:64", NULL };
    for (int l = 0; l < CACHE_LEVELS; l++) {
        const char *spec = opt_level[l] ? opt_level[l] : defaults[l];
        CacheConfig c;
        if (!spec || (l > 0 && !strcmp(spec, "none"))) {
            continue;
        }
        const char *why = cache_config_parse(spec, &c);
        if (why) {
            g_autofree char *m = g_strdup_printf("--%s %s: %s",
                                                 l == 0 ? "l1d" : l == 1 ?
                                                 "l2" : "llc", spec, why);
            return usage(m);
        }
        if (in.sim.levels && c.line < in.sim.cfg[in.sim.levels - 1].line) {
            return usage("a level's LINE must not be smaller than the "
                         "level above's");
        }
        cachesim_add_level(&in.sim, names[l], &c, l == 2);
    }
    int format = analysis_format(TOOL, in.io.format_name);
    if (format == -2) {
        return 2;
    }

    int status = analysis_run(TOOL, argc, argv, format, &in.io, feed, plot,
                              report, &in);
    cachesim_free(&in.sim);
    return status;
}
#endif /* GMBEOO_CORE_ONLY */
