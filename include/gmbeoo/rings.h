/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO shared rings: the zero-copy transport between QEMU and one
 * analysis tool in another process.
 *
 * Instead of a writer thread copying the vCPUs' rings into a FIFO, QEMU
 * puts the rings themselves in a shared file (memory_tracer gives it a
 * memfd, as /proc/self/fd/N) and the consumer (libgmbeoo, in the analysis
 * tool) maps the same file and reads the records in place.  The records
 * are exactly those of the FIFO (record.h), drop markers included; only
 * the way they travel changes.  This header is the one definition of the
 * layout, used by QEMU (which gets a copy of include/gmbeoo at build
 * time), libgmbeoo and memory_tracer.  It is private to the project: not
 * installed, no stability promise beyond GMBEOO_RINGS_VERSION.  Compile with
 * _GNU_SOURCE (syscall()), as the project does.
 *
 * Layout of the file (offsets in bytes; the fields are in the byte order
 * of the host, where both sides run; the records are record.h's):
 *
 *   0                        GmbeooRingsHeader, in a page of its own
 *   GMBEOO_RINGS_PAGE        ring 0: GmbeooRingControl, in a page of its own,
 *                            then ring_bytes of records
 *   + ring_stride            ring 1, ... (nr_rings of them, vCPU order)
 *
 * A ring is a power-of-two number of bytes, a whole number of records.
 * head and tail count bytes from the start of the session and never wrap;
 * the records of a ring are [tail, head), at offset (x & (ring_bytes - 1)),
 * and a record never straddles the ring's end.  Each ring is one vCPU's
 * records in its program order; nothing orders records of different rings.
 *
 * The hand-shake (memory_tracer does the steps in brackets):
 *  1. [memory_tracer makes an empty memfd, passes it to QEMU and to the
 *     tool, whose environment names it: GMBEOO_RINGS_FD.]
 *  2. The consumer claims it before it says "Ready to analyze": it makes the
 *     file one page long and writes its pid and GMBEOO_RINGS_VERSION into
 *     consumer_pid and consumer_version.  [memory_tracer reads them: a
 *     claim, and it enables GMBEOO with the shared rings; none, and the
 *     tool gets the FIFO as always.]
 *  3. QEMU sizes the file, fills in the header and every control block,
 *     and sets state to GMBEOO_RINGS_OPEN (release; a futex word, woken).
 *  4. Producer: writes records past head, then publishes them by a release
 *     store of head (a 64 KiB window at a time, and whatever is written when
 *     tracing stops); it waits while head - tail leaves no room.
 *     Consumer: reads [tail, head) after an acquire load of head, then gives
 *     the space back by a release store of tail.
 *  5. When tracing ends QEMU publishes the last records and sets state to
 *     GMBEOO_RINGS_CLOSED; the consumer has read everything once state is
 *     CLOSED and every ring's tail equals its head.
 *
 * state is a futex word too: QEMU wakes it (gmbeoo_rings_wake()) when it
 * changes, and bumps data_seq as well when it closes.
 *
 * Sleeping: either side may sleep instead of spinning, on a futex (on a
 * shared mapping, so without FUTEX_PRIVATE_FLAG), and says so in a flag
 * the other side checks after it has moved its index.  The flag and the
 * index are a Dekker pair: each side stores its own, issues a full fence,
 * then loads the other's (gmbeoo_rings_publish(), gmbeoo_rings_release()).
 * A wake-up can still be missed in theory, so every sleep has a timeout.
 */
#ifndef GMBEOO_RINGS_H
#define GMBEOO_RINGS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define GMBEOO_RINGS_VERSION    1u
#define GMBEOO_RINGS_MAGIC      UINT64_C(0x474e495245424d47)  /* GMBERING */
/* The header and each control block take this many bytes. */
#define GMBEOO_RINGS_PAGE       4096u

/*
 * The size of each ring memory_tracer asks for (gmbeoo-enable's ring-size
 * is in records: this / the record size).  Smaller than the FIFO's 64 MiB
 * rings: a consumer slower than the vCPU keeps its ring full, so it reads
 * records a whole ring after they were written, and from 16 MiB they still
 * come from the cache more often.  A decode-and-classify tool on dense_rmw
 * (bench/classify.c, 2026-12-06, one vCPU): 16 MiB rings 13 % faster than
 * 64 MiB with gmbeoo16, 5 % with compact8 (32 MiB), 15 % with extended32
 * (128 MiB); 8 MiB and less were slower again.
 */
#define GMBEOO_RINGS_RING_BYTES (16u << 20)

/* GmbeooRingsHeader.state */
#define GMBEOO_RINGS_SETUP      0u  /* claimed at most: not usable yet */
#define GMBEOO_RINGS_OPEN       1u  /* records are coming */
#define GMBEOO_RINGS_CLOSED     2u  /* no more records will be published */

typedef struct GmbeooRingsHeader {
    /* Written by the consumer when it claims the file (step 2). */
    uint32_t consumer_pid;
    uint32_t consumer_version;
    /* Written by QEMU before state becomes OPEN (step 3). */
    uint64_t magic;             /* GMBEOO_RINGS_MAGIC */
    uint32_t version;           /* GMBEOO_RINGS_VERSION */
    uint32_t state;             /* futex word: GMBEOO_RINGS_* */
    uint32_t nr_rings;          /* one per vCPU */
    uint32_t record_format;     /* GmbeooRecordFormat */
    uint32_t record_size;       /* bytes */
    uint32_t reserved;
    uint64_t ring_bytes;        /* records of a ring, in bytes; power of 2 */
    uint64_t ring_stride;       /* GMBEOO_RINGS_PAGE + ring_bytes */
    uint64_t file_size;         /* gmbeoo_rings_file_size() */
    uint8_t pad0[64];
    /* The consumer's sleep (on data_seq), in a cache line of its own. */
    uint32_t data_seq;          /* futex word: bumped to wake the consumer */
    uint32_t consumer_waiting;  /* the consumer sleeps or is about to */
    uint8_t pad1[56];
} GmbeooRingsHeader;

typedef struct GmbeooRingControl {
    /* The producer's cache line. */
    uint64_t head;              /* bytes published (release) */
    uint32_t cpu_index;         /* the vCPU whose ring this is */
    uint32_t producer_waiting;  /* the producer sleeps for room on room_seq */
    uint32_t room_seq;          /* futex word: bumped to wake the producer */
    uint8_t pad0[44];
    /* The consumer's cache line. */
    uint64_t tail;              /* bytes given back (release) */
    uint8_t pad1[56];
} GmbeooRingControl;

_Static_assert(offsetof(GmbeooRingsHeader, state) == 20, "rings layout");
_Static_assert(offsetof(GmbeooRingsHeader, data_seq) == 128, "rings layout");
_Static_assert(sizeof(GmbeooRingsHeader) == 192, "rings layout");
_Static_assert(offsetof(GmbeooRingControl, tail) == 64, "rings layout");
_Static_assert(sizeof(GmbeooRingControl) == 128, "rings layout");

static inline uint64_t gmbeoo_rings_file_size(uint32_t nr_rings,
                                              uint64_t ring_bytes)
{
    return GMBEOO_RINGS_PAGE +
           (uint64_t)nr_rings * (GMBEOO_RINGS_PAGE + ring_bytes);
}

static inline GmbeooRingControl *gmbeoo_rings_control(void *base,
                                                      uint64_t ring_stride,
                                                      uint32_t i)
{
    return (GmbeooRingControl *)((uint8_t *)base + GMBEOO_RINGS_PAGE +
                                 (uint64_t)i * ring_stride);
}

static inline uint8_t *gmbeoo_rings_data(void *base, uint64_t ring_stride,
                                         uint32_t i)
{
    return (uint8_t *)gmbeoo_rings_control(base, ring_stride, i) +
           GMBEOO_RINGS_PAGE;
}

/*
 * Sleep while *@word == @val, at most @timeout_ns (a futex on a shared
 * mapping); returns at once if it differs.  Spurious returns are fine.
 * Elsewhere than on Linux: a short nap, the caller polls.
 */
static inline void gmbeoo_rings_sleep(uint32_t *word, uint32_t val,
                                      long timeout_ns)
{
#ifdef __linux__
    struct timespec ts = {
        .tv_sec = timeout_ns / 1000000000L,
        .tv_nsec = timeout_ns % 1000000000L,
    };

    syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
#else
    struct timespec ts = { 0, timeout_ns < 50000 ? timeout_ns : 50000 };

    (void)word;
    (void)val;
    nanosleep(&ts, NULL);
#endif
}

/* Wake whoever sleeps on @word (its value changed). */
static inline void gmbeoo_rings_wake(uint32_t *word)
{
#ifdef __linux__
    syscall(SYS_futex, word, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/* Bump the sequence word @word and wake whoever sleeps on it. */
static inline void gmbeoo_rings_bump(uint32_t *word)
{
    __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
    gmbeoo_rings_wake(word);
}

/*
 * Producer: publish the records of @ctl up to @head and wake the consumer
 * if it sleeps.
 */
static inline void gmbeoo_rings_publish(GmbeooRingsHeader *h,
                                        GmbeooRingControl *ctl, uint64_t head)
{
    __atomic_store_n(&ctl->head, head, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->consumer_waiting, __ATOMIC_RELAXED)) {
        gmbeoo_rings_bump(&h->data_seq);
    }
}

/*
 * Consumer: give the space of @ctl back up to @tail, and wake the producer
 * if it sleeps for room and @wake is true.  A consumer slower than the
 * producer keeps the ring full, so the producer sleeps nearly all the time:
 * waking it for every batch would cost the consumer a system call per
 * batch and the producer a context switch per window.  Pass @wake once a
 * good part of the ring is free (gmbeoo_rings_room_to_wake()); the
 * producer's sleeps have a timeout besides.
 */
static inline void gmbeoo_rings_release(GmbeooRingControl *ctl,
                                        uint64_t tail, int wake)
{
    __atomic_store_n(&ctl->tail, tail, __ATOMIC_RELEASE);
    if (!wake) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ctl->producer_waiting, __ATOMIC_RELAXED)) {
        gmbeoo_rings_bump(&ctl->room_seq);
    }
}

/* The free bytes of a ring of @ring_bytes at which a consumer wakes a
 * producer that sleeps for room. */
static inline uint64_t gmbeoo_rings_room_to_wake(uint64_t ring_bytes)
{
    return ring_bytes / 4;
}

#endif /* GMBEOO_RINGS_H */
