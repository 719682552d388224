/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's ring source (lib/gmbeoo/rings.c) against a fake producer
 * that plays QEMU's part of include/gmbeoo/rings.h in a thread: the claim,
 * several rings wrapping many times, a full ring the producer sleeps on,
 * drop markers (of a producer that gives up on a stalled consumer, as QEMU
 * does after a second), CLOSED; and the signals (SIGUSR1 before the rings
 * open, SIGTERM).  Every record handed out is checked: each ring's records
 * in order, none missing or twice, the counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gmbeoo/gmbeoo.h"
#include "gmbeoo/rings.h"
#include "check.h"

#define MAX_RINGS 4

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the fake producer ---- */

typedef struct Prod {
    int fd;
    GmbeooRecordFormat fmt;
    uint32_t nr;
    uint64_t ring_bytes;
    uint64_t per_ring;          /* records of each ring */
    uint64_t window;            /* publish every this many bytes */
    uint64_t give_up_ns;        /* >0: drop records after this long */
    bool close;                 /* set CLOSED at the end */
    /* results */
    uint64_t sleeps;            /* waits for room */
    uint64_t dropped[MAX_RINGS], markers[MAX_RINGS];
    /* state */
    uint8_t *map;
    GmbeooRingsHeader *h;
    uint64_t head[MAX_RINGS], published[MAX_RINGS], pending[MAX_RINGS];
} Prod;

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t vaddr_of(uint32_t ring, uint64_t seq)
{
    return (uint64_t)ring << 40 | seq;
}

static uint8_t info_of(uint64_t seq)
{
    return gmbeoo_info(seq & 3, false, false, seq & 1, seq % 5 == 0 ? 0 : 3);
}

static void write_record(Prod *p, uint8_t *r, uint32_t ring, uint64_t seq)
{
    uint8_t info = info_of(seq);
    uint64_t va = vaddr_of(ring, seq);
    switch (p->fmt) {
    case GMBEOO_FORMAT_COMPACT8:
        put64(r, gmbeoo_compact8_word(va, info));
        break;
    case GMBEOO_FORMAT_EXTENDED32:
        put64(r, gmbeoo_ext_word0(info, ring, 0x1000 * (seq & 7)));
        put64(r + 8, va);
        put64(r + 16, va ^ 0x5000);
        put64(r + 24, 0x400000 + seq);
        break;
    default:
        put64(r, gmbeoo_word0(info) | (uint64_t)ring << GMBEOO_VCPU_SHIFT);
        put64(r + 8, va);
        break;
    }
}

static void write_marker(Prod *p, uint8_t *r, uint32_t ring, uint64_t n)
{
    if (p->fmt == GMBEOO_FORMAT_COMPACT8) {
        put64(r, gmbeoo_compact8_word(n, GMBEOO_DROP_MARKER_INFO));
        return;
    }
    put64(r, GMBEOO_DROP_MARKER_INFO | (uint64_t)ring << GMBEOO_VCPU_SHIFT);
    put64(r + 8, n);
    if (p->fmt == GMBEOO_FORMAT_EXTENDED32) {
        put64(r + 16, 0);
        put64(r + 24, 0);
    }
}

static GmbeooRingControl *ctl(Prod *p, uint32_t i)
{
    return gmbeoo_rings_control(p->map, p->h->ring_stride, i);
}

static void publish(Prod *p, uint32_t i)
{
    if (p->published[i] != p->head[i]) {
        gmbeoo_rings_publish(p->h, ctl(p, i), p->head[i]);
        p->published[i] = p->head[i];
    }
}

/* Room for @bytes in ring @i?  Sleeps for it as QEMU's vCPU does (if
 * @wait); false when the consumer made no progress for give_up_ns. */
