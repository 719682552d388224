/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulation cores of gmbeoo_cachesim, gmbeoo_reuse and gmbeoo_wss
 * (their files are included without their I/O half) against small traces
 * worked out by hand, DineroIV style, and against each other and a naive
 * LRU stack on longer pseudo-random traces.
 */
#define GMBEOO_CORE_ONLY
#include "../../tools/gmbeoo_cachesim.c"
#include "../../tools/gmbeoo_reuse.c"
#include "../../tools/gmbeoo_wss.c"

#include "check.h"

static const uint8_t LD3 = 3 | 3 << 6;                  /* 8-byte CPL3 load */
static const uint8_t ST3 = 3 | GMBEOO_STORE | 3 << 6;   /* 8-byte CPL3 store */
static const uint8_t LD0 = 3;                           /* 8-byte CPL0 load */

static CacheConfig config(const char *s)
{
    CacheConfig c;
    const char *why = cache_config_parse(s, &c);
    if (why) {
        printf("bad config %s: %s\n", s, why);
        exit(1);
    }
    return c;
}

/*
 * L1 256:2:64 (2 sets of 2 ways), L2 1k:4:64 (4 sets of 4 ways), loads of
 * lines 0 2 4 0 2 1 3 0.  L1 set 0 (even lines): 0 m, 2 m, 4 m (out 0),
 * 0 m (out 2), 2 m (out 4); set 1: 1 m, 3 m; then 0 hits: 7 misses of 8.
 * L2 sees 0 2 4 0 2 1 3: set 0 gets 0 m, 4 m, 0 hit; set 2: 2 m, 2 hit;
 * 1 m; 3 m: 5 misses of 7.
 */
static void test_cache_lru(void)
{
    CacheSim s = { 0 };
    CacheConfig l1 = config("256:2:64"), l2 = config("1k:4:64");
    cachesim_add_level(&s, "L1d", &l1, false);
    cachesim_add_level(&s, "L2", &l2, false);
    static const int lines[] = { 0, 2, 4, 0, 2, 1, 3, 0 };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        cachesim_access(&s, 0, LD3, (uint64_t)lines[i] * 64 + 8);
    }
    CacheCounts c1 = cachesim_counts(&s, 0, -1), c2 = cachesim_counts(&s, 1, -1);
    CHECK("cachesim: LRU L1 refs/misses 8/7",
          counts_refs(&c1) == 8 && counts_misses(&c1) == 7);
    CHECK("cachesim: LRU L2 refs/misses 7/5",
          counts_refs(&c2) == 7 && counts_misses(&c2) == 5);
    CHECK("cachesim: all CPL3 loads", c1.refs[1][0] == 8 && c2.misses[1][0] == 5);
    cachesim_free(&s);
}

/*
 * L1 128:1:64 (direct-mapped, 2 sets), L2 1k:4:64.  Store line 0 (CPL3):
 * L1 miss, L2 store miss (fetch).  Load line 2 (CPL0): L1 miss, its
 * victim line 0 is dirty: a write-back to L2 (hit), then the fetch of
 * line 2 (L2 load miss).  Load line 0 (CPL3): L1 miss (line 2 is clean,
 * no write-back), L2 hit.  Store line 0 (CPL3): L1 hit.
 */
static void test_cache_writeback_cpl(void)
{
    CacheSim s = { 0 };
    CacheConfig l1 = config("128:1:64"), l2 = config("1k:4:64");
    cachesim_add_level(&s, "L1d", &l1, false);
    cachesim_add_level(&s, "L2", &l2, false);
    cachesim_access(&s, 0, ST3, 0);
    cachesim_access(&s, 0, LD0, 128);
    cachesim_access(&s, 0, LD3, 0);
    cachesim_access(&s, 0, ST3, 8);
    CacheCounts c1 = cachesim_counts(&s, 0, -1), c2 = cachesim_counts(&s, 1, -1);
    CHECK("cachesim: L1 CPL3 stores 2, 1 miss",
          c1.refs[1][1] == 2 && c1.misses[1][1] == 1);
    CHECK("cachesim: L1 CPL0 load miss", c1.refs[0][0] == 1 && c1.misses[0][0] == 1);
    CHECK("cachesim: L1 CPL3 load miss", c1.refs[1][0] == 1 && c1.misses[1][0] == 1);
    CHECK("cachesim: L1 takes no write-backs", c1.wb_refs == 0);
    CHECK("cachesim: L2 one write-back, a hit", c2.wb_refs == 1 && c2.wb_misses == 0);
    CHECK("cachesim: L2 store miss (CPL3)", c2.refs[1][1] == 1 && c2.misses[1][1] == 1);
    CHECK("cachesim: L2 CPL0 load miss", c2.refs[0][0] == 1 && c2.misses[0][0] == 1);
    CHECK("cachesim: L2 CPL3 load hit", c2.refs[1][0] == 1 && c2.misses[1][0] == 0);
    cachesim_free(&s);
}

