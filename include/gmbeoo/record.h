/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO trace record: the wire format of the memory-access stream.
 *
 * The patched QEMU writes one record per guest data access ("GMBE" event,
 * guest_mem_before_exec in the original tool) into the trace output (a FIFO
 * or a regular file).  memory_tracer, simple_analysis, gmbeoo_dump and any
 * user analysis tool read it.  The layout is exactly the original tool's, so
 * analysis tools written for it keep working: 16 bytes, little-endian, no
 * stream header, no timestamp.  Records come out in event order; QEMU counts
 * dropped events and marks each gap with a drop marker (below).  Two more
 * formats, compact8 and extended32, are described after the 16-byte one.
 *
 * Several vCPUs: each vCPU's records are in its program order, and the
 * vCPUs' records interleave in chunks of whole records of one vCPU (QEMU
 * writes each vCPU's ring in turn, at most 1 MiB of it per turn, typically
 * one 64 KiB window; chunks of one vCPU follow each other while the others
 * have nothing to write), and nothing orders the records of different vCPUs
 * in time.  The vCPU of a record is byte 1 of a gmbeoo16
 * record (on a guest with more than one vCPU) or bits 8-15 of extended32's
 * word 0; compact8 has no field for it.
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
 * Record formats.  A stream carries records of one format only, chosen when
 * tracing is enabled (memory_tracer --trace_record_format, QMP gmbeoo-enable
 * 'record-format').  The names are the ones users type.
 *
 * gmbeoo16 (default): the 16-byte record above, byte for byte the original.
 *   Byte 1 of word0 carries the vCPU index on guests with more than one vCPU
 *   (zero on a one-vCPU guest, as the original had it).
 *
 *   byte  field
 *   0     info byte (size_shift, sign_extend, big_endian, store, cpl)
 *   1     vCPU index (0 on a one-vCPU guest)
 *   2-6   zero
 *   7     bit 7: valid (1)
 *   8-15  guest virtual address
 *
 * compact8: one little-endian 64-bit word, (uint64_t)vaddr << 8 | info.
 *
 *   byte  field
 *   0     info byte, exactly byte 0 of the gmbeoo16 record
 *   1-7   bits 0-55 of the guest virtual address
 *
 *   Decode: vaddr = (int64_t)word >> 8 (an arithmetic shift), which restores
 *   the canonical sign extension of a 48-bit (4-level paging) or 56-bit
 *   address.  A 57-bit (5-level paging, LA57) address keeps bits 0-55 only:
 *   its bit 56 is lost, so a canonical LA57 address is decoded right exactly
 *   when bits 55 and 56 are equal.  There is no valid bit: every word in a
 *   compact8 stream is a record.
 *
 * extended32: four little-endian 64-bit words.
 *
 *   word  bits    field
 *   0     0-7     info byte, exactly byte 0 of the gmbeoo16 record
 *   0     8-15    vCPU index
 *   0     16-55   the guest's CR3 >> 12 at the time of the access (the
 *                 address space; PCID bits 0-11 dropped)
 *   0     56-62   zero
 *   0     63      valid (1)
 *   1     -       guest virtual address
 *   2     -       guest physical address (the guest TLB's translation); all
 *                 ones when no RAM is behind the access (MMIO, unmapped) or
 *                 when the access is about to fault (it is recorded before
 *                 it is made, and again when the instruction is restarted)
 *   3     -       guest PC (linear address) of the instruction that made the
 *                 access, computed at run time (the same translated code may
 *                 run at several virtual addresses).  Accesses of QEMU's
 *                 helpers on behalf of an instruction (descriptor loads of a
 *                 far call, fxsave, atomics on a multi-vCPU guest) carry
 *                 that instruction's PC.  For interrupt and exception
 *                 delivery (frame pushes, IDT and TSS loads) it is the PC of
 *                 the instruction being executed or interrupted: the
 *                 faulting instruction for an exception, the next
 *                 instruction to run for an interrupt.
 *
 * Drop markers: when QEMU has to drop records (a reader stalled for a second
 * or more, or a full ring met while the vCPU holds the big QEMU lock, where
 * it must not wait) it marks the gap in the stream with one marker record in
 * the stream's format, valid bit clear and info byte GMBEOO_DROP_MARKER_INFO
 * (gmbeoo16, extended32) or info byte GMBEOO_DROP_MARKER_INFO (compact8),
 * whose address field holds the number of records dropped at that point.  A reader that decodes markers knows exactly
 * where and how many records are missing; one that ignores them sees a record
 * with an impossible info byte (size_shift 7).  With several vCPUs a marker
 * is among the records of the vCPU whose records were dropped, counts only
 * those, and carries that vCPU's index where its records do (byte 1 of
 * gmbeoo16, bits 8-15 of extended32's word 0).
 */
typedef enum GmbeooRecordFormat {
    GMBEOO_FORMAT_GMBEOO16 = 0,
    GMBEOO_FORMAT_COMPACT8 = 1,
    GMBEOO_FORMAT_EXTENDED32 = 2,
    GMBEOO_FORMAT__MAX
} GmbeooRecordFormat;

#define GMBEOO_COMPACT8_SIZE    8
#define GMBEOO_EXTENDED32_SIZE  32
#define GMBEOO_MAX_RECORD_SIZE  32

/* Info byte of a drop marker: size_shift 7 never occurs in a real record. */
#define GMBEOO_DROP_MARKER_INFO 0x07u

/* Fields of word 0 of an extended32 record. */
#define GMBEOO_EXT_VCPU_SHIFT   8
#define GMBEOO_EXT_VCPU_MASK    (UINT64_C(0xff) << GMBEOO_EXT_VCPU_SHIFT)
#define GMBEOO_EXT_CR3_SHIFT    16
#define GMBEOO_EXT_CR3_BITS     40
#define GMBEOO_EXT_CR3_MASK     (((UINT64_C(1) << GMBEOO_EXT_CR3_BITS) - 1) \
                                 << GMBEOO_EXT_CR3_SHIFT)