static bool room(Prod *p, uint32_t i, uint64_t bytes, bool wait)
{
    GmbeooRingControl *c = ctl(p, i);
    uint64_t since = now_ns();
    uint64_t last_tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
        if (p->head[i] + bytes - tail <= p->ring_bytes) {
            return true;
        }
        publish(p, i);
        if (!wait) {
            return false;
        }
        if (tail != last_tail) {
            last_tail = tail;
            since = now_ns();
        }
        if (p->give_up_ns && now_ns() - since > p->give_up_ns) {
            return false;
        }
        uint32_t seq = __atomic_load_n(&c->room_seq, __ATOMIC_ACQUIRE);
        __atomic_store_n(&c->producer_waiting, 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (p->head[i] + bytes - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE)
            > p->ring_bytes) {
            gmbeoo_rings_sleep(&c->room_seq, seq, 2 * 1000 * 1000);
            p->sleeps++;
        }
        __atomic_store_n(&c->producer_waiting, 0, __ATOMIC_RELAXED);
    }
}

static uint8_t *slot(Prod *p, uint32_t i)
{
    return gmbeoo_rings_data(p->map, p->h->ring_stride, i) +
           (p->head[i] & (p->ring_bytes - 1));
}

static void *producer(void *arg)
{
    Prod *p = arg;
    unsigned rs = gmbeoo_format_size(p->fmt);
    uint64_t size = gmbeoo_rings_file_size(p->nr, p->ring_bytes);
    if (ftruncate(p->fd, (off_t)size) != 0) {
        return NULL;
    }
    p->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    p->h = (GmbeooRingsHeader *)p->map;
    GmbeooRingsHeader *h = p->h;
    h->magic = GMBEOO_RINGS_MAGIC;
    h->version = GMBEOO_RINGS_VERSION;
    h->nr_rings = p->nr;
    h->record_format = p->fmt;
    h->record_size = rs;
    h->ring_bytes = p->ring_bytes;
    h->ring_stride = GMBEOO_RINGS_PAGE + p->ring_bytes;
    h->file_size = size;
    for (uint32_t i = 0; i < p->nr; i++) {
        ctl(p, i)->cpu_index = i;
    }
    __atomic_store_n(&h->state, GMBEOO_RINGS_OPEN, __ATOMIC_RELEASE);
    gmbeoo_rings_wake(&h->state);
    gmbeoo_rings_bump(&h->data_seq);

    for (uint64_t seq = 0; seq < p->per_ring; seq++) {
        for (uint32_t i = 0; i < p->nr; i++) {
            /* Dropping: until there is room again, without waiting. */
            if (p->pending[i] && room(p, i, 2 * rs, false)) {
                write_marker(p, slot(p, i), i, p->pending[i]);
                p->head[i] += rs;
                p->markers[i]++;
                p->dropped[i] += p->pending[i];
                p->pending[i] = 0;
            }
            if (p->pending[i] || !room(p, i, rs, true)) {
                p->pending[i]++;
                continue;
            }
            write_record(p, slot(p, i), i, seq);
            p->head[i] += rs;
            if (p->head[i] - p->published[i] >= p->window) {
                publish(p, i);
            }
        }
    }
    for (uint32_t i = 0; i < p->nr; i++) {
        if (p->pending[i]) {
            /* The last gap: waits for room as QEMU's close does. */
            uint64_t g = p->give_up_ns;
            p->give_up_ns = 0;
            room(p, i, rs, true);
            p->give_up_ns = g;
            write_marker(p, slot(p, i), i, p->pending[i]);
            p->head[i] += rs;
            p->markers[i]++;
            p->dropped[i] += p->pending[i];
            p->pending[i] = 0;
        }
        publish(p, i);
    }
    if (p->close) {
        __atomic_store_n(&h->state, GMBEOO_RINGS_CLOSED, __ATOMIC_RELEASE);
        gmbeoo_rings_wake(&h->state);
        gmbeoo_rings_bump(&h->data_seq);
    }
    return NULL;
}

/* ---- the consumer (the library) and its checks ---- */

typedef struct Seen {
    uint64_t next[MAX_RINGS];   /* the next seq expected of each ring */
    uint64_t accesses, drops, dropped;
    uint64_t dropped_ring[MAX_RINGS];
    uint64_t next_index;
    bool bad;
    char why[100];
} Seen;