/*
 * Write-backs go down level by level: L1 128:1:64 (2 sets), L2 256:1:64
 * (direct-mapped, 4 sets), LLC 4k:4:64 (no evictions here).  Store line 0
 * (misses everywhere); load 2 (L1 set 0: dirty 0 out, a write-back to L2
 * that hits and dirties it there; 2 misses L2 and LLC); load 4 (L1: clean
 * 2 out; L2 set 0: dirty 0 out, a write-back to the LLC that hits; 4
 * misses L2 and LLC); load 6 (clean evictions only, misses everywhere).
 */
static void test_cache_writeback_miss(void)
{
    CacheSim s = { 0 };
    CacheConfig l1 = config("128:1:64"), l2 = config("256:1:64"),
                l3 = config("4k:4:64");
    cachesim_add_level(&s, "L1d", &l1, false);
    cachesim_add_level(&s, "L2", &l2, false);
    cachesim_add_level(&s, "LLC", &l3, true);
    cachesim_access(&s, 0, ST3, 0 * 64);
    cachesim_access(&s, 0, LD3, 2 * 64);
    cachesim_access(&s, 0, LD3, 4 * 64);
    cachesim_access(&s, 0, LD3, 6 * 64);
    CacheCounts c2 = cachesim_counts(&s, 1, -1), c3 = cachesim_counts(&s, 2, -1);
    CHECK("cachesim: L2 refs/misses 4/4, one write-back hit",
          counts_refs(&c2) == 4 && counts_misses(&c2) == 4 &&
          c2.wb_refs == 1 && c2.wb_misses == 0);
    CHECK("cachesim: LLC 4 misses, one write-back from L2 (a hit)",
          counts_misses(&c3) == 4 && c3.wb_refs == 1 && c3.wb_misses == 0);
    cachesim_free(&s);
}

/* An 8-byte load at 60 touches lines 0 and 1: one access, two refs. */
static void test_cache_straddle(void)
{
    CacheSim s = { 0 };
    CacheConfig l1 = config("32k:8:64");
    cachesim_add_level(&s, "L1d", &l1, false);
    cachesim_access(&s, 0, LD3, 60);
    cachesim_access(&s, 0, LD3, 56);
    cachesim_access(&s, 0, LD3, 64);
    CacheCounts c = cachesim_counts(&s, 0, -1);
    CHECK("cachesim: a straddling access is two references",
          s.accesses == 3 && counts_refs(&c) == 4 && counts_misses(&c) == 2);
    cachesim_access(&s, 0, LD3, UINT64_MAX - 3);    /* would wrap past 2^64 */
    c = cachesim_counts(&s, 0, -1);
    CHECK("cachesim: an access at the top of the address space ends there",
          counts_refs(&c) == 5);
    cachesim_free(&s);
}

/* Private L1 per vCPU, shared LLC: both vCPUs miss L1, only the first
 * misses the LLC. */
static void test_cache_vcpus(void)
{
    CacheSim s = { 0 };
    CacheConfig l1 = config("32k:8:64"), l3 = config("1m:16:64");
    cachesim_add_level(&s, "L1d", &l1, false);
    cachesim_add_level(&s, "LLC", &l3, true);
    cachesim_access(&s, 0, LD3, 0x1000);
    cachesim_access(&s, 1, LD3, 0x1000);
    cachesim_access(&s, 1, LD3, 0x1000);
    CacheCounts v0 = cachesim_counts(&s, 0, 0), v1 = cachesim_counts(&s, 0, 1);
    CacheCounts l0 = cachesim_counts(&s, 1, 0), l1v = cachesim_counts(&s, 1, 1);
    CHECK("cachesim: vCPUs seen", s.vcpus == 2);
    CHECK("cachesim: private L1 per vCPU",
          counts_misses(&v0) == 1 && counts_refs(&v1) == 2 && counts_misses(&v1) == 1);
    CHECK("cachesim: shared LLC",
          counts_misses(&l0) == 1 && counts_refs(&l1v) == 1 && counts_misses(&l1v) == 0);
    cachesim_free(&s);
}