#define GMBEOO_NO_PADDR         UINT64_MAX

/* Byte 1 of a gmbeoo16 record: the vCPU index on a multi-vCPU guest. */
#define GMBEOO_VCPU_SHIFT       8
#define GMBEOO_VCPU_MASK        (UINT64_C(0xff) << GMBEOO_VCPU_SHIFT)

static inline const char *gmbeoo_format_name(GmbeooRecordFormat f)
{
    switch (f) {
    case GMBEOO_FORMAT_GMBEOO16:
        return "gmbeoo16";
    case GMBEOO_FORMAT_COMPACT8:
        return "compact8";
    case GMBEOO_FORMAT_EXTENDED32:
        return "extended32";
    default:
        return "unknown";
    }
}

/* The format named @name, or -1. */
static inline int gmbeoo_format_from_name(const char *name)
{
    static const char *const names[] = { "gmbeoo16", "compact8",
                                         "extended32" };

    for (int f = 0; f < GMBEOO_FORMAT__MAX; f++) {
        const char *a = names[f], *b = name;

        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == 0 && *b == 0) {
            return f;
        }
    }
    return -1;
}

/* Bytes per record of format @f (0 for an unknown format). */
static inline unsigned gmbeoo_format_size(GmbeooRecordFormat f)
{
    switch (f) {
    case GMBEOO_FORMAT_GMBEOO16:
        return GMBEOO_RECORD_SIZE;
    case GMBEOO_FORMAT_COMPACT8:
        return GMBEOO_COMPACT8_SIZE;
    case GMBEOO_FORMAT_EXTENDED32:
        return GMBEOO_EXTENDED32_SIZE;
    default:
        return 0;
    }
}

/* compact8: one word from a virtual address and an info byte, and back. */
static inline uint64_t gmbeoo_compact8_word(uint64_t vaddr, uint8_t info)
{
    return vaddr << 8 | info;
}

static inline uint64_t gmbeoo_compact8_vaddr(uint64_t word)
{
    /* Arithmetic shift written portably: sign-extend bit 55. */
    uint64_t v = word >> 8;

    return (v & (UINT64_C(1) << 55)) ? v | UINT64_C(0xff00000000000000) : v;
}

static inline uint8_t gmbeoo_compact8_info(uint64_t word)
{
    return (uint8_t)word;
}

/* extended32 word 0. */
static inline uint64_t gmbeoo_ext_word0(uint8_t info, unsigned vcpu,
                                        uint64_t cr3)
{
    return (uint64_t)info |
           ((uint64_t)(vcpu & 0xff) << GMBEOO_EXT_VCPU_SHIFT) |
           (((cr3 >> 12) << GMBEOO_EXT_CR3_SHIFT) & GMBEOO_EXT_CR3_MASK) |
           GMBEOO_VALID;
}