static void bad(Seen *s, const char *why)
{
    if (!s->bad) {
        snprintf(s->why, sizeof(s->why), "%s", why);
    }
    s->bad = true;
}

static void check_batch(Seen *s, const GmbeooBatch *b, GmbeooRecordFormat fmt)
{
    if (b->first_index != s->next_index || b->format != fmt ||
        b->count + b->ndrops == 0 || b->count + b->ndrops > 4096) {
        bad(s, "batch index, format or size");
    }
    s->next_index += b->count + b->ndrops;
    for (size_t k = 0; k < b->count; k++) {
        uint64_t va = b->vaddr[k];
        uint32_t ring = (uint32_t)(va >> 40);
        uint64_t seq = va & ((UINT64_C(1) << 40) - 1);
        if (ring >= MAX_RINGS) {
            bad(s, "ring out of range");
            return;
        }
        /* Records dropped before this one are skipped seqs. */
        if (seq < s->next[ring] || b->info[k] != info_of(seq)) {
            bad(s, "a record out of order, twice or wrong");
        }
        if (b->vcpu && b->vcpu[k] != ring) {
            bad(s, "vcpu");
        }
        if (b->paddr && (b->paddr[k] != (va ^ 0x5000) ||
                         b->pc[k] != 0x400000 + seq ||
                         b->cr3[k] != 0x1000 * (seq & 7))) {
            bad(s, "extended32 fields");
        }
        s->next[ring] = seq + 1;
    }
    for (size_t k = 0; k < b->ndrops; k++) {
        s->drops++;
        s->dropped += b->drops[k].dropped;
        if (fmt != GMBEOO_FORMAT_COMPACT8) {
            s->dropped_ring[b->drops[k].vcpu % MAX_RINGS] +=
                b->drops[k].dropped;
        }
    }
    s->accesses += b->count;
}

static int claimed_fd(void)
{
    int fd = memfd_create("test_gmbeoo_rings", MFD_CLOEXEC);
    char v[16];
    snprintf(v, sizeof(v), "%d", fd);
    setenv("GMBEOO_RINGS_FD", v, 1);
    return fd;
}

static GmbeooSource *start_tool(int format)
{
    char *argv[] = { "test_gmbeoo_rings", "/nonexistent/fifo", "tok", NULL };
    return gmbeoo_tool_start(3, argv, format, 0);
}

/* Run @p against the library; @slow_every: the consumer sleeps @slow_us
 * after every that many batches (0: never). */
