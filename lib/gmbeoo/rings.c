/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's ring source: the consumer side of the shared rings
 * (include/gmbeoo/rings.h), the zero-copy transport memory_tracer offers a
 * tool it starts.
 *
 * gmbeoo_tool_start() claims the file memory_tracer names in
 * GMBEOO_RINGS_FD (step 2 of the hand-shake) before "Ready to analyze";
 * the first gmbeoo_next() waits for QEMU to open the rings (step 3) and
 * maps them; each gmbeoo_next() then gives back the space of the batch
 * handed out before and takes the next one, in place, from the rings in
 * turn (step 4).  A batch never crosses a ring's end (records never
 * straddle it), so its raw pointer is the ring itself.
 *
 * The signals are taken as for the FIFO (tool.c): SIGTERM and SIGINT end
 * at once, SIGUSR1 once every record published has been handed out (before
 * the rings open: nothing came).  The futex sleeps are short (the signals
 * come through a signalfd, which a futex does not watch).
 */
#include "gmbeoo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gmbeoo/rings.h"

#define RINGS_ENV "GMBEOO_RINGS_FD"
/* How long a sleep lasts before the signals are looked at again. */
#define OPEN_SLEEP_NS (10 * 1000 * 1000L)
#define DATA_SLEEP_NS (10 * 1000 * 1000L)

/* The descriptor memory_tracer names in the environment, or -1. */
static int rings_env_fd(void)
{
    int fd = gmbeoo_env_int(RINGS_ENV);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    return fd;
}

int gmbeoo_rings_claim(void)
{
    int fd = rings_env_fd();
    /* Only this process claims it: not a tool this one runs. */
    unsetenv(RINGS_ENV);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 ||
        (st.st_size < (off_t)GMBEOO_RINGS_PAGE &&
         ftruncate(fd, GMBEOO_RINGS_PAGE) != 0)) {
        return -1;
    }
    uint32_t claim[2] = { (uint32_t)getpid(), GMBEOO_RINGS_VERSION };
    if (pwrite(fd, claim, sizeof(claim), 0) != (ssize_t)sizeof(claim)) {
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

void gmbeoo_rings_attach(GmbeooSource *src, int fd)
{
    src->rings_fd = fd;
    src->kind = GMBEOO_SOURCE_RINGS;
    /* The header page alone until QEMU opens the rings (its state word). */
    void *p = mmap(NULL, GMBEOO_RINGS_PAGE, PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
        src->rmap = p;
        src->rmap_len = GMBEOO_RINGS_PAGE;
    }
}

void gmbeoo_rings_detach(GmbeooSource *src)
{
    if (src->rmap) {
        munmap(src->rmap, src->rmap_len);
        src->rmap = NULL;
    }
    if (src->rings_fd >= 0) {
        close(src->rings_fd);
        src->rings_fd = -1;
    }
}

/* Take a pending signal, if any, without waiting. */
static void poll_signals(GmbeooSource *src)
{
    struct pollfd p = { .fd = src->sigfd, .events = POLLIN };
    while (src->sigfd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
        gmbeoo_tool_take_signal(src);
    }
}

/* QEMU opened the rings: check the header, map the whole file (a step
 * result: STEP_OK or STEP_ERROR). */
static int map_rings(GmbeooSource *src)
{
    const GmbeooRingsHeader *h = src->rmap;
    if (h->magic != GMBEOO_RINGS_MAGIC) {
        return gmbeoo_source_fail(src, "not GMBEOO shared rings (magic %#"
                                  PRIx64 ")", h->magic);
    }
    if (h->version != GMBEOO_RINGS_VERSION) {
        return gmbeoo_source_fail(src, "shared rings version %u (this "
                                  "library reads version %u)", h->version,
                                  GMBEOO_RINGS_VERSION);
    }
    if (h->record_format >= GMBEOO_FORMAT__MAX ||
        h->record_size != gmbeoo_format_size(h->record_format)) {
        return gmbeoo_source_fail(src, "record format %u of %u bytes: no "
                                  "such format", h->record_format,
                                  h->record_size);
    }
    uint64_t rb = h->ring_bytes;
    if (h->nr_rings == 0 || rb == 0 || (rb & (rb - 1)) != 0 ||
        rb % h->record_size != 0 ||
        h->ring_stride != GMBEOO_RINGS_PAGE + rb ||
        h->file_size != gmbeoo_rings_file_size(h->nr_rings, rb)) {
        return gmbeoo_source_fail(src, "inconsistent header (%u rings of %"
                                  PRIu64 " bytes, file of %" PRIu64
                                  " bytes)", h->nr_rings, rb, h->file_size);
    }
    struct stat st;
    if (fstat(src->rings_fd, &st) != 0 ||
        (uint64_t)st.st_size < h->file_size) {
        return gmbeoo_source_fail(src, "the file is smaller than its header "
                                  "says (%" PRIu64 " bytes)", h->file_size);
    }
    void *p = mmap(NULL, h->file_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   src->rings_fd, 0);
    if (p == MAP_FAILED) {
        return gmbeoo_source_fail(src, "mmap of %" PRIu64 " bytes: %s",
                                  h->file_size, strerror(errno));
    }
    munmap(src->rmap, src->rmap_len);
    src->rmap = p;
    src->rmap_len = ((GmbeooRingsHeader *)p)->file_size;
    h = p;
    src->nr_rings = h->nr_rings;
    src->ring_bytes = rb;
    src->ring_stride = h->ring_stride;
    src->format = (GmbeooRecordFormat)h->record_format;
    src->record_size = h->record_size;
    src->meta.format = src->format;
    src->meta.format_known = 1;
    if (src->meta.vcpus < 0) {
        src->meta.vcpus = (int)h->nr_rings;
    }
    src->rings_mapped = true;
    return STEP_OK;
}

/* Wait for QEMU to open the rings (then map them: STEP_OK) or for the end
 * (STEP_EOF, STEP_ERROR). */
static int wait_open(GmbeooSource *src)
{
    if (!src->rmap) {
        return gmbeoo_source_fail(src, "cannot map the shared rings' header");
    }
    GmbeooRingsHeader *h = src->rmap;
    for (;;) {
        uint32_t state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
        if (state != GMBEOO_RINGS_SETUP) {
            return map_rings(src);
        }
        poll_signals(src);
        if (src->got_term || src->got_usr1) {
            src->stats.eof = 1;
            return STEP_EOF;            /* nothing came */
        }
        gmbeoo_rings_sleep(&h->state, state, OPEN_SLEEP_NS);
    }
}

/* The next batch of records published, from the rings in turn. */
static bool take(GmbeooSource *src, GmbeooBatch *b)
{
    uint32_t n = src->nr_rings;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (src->next_ring + k) % n;
        GmbeooRingControl *c = gmbeoo_rings_control(src->rmap,
                                                    src->ring_stride, i);
        uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
        uint64_t tail = c->tail;            /* ours */
        if (head <= tail) {
            continue;
        }
        uint64_t off = tail & (src->ring_bytes - 1);
        uint64_t bytes = MIN(head - tail, src->ring_bytes - off);
        gsize count = MIN(bytes / src->record_size, (gsize)GMBEOO_BATCH_MAX);
        if (count == 0) {
            continue;
        }
        uint8_t *data = gmbeoo_rings_data(src->rmap, src->ring_stride, i);
        gmbeoo_source_decode(src, data + off, count, b);
        src->pending = c;
        src->pending_tail = tail + count * src->record_size;
        src->pending_head = head;
        src->next_ring = (i + 1) % n;
        return true;
    }
    return false;
}

