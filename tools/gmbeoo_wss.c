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
    uint64_t last = (addr + size - 1) >> shift;
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
#endif /* GMBEOO_CORE_ONLY */