static void run_case(const char *name, Prod *p, unsigned slow_every,
                     unsigned slow_us, bool expect_drops)
{
    char t[400];
    int fd = claimed_fd();
    GmbeooSource *src = start_tool(GMBEOO_FORMAT_GMBEOO16);
    uint32_t claim[2] = { 0, 0 };
    bool read_ok = pread(fd, claim, sizeof(claim), 0) == sizeof(claim);
    snprintf(t, sizeof(t), "%s: the tool claimed the rings", name);
    CHECK(t, src && read_ok && claim[0] == (uint32_t)getpid() &&
          claim[1] == GMBEOO_RINGS_VERSION &&
          gmbeoo_kind(src) == GMBEOO_SOURCE_RINGS && gmbeoo_fd(src) == -1 &&
          strcmp(gmbeoo_kind_name(src), "shared rings") == 0 &&
          getenv("GMBEOO_RINGS_FD") == NULL);
    if (!src) {
        close(fd);
        return;
    }
    p->fd = fd;
    pthread_t th;
    pthread_create(&th, NULL, producer, p);
    Seen s = { 0 };
    GmbeooBatch b;
    int r;
    unsigned n = 0;
    while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        check_batch(&s, &b, p->fmt);
        if (slow_every && ++n % slow_every == 0) {
            usleep(slow_us);
        }
    }
    if (r != GMBEOO_END) {
        printf("# gmbeoo_next: %d %s\n", r, gmbeoo_errmsg());
    }
    pthread_join(th, NULL);
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    const GmbeooMeta *m = gmbeoo_meta(src);

    uint64_t dropped = 0, markers = 0;
    bool per_ring = true;
    for (uint32_t i = 0; i < p->nr; i++) {
        dropped += p->dropped[i];
        markers += p->markers[i];
        /* Every ring's last record came (unless it was dropped). */
        if (s.next[i] != p->per_ring && !p->dropped[i]) {
            per_ring = false;
        }
        if (p->fmt != GMBEOO_FORMAT_COMPACT8 &&
            s.dropped_ring[i] != p->dropped[i]) {
            per_ring = false;
        }
    }
    uint64_t total = p->per_ring * p->nr;
    snprintf(t, sizeof(t), "%s: END after CLOSED, every record once, in "
             "each ring's order%s%s", name, s.bad ? ": " : "", s.why);
    CHECK(t, r == GMBEOO_END && !s.bad && per_ring &&
          s.accesses + dropped == total && s.drops == markers &&
          s.dropped == dropped);
    snprintf(t, sizeof(t), "%s: stats and metadata", name);
    CHECK(t, st.records == s.accesses + s.drops && st.accesses == s.accesses &&
          st.drops == s.drops && st.dropped == s.dropped && st.eof == 1 &&
          st.error == 0 && st.partial_bytes == 0 &&
          m->format == p->fmt && m->format_known == 1 && m->ninfo == 1 &&
          strcmp(m->info[0], "tok") == 0);
    snprintf(t, sizeof(t), "%s: %s", name, expect_drops
             ? "the stalled consumer cost counted, marked records"
             : "the producer slept for room and dropped nothing");
    CHECK(t, expect_drops ? dropped > 0 && markers > 0
                          : dropped == 0 && p->sleeps > 0);
    snprintf(t, sizeof(t), "%s: END stays END", name);
    CHECK(t, gmbeoo_next(src, &b) == GMBEOO_END);
    gmbeoo_close(src);
    munmap(p->map, p->h->file_size);
    close(fd);
}

/* SIGUSR1 before the rings open: nothing came, END. */
static void test_usr1_before_open(void)
{
    int fd = claimed_fd();
    GmbeooSource *src = start_tool(GMBEOO_FORMAT_AUTO);
    kill(getpid(), SIGUSR1);
    GmbeooBatch b;
    int r = src ? gmbeoo_next(src, &b) : -99;
    GmbeooStats st = { 0 };
    if (src) {
        gmbeoo_stats(src, &st);
    }
    CHECK("SIGUSR1 before the rings open: END, nothing came",
          r == GMBEOO_END && st.records == 0);
    CHECK("gmbeoo_tool_report prints after SIGUSR1",
          src && gmbeoo_tool_report(src, NULL, NULL) == 0);
    gmbeoo_close(src);
    close(fd);
}

/* SIGTERM with records waiting: END at once, no report block. */
static void test_sigterm(void)
{
    int fd = claimed_fd();
    GmbeooSource *src = start_tool(GMBEOO_FORMAT_AUTO);
    Prod p = { .fd = fd, .fmt = GMBEOO_FORMAT_GMBEOO16, .nr = 1,
               .ring_bytes = 1 << 16, .per_ring = 1000, .window = 1 << 20,
               .close = false };
    producer(&p);           /* publishes 1000 records, stays OPEN */
    GmbeooBatch b;
    int r1 = gmbeoo_next(src, &b);
    kill(getpid(), SIGTERM);
    int r2;
    uint64_t t0 = now_ns();
    while ((r2 = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
    }
    CHECK("SIGTERM ends a ring source at once",
          r1 == GMBEOO_BATCH && r2 == GMBEOO_END &&
          now_ns() - t0 < 5ull * 1000000000u);
    CHECK("gmbeoo_tool_report after SIGTERM prints nothing",
          gmbeoo_tool_report(src, NULL, NULL) == 1);
    gmbeoo_close(src);
    munmap(p.map, p.h->file_size);
    close(fd);
}

/* SIGUSR1 while OPEN: END once every published record is handed out. */
static void test_usr1_open(void)
{
    int fd = claimed_fd();
    GmbeooSource *src = start_tool(GMBEOO_FORMAT_AUTO);
    Prod p = { .fd = fd, .fmt = GMBEOO_FORMAT_COMPACT8, .nr = 2,
               .ring_bytes = 1 << 16, .per_ring = 3000, .window = 4096,
               .close = false };
    producer(&p);
    kill(getpid(), SIGUSR1);
    GmbeooBatch b;
    uint64_t n = 0;
    int r;
    while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        n += b.count;
    }
    CHECK("SIGUSR1 while open: END after every published record",
          r == GMBEOO_END && n == 6000);
    gmbeoo_close(src);
    munmap(p.map, p.h->file_size);
    close(fd);
}

