/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO trace record: the wire format of the memory-access stream.
 *
 * The patched QEMU writes one record per guest data access ("GMBE" event,
 * guest_mem_before_exec in the original tool) into the trace output (a FIFO
 * or a regular file).  memory_tracer, simple_analysis, gmbeoo_dump and any
 * user analysis tool read it.  The layout is exactly the original tool's, so
 * analysis tools written for it keep working: 16 bytes, little-endian, no
 * stream header, no timestamp, no CPU id.  Records come out in event order;
 * dropped events leave no marker (they are counted by QEMU instead).
 *
 *   byte  bits  field
 *   ----  ----  -----------------------------------------------------------
 *   0     0-2   size_shift   access size is 1 << size_shift bytes (0..3;
 *                            4 for a 16-byte access)
 *   0     3     sign_extend  the load sign-extends
 *   0     4     big_endian   always 0 for x86 guests
 *   0     5     store        1 = store, 0 = load
 *   0     6-7   cpl          0 = kernel, 3 = user.  Taken from the MMU index
 *                            of the access, so CPL 1 and 2 fold into 0 and
 *                            frame pushes on kernel entry are 0.
 *   1-6   -     zero
 *   7     0-6   zero
 *   7     7     valid        always 1 in the stream
 *   8-15  -     vaddr        guest virtual (linear) address, little-endian
 *
 * As 64-bit words: word0 = info | cpl << 6 | 1 << 63, word1 = vaddr.
 *
 * This header is the only definition of the format.  It is plain C99/C11 with
 * no dependencies, so the QEMU build (which gets a copy of include/gmbeoo at
 * build time), the tracer, the tools and user programs include it as is.
 */
#ifndef GMBEOO_RECORD_H
#define GMBEOO_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#define GMBEOO_RECORD_SIZE 16

/* Bits of word0. */
#define GMBEOO_SIZE_SHIFT_MASK  0x07u
#define GMBEOO_SIGN_EXTEND      (1u << 3)
#define GMBEOO_BIG_ENDIAN       (1u << 4)
#define GMBEOO_STORE            (1u << 5)
#define GMBEOO_CPL_SHIFT        6
#define GMBEOO_CPL_MASK         (3u << GMBEOO_CPL_SHIFT)
#define GMBEOO_INFO_MASK        0xffu
#define GMBEOO_VALID            (UINT64_C(1) << 63)

/* The kernel's cpu_entry_area, which the original's analysis singled out. */
#define GMBEOO_CPU_ENTRY_AREA_START UINT64_C(0xfffffe0000000000)
#define GMBEOO_CPU_ENTRY_AREA_END   UINT64_C(0xfffffe7fffffffff)

typedef struct GmbeooRecord {
    uint64_t word0;     /* info byte, cpl and the valid bit (see above) */
    uint64_t vaddr;     /* guest virtual address */
} GmbeooRecord;

_Static_assert(sizeof(GmbeooRecord) == GMBEOO_RECORD_SIZE,
               "a GMBEOO record is 16 bytes");

/* The info byte (bits 0-7 of word0) from its fields. */
static inline uint8_t gmbeoo_info(unsigned size_shift, bool sign_extend,
                                  bool big_endian, bool store, unsigned cpl)
{
    return (uint8_t)((size_shift & GMBEOO_SIZE_SHIFT_MASK) |
                     (sign_extend ? GMBEOO_SIGN_EXTEND : 0) |
                     (big_endian ? GMBEOO_BIG_ENDIAN : 0) |
                     (store ? GMBEOO_STORE : 0) |
                     ((cpl & 3u) << GMBEOO_CPL_SHIFT));
}

static inline uint64_t gmbeoo_word0(uint8_t info)
{
    return (uint64_t)info | GMBEOO_VALID;
}

static inline unsigned gmbeoo_size_shift(uint64_t word0)
{
    return (unsigned)(word0 & GMBEOO_SIZE_SHIFT_MASK);
}

static inline unsigned gmbeoo_size_bytes(uint64_t word0)
{
    return 1u << gmbeoo_size_shift(word0);
}

static inline bool gmbeoo_is_sign_extend(uint64_t word0)
{
    return (word0 & GMBEOO_SIGN_EXTEND) != 0;
}

static inline bool gmbeoo_is_big_endian(uint64_t word0)
{
    return (word0 & GMBEOO_BIG_ENDIAN) != 0;
}

static inline bool gmbeoo_is_store(uint64_t word0)
{
    return (word0 & GMBEOO_STORE) != 0;
}

static inline unsigned gmbeoo_cpl(uint64_t word0)
{
    return (unsigned)((word0 & GMBEOO_CPL_MASK) >> GMBEOO_CPL_SHIFT);
}

static inline bool gmbeoo_is_valid(uint64_t word0)
{
    return (word0 & GMBEOO_VALID) != 0;
}

static inline bool gmbeoo_in_cpu_entry_area(uint64_t vaddr)
{
    return vaddr >= GMBEOO_CPU_ENTRY_AREA_START &&
           vaddr <= GMBEOO_CPU_ENTRY_AREA_END;
}

/* Little-endian byte image <-> record, for any host byte order. */
static inline void gmbeoo_encode(uint8_t out[GMBEOO_RECORD_SIZE],
                                 const GmbeooRecord *r)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(r->word0 >> (8 * i));
        out[8 + i] = (uint8_t)(r->vaddr >> (8 * i));
    }
}

static inline void gmbeoo_decode(GmbeooRecord *r,
                                 const uint8_t in[GMBEOO_RECORD_SIZE])
{
    r->word0 = 0;
    r->vaddr = 0;
    for (int i = 0; i < 8; i++) {
        r->word0 |= (uint64_t)in[i] << (8 * i);
        r->vaddr |= (uint64_t)in[8 + i] << (8 * i);
    }
}

/*
 * The original's sampling rule.  Events are numbered i = 0, 1, ... from the
 * last reset (after the CPL filter); with B = log_of_GMBE_block_len and
 * R = log_of_GMBE_tracing_ratio (each in [0, 64], B + R <= 64), event i is
 * kept iff (i & mask) == 0, mask = ((1 << R) - 1) << B: of every 2^R blocks
 * of 2^B consecutive events, the first block is kept.  Shifts by 64 are
 * defined here (R = 64 gives all ones, B = 64 gives 0).
 */
static inline bool gmbeoo_sampling_valid(unsigned b, unsigned r)
{
    return b <= 64 && r <= 64 && b + r <= 64;
}

static inline uint64_t gmbeoo_sampling_mask(unsigned b, unsigned r)
{
    uint64_t ones;

    if (r == 0 || b >= 64) {
        return 0;
    }
    ones = r >= 64 ? UINT64_MAX : (UINT64_C(1) << r) - 1;
    return ones << b;   /* b + r <= 64, so no bit of interest is lost */
}

static inline bool gmbeoo_sampling_keeps(uint64_t i, uint64_t mask)
{
    return (i & mask) == 0;
}

#endif /* GMBEOO_RECORD_H */