static inline unsigned gmbeoo_ext_vcpu(uint64_t word0)
{
    return (unsigned)((word0 & GMBEOO_EXT_VCPU_MASK) >> GMBEOO_EXT_VCPU_SHIFT);
}

/* The CR3 value (page-aligned, PCID bits zero) of an extended32 word 0. */
static inline uint64_t gmbeoo_ext_cr3(uint64_t word0)
{
    return ((word0 & GMBEOO_EXT_CR3_MASK) >> GMBEOO_EXT_CR3_SHIFT) << 12;
}

/* The vCPU index in byte 1 of a gmbeoo16 word 0. */
static inline unsigned gmbeoo_vcpu(uint64_t word0)
{
    return (unsigned)((word0 & GMBEOO_VCPU_MASK) >> GMBEOO_VCPU_SHIFT);
}

/*
 * A record of any format, decoded.  Fields a format lacks are zero
 * (paddr: GMBEOO_NO_PADDR; has_* say which are real).
 */
typedef struct GmbeooAccess {
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t pc;
    uint64_t cr3;
    uint8_t info;
    uint8_t vcpu;
    bool valid;         /* false: a drop marker; dropped = its count */
    uint64_t dropped;
} GmbeooAccess;

/*
 * A little-endian 64-bit word at @p (any alignment).  One load on GCC and
 * clang: the byte loop below is not always merged into one (GCC 12 -O2
 * left it a loop of eight byte loads, shifts and ors in libgmbeoo's
 * decoder, two thirds of a decode-and-classify tool's time).
 */
static inline uint64_t gmbeoo_le64(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__)
    uint64_t v;

    __builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
#else
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
#endif
}

/*
 * Decode one record of format @f from @in (gmbeoo_format_size(f) bytes).
 */
static inline void gmbeoo_decode_any(GmbeooAccess *a, GmbeooRecordFormat f,
                                     const uint8_t *in)
{
    uint64_t w0 = gmbeoo_le64(in);

    a->paddr = GMBEOO_NO_PADDR;
    a->pc = 0;
    a->cr3 = 0;
    a->dropped = 0;
    switch (f) {
    case GMBEOO_FORMAT_COMPACT8:
        a->info = gmbeoo_compact8_info(w0);
        a->vaddr = gmbeoo_compact8_vaddr(w0);
        a->vcpu = 0;
        a->valid = a->info != GMBEOO_DROP_MARKER_INFO;
        break;
    case GMBEOO_FORMAT_EXTENDED32:
        a->info = (uint8_t)w0;
        a->vcpu = (uint8_t)gmbeoo_ext_vcpu(w0);
        a->cr3 = gmbeoo_ext_cr3(w0);
        a->vaddr = gmbeoo_le64(in + 8);
        a->paddr = gmbeoo_le64(in + 16);
        a->pc = gmbeoo_le64(in + 24);
        a->valid = gmbeoo_is_valid(w0);
        break;
    default:
        a->info = (uint8_t)w0;
        a->vcpu = (uint8_t)gmbeoo_vcpu(w0);
        a->vaddr = gmbeoo_le64(in + 8);
        a->valid = gmbeoo_is_valid(w0);
        break;
    }
    if (!a->valid) {
        a->dropped = a->vaddr;
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

/*
 * How many of the events 0 .. n - 1 the rule keeps: in each whole period
 * of 2^(B+R) events its first 2^B, and of the last, partial period at
 * most that many.
 */
static inline uint64_t gmbeoo_sampling_kept(uint64_t n, unsigned b,
                                            unsigned r)
{
    uint64_t blk, rem;

    if (!gmbeoo_sampling_mask(b, r)) {
        return n;
    }
    if (b + r >= 64) {      /* one period: only the first 2^B events */
        return b < 64 && n > (UINT64_C(1) << b) ? UINT64_C(1) << b : n;
    }
    blk = UINT64_C(1) << b;
    rem = n & ((UINT64_C(1) << (b + r)) - 1);
    return (n >> (b + r)) * blk + (rem < blk ? rem : blk);
}

#endif /* GMBEOO_RECORD_H */
