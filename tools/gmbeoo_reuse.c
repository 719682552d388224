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
    uint64_t last = (addr + size - 1) >> r->shift;
    for (uint64_t b = addr >> r->shift;; b++) {
        reuse_ref(r, b << r->shift);
        if (b == last) {
            break;
        }
    }
}

/* References at distance >= @c plus the cold ones: the misses of a fully
 * associative LRU cache of @c blocks. */
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
#endif /* GMBEOO_CORE_ONLY */