/* Give back the space of the batch handed out last. */
static void release_pending(GmbeooSource *src)
{
    if (src->pending) {
        /* The room the producer finds: exact while it sleeps for room,
         * since it publishes nothing then. */
        uint64_t room = src->ring_bytes -
                        (src->pending_head - src->pending_tail);
        gmbeoo_rings_release(src->pending, src->pending_tail,
                             room >= gmbeoo_rings_room_to_wake(
                                 src->ring_bytes) ||
                             src->done);
        src->pending = NULL;
    }
}

/* How long a consumer with nothing to read looks before it sleeps. */
#define SPIN_NS 50000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Take a batch published within SPIN_NS, if one is. */
static bool spin_for_data(GmbeooSource *src, GmbeooBatch *b)
{
    uint64_t until = now_ns() + SPIN_NS;
    do {
        for (int i = 0; i < 64; i++) {
            cpu_relax();
        }
        if (take(src, b)) {
            return true;
        }
    } while (now_ns() < until);
    return false;
}

int gmbeoo_rings_next(GmbeooSource *src, GmbeooBatch *batch)
{
    release_pending(src);
    if (src->done) {
        return src->result;
    }
    if (!src->rings_mapped) {
        int r = wait_open(src);
        if (r != STEP_OK) {
            return gmbeoo_source_end(src, r);
        }
    }
    GmbeooRingsHeader *h = src->rmap;
    /* A signal is looked for at each sleep and every few batches. */
    if (++src->batches_since_poll >= 16) {
        src->batches_since_poll = 0;
        poll_signals(src);
    }
    for (;;) {
        if (src->got_term) {
            return gmbeoo_source_end(src, STEP_EOF);
        }
        if (take(src, batch)) {
            return GMBEOO_BATCH;
        }
        /* Nothing published: read the state, then look once more (what
         * was published before CLOSED is seen after it). */
        uint32_t state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
        bool usr1 = src->got_usr1;
        if (take(src, batch)) {
            return GMBEOO_BATCH;
        }
        if (state == GMBEOO_RINGS_CLOSED) {
            src->stats.eof = 1;
            return gmbeoo_source_end(src, STEP_EOF);
        }
        if (usr1) {
            /* everything published is read */
            return gmbeoo_source_end(src, STEP_EOF);
        }
        /* Look again for a while before sleeping: a producer at full rate
         * publishes a window every few microseconds, and waking a sleeping
         * consumer would cost it a system call per window. */
        if (spin_for_data(src, batch)) {
            return GMBEOO_BATCH;
        }
        /* Sleep: say so, then look again (a Dekker pair with publish). */
        uint32_t seq = __atomic_load_n(&h->data_seq, __ATOMIC_ACQUIRE);
        __atomic_store_n(&h->consumer_waiting, 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!take(src, batch) &&
            __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == state) {
            gmbeoo_rings_sleep(&h->data_seq, seq, DATA_SLEEP_NS);
            __atomic_store_n(&h->consumer_waiting, 0, __ATOMIC_RELAXED);
            poll_signals(src);
            continue;
        }
        __atomic_store_n(&h->consumer_waiting, 0, __ATOMIC_RELAXED);
        if (src->pending) {
            return GMBEOO_BATCH;        /* take() found some */
        }
    }
}