static void test_cache_config(void)
{
    CacheConfig c;
    CHECK("cachesim: 32k:8:64 parses",
          !cache_config_parse("32k:8:64", &c) && c.size == 32768 && c.ways == 8 && c.line == 64);
    CHECK("cachesim: 1m:16:64 parses",
          !cache_config_parse("1m:16:64", &c) && c.size == 1 << 20);
    CHECK("cachesim: 48k:12:64 (64 sets) parses", !cache_config_parse("48k:12:64", &c));
    CHECK("cachesim: 3 sets refused", cache_config_parse("192:1:64", &c) != NULL);
    CHECK("cachesim: line 48 refused", cache_config_parse("32k:8:48", &c) != NULL);
    CHECK("cachesim: junk refused", cache_config_parse("32k", &c) != NULL &&
          cache_config_parse("32k:8:64x", &c) != NULL);
}

/*
 * Reuse distances at 64-byte lines of lines a b c a a b d c:
 * a b c cold; a: {b, c} -> 2; a -> 0; b: {a, c} -> 2; d cold;
 * c: {a, b, d} -> 3.  Buckets: 0: 1; [2,3]: 3.  Pages (4 KiB): all in
 * page 0 except d (page 1): cold 2, distance 0 x4, then d cold, c: {d} 1.
 */
static void test_reuse_hand(void)
{
    ReuseStack lines, pages;
    reuse_init(&lines, 64);
    reuse_init(&pages, 4096);
    static const uint64_t a[] = { 0, 64, 128, 0, 0, 64, 4096, 128 };
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) {
        reuse_access(&lines, a[i], 8);
        reuse_access(&pages, a[i], 8);
    }
    CHECK("reuse: lines cold 4", lines.cold == 4 && lines.refs == 8);
    CHECK("reuse: lines bucket 0 = 1, [2,3] = 3",
          lines.bucket[0] == 1 && lines.bucket[1] == 0 && lines.bucket[2] == 3 &&
          lines.bucket[3] == 0);
    CHECK("reuse: pages cold 2, 0 x5, 1 x1",
          pages.cold == 2 && pages.bucket[0] == 5 && pages.bucket[1] == 1);
    reuse_access(&lines, 60, 8);    /* lines 0 {b, d, c} and 1 {d, c, a} */
    CHECK("reuse: a straddling access is two references",
          lines.refs == 10 && lines.bucket[2] == 5 && lines.bucket[1] == 0);
    reuse_access(&pages, UINT64_MAX - 3, 8);
    CHECK("reuse: an access at the top of the address space ends there",
          pages.refs == 9 && pages.cold == 3);
    reuse_free(&lines);
    reuse_free(&pages);
}

/* A naive LRU stack (distance = position) against the Fenwick stack over
 * more references than the tree's first size (renumbering), and the
 * misses of a fully associative LRU cache against cachesim. */
