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
 * write-back, as DineroIV's defaults: a level is looked up for the misses
 * of the level above (the line is fetched) and for its dirty evictions
 * (write-backs: counted apart, by vCPU only; a write-back that misses
 * allocates the line without a fetch).  L1d and L2 are private to each
 * vCPU, the LLC is shared (vCPUs' records interleave in chunks, not in
 * time order: the LLC sees an approximation).  An access that straddles
 * a line boundary is one reference per line it touches; counts are of
 * line references.  Run by memory_tracer (--analysis_tool_path, the input
 * a FIFO) it follows the analysis-tool contract; options then come from a
 * wrapper script: `exec gmbeoo_cachesim --l2 2m:16:64 "$@"`.
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
    uint64_t last = (addr + gmbeoo_size_bytes(info) - 1) >> shift;
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
#endif /* GMBEOO_CORE_ONLY */