/* No GMBEOO_RINGS_FD, or not a file: the FIFO as always. */
static void test_no_rings(void)
{
    unsetenv("GMBEOO_RINGS_FD");
    char dir[] = "/tmp/test_gmbeoo_rings.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK("mkdtemp", false);
        return;
    }
    char fifo[64];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    mkfifo(fifo, 0600);
    char *argv[] = { "t", fifo, NULL };
    GmbeooSource *src = gmbeoo_tool_start(2, argv, GMBEOO_FORMAT_AUTO, 0);
    CHECK("without GMBEOO_RINGS_FD the tool reads the FIFO",
          src && gmbeoo_fd(src) >= 0 &&
          gmbeoo_kind(src) != GMBEOO_SOURCE_RINGS);
    gmbeoo_close(src);
    int p[2];
    if (pipe(p) == 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", p[0]);
        setenv("GMBEOO_RINGS_FD", v, 1);
        src = gmbeoo_tool_start(2, argv, GMBEOO_FORMAT_AUTO, 0);
        CHECK("a GMBEOO_RINGS_FD that is no file is not claimed",
              src && gmbeoo_kind(src) != GMBEOO_SOURCE_RINGS);
        gmbeoo_close(src);
        close(p[0]);
        close(p[1]);
    }
    unlink(fifo);
    rmdir(dir);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_no_rings();
    test_usr1_before_open();
    test_sigterm();
    test_usr1_open();

    /* 3 rings of 4 KiB: each wraps ~470 times; the consumer keeps up. */
    Prod a = { .fmt = GMBEOO_FORMAT_GMBEOO16, .nr = 3, .ring_bytes = 4096,
               .per_ring = 120000, .window = 1024, .close = true };
    run_case("gmbeoo16, 3 small rings", &a, 0, 0, false);
    /* A slow consumer: the producer sleeps for room, drops nothing. */
    Prod b = { .fmt = GMBEOO_FORMAT_COMPACT8, .nr = 2, .ring_bytes = 8192,
               .per_ring = 60000, .window = 2048, .close = true };
    run_case("compact8, slow consumer", &b, 4, 200, false);
    Prod c = { .fmt = GMBEOO_FORMAT_EXTENDED32, .nr = 4, .ring_bytes = 16384,
               .per_ring = 30000, .window = 4096, .close = true };
    run_case("extended32, 4 rings", &c, 16, 100, false);
    /* A stalled consumer (300 ms, 3 times): the producer gives up after
     * 50 ms and marks what it dropped. */
    Prod d = { .fmt = GMBEOO_FORMAT_GMBEOO16, .nr = 2, .ring_bytes = 8192,
               .per_ring = 200000, .window = 1024, .close = true,
               .give_up_ns = 50 * 1000 * 1000 };
    run_case("gmbeoo16, stalled consumer", &d, 150, 300 * 1000, true);
    Prod e = { .fmt = GMBEOO_FORMAT_EXTENDED32, .nr = 1, .ring_bytes = 4096,
               .per_ring = 100000, .window = 512, .close = true,
               .give_up_ns = 20 * 1000 * 1000 };
    run_case("extended32, stalled consumer", &e, 100, 100 * 1000, true);
    return check_failures ? 1 : 0;
}