static void test_reuse_naive(void)
{
    enum { BLOCKS = 700, REFS = 300000 };
    uint64_t stack[BLOCKS];
    unsigned depth = 0;
    uint64_t naive_cold = 0, naive[REUSE_BUCKETS] = { 0 };
    ReuseStack r;
    reuse_init(&r, 64);
    CacheSim s = { 0 };
    CacheConfig fa = config("16k:256:64");      /* one set: fully assoc. */
    cachesim_add_level(&s, "L1d", &fa, false);
    uint64_t x = 12345;
    for (int i = 0; i < REFS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        /* Skewed: short loops mostly, the whole range sometimes. */
        uint64_t span = (x >> 60) < 12 ? 64 : (x >> 60) < 15 ? 400 : BLOCKS;
        uint64_t b = (x >> 20) % span;
        unsigned p;
        for (p = 0; p < depth && stack[p] != b; p++) {
        }
        if (p == depth) {
            naive_cold++;
            depth++;
        } else {
            naive[reuse_bucket_of(p)]++;
        }
        memmove(stack + 1, stack, p * sizeof(*stack));
        stack[0] = b;
        reuse_ref(&r, b * 64);
        cachesim_access(&s, 0, LD3, b * 64);
    }
    CHECK("reuse: cold as the naive stack", r.cold == naive_cold);
    CHECK("reuse: histogram as the naive stack (renumbered)",
          memcmp(r.bucket, naive, sizeof(naive)) == 0 && r.now < REFS);
    CacheCounts c = cachesim_counts(&s, 0, -1);
    CHECK("reuse: misses at 256 blocks == cachesim fully associative 256 lines",
          reuse_misses(&r, 256) == counts_misses(&c));
    reuse_free(&r);
    cachesim_free(&s);
}

/*
 * Windows of 4 accesses over: 0 8 64 4096 | 0 0 0 4092(straddles lines
 * 63/64 and pages 0/1) | 128.  Window 0: lines {0, 1, 64} = 3, pages
 * {0, 1} = 2.  Window 1: lines {0, 63, 64} = 3, pages {0, 1} = 2.  The
 * partial window 2: 1 access, 1 line, 1 page.
 */
static void test_wss_hand(void)
{
    Wss w;
    wss_init(&w, 4, 64, 4096);
    static const uint64_t a[] = { 0, 8, 64, 4096, 0, 0, 0, 4092, 128 };
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) {
        wss_access(&w, a[i], 8);
    }
    WssWindow *d = (WssWindow *)w.done->data;
    CHECK("wss: two whole windows", w.done->len == 2);
    CHECK("wss: window 0: 3 lines, 2 pages",
          d[0].first == 0 && d[0].accesses == 4 && d[0].lines == 3 && d[0].pages == 2);
    CHECK("wss: window 1: 3 lines, 2 pages",
          d[1].first == 4 && d[1].lines == 3 && d[1].pages == 2);
    CHECK("wss: partial window: 1 access, 1 line, 1 page",
          w.cur.first == 8 && w.cur.accesses == 1 && w.cur.lines == 1 && w.cur.pages == 1);
    wss_access(&w, UINT64_MAX - 3, 8);
    CHECK("wss: an access at the top of the address space ends there",
          w.cur.accesses == 2 && w.cur.lines == 2 && w.cur.pages == 2);
    wss_free(&w);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Many windows of many blocks (set growth, stamps): against counting by
 * sorting. */
static void test_wss_many(void)
{
    enum { WIN = 5000, N = 60000 };
    Wss w;
    wss_init(&w, WIN, 64, 4096);
    static uint64_t addrs[N], tmp[WIN];
    uint64_t x = 99;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        addrs[i] = (x >> 24) % (i < N / 2 ? 1 << 20 : 1 << 16) & ~UINT64_C(7);
        wss_access(&w, addrs[i], 8);
    }
    int ok = w.done->len == N / WIN;
    for (unsigned k = 0; ok && k < w.done->len; k++) {
        const WssWindow *d = &g_array_index(w.done, WssWindow, k);
        for (int shift = 6; shift <= 12; shift += 6) {
            for (int i = 0; i < WIN; i++) {
                tmp[i] = addrs[k * WIN + i] >> shift;
            }
            qsort(tmp, WIN, sizeof(*tmp), cmp_u64);
            uint64_t n = 0;
            for (int i = 0; i < WIN; i++) {
                n += i == 0 || tmp[i] != tmp[i - 1];
            }
            ok &= n == (shift == 6 ? d->lines : d->pages);
        }
    }
    CHECK("wss: 12 windows of 5000 random accesses as counted by sorting", ok);
    wss_free(&w);
}

int main(void)
{
    test_cache_config();
    test_cache_lru();
    test_cache_writeback_cpl();
    test_cache_writeback_miss();
    test_cache_straddle();
    test_cache_vcpus();
    test_reuse_hand();
    test_reuse_naive();
    test_wss_hand();
    test_wss_many();
    return check_failures ? 1 : 0;
}
