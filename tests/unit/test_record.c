/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the record codec and of the original's sampling rule
 * (include/gmbeoo/record.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gmbeoo/record.h"

#include "check.h"

static void test_layout(void)
{
    /* The original's example: cpl 3, store, valid -> e0 00 .. 80. */
    GmbeooRecord r = {
        .word0 = gmbeoo_word0(gmbeoo_info(0, false, false, true, 3)),
        .vaddr = UINT64_C(0x0123456789abcdef),
    };
    uint8_t b[GMBEOO_RECORD_SIZE];
    static const uint8_t want[GMBEOO_RECORD_SIZE] = {
        0xe0, 0, 0, 0, 0, 0, 0, 0x80,
        0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
    };

    gmbeoo_encode(b, &r);
    CHECK("record: byte image of a CPL3 store", memcmp(b, want, sizeof(b)) == 0);
}

static void test_roundtrip(void)
{
    int ok = 1;

    for (unsigned shift = 0; shift < 5; shift++) {
        for (unsigned bits = 0; bits < 8; bits++) {
            for (unsigned cpl = 0; cpl < 4; cpl++) {
                GmbeooRecord r, d;
                uint8_t b[GMBEOO_RECORD_SIZE];
                uint8_t info = gmbeoo_info(shift, bits & 1, bits & 2,
                                           bits & 4, cpl);

                r.word0 = gmbeoo_word0(info);
                r.vaddr = UINT64_C(0xfffffe0000001000) ^ (shift * 977 + cpl);
                gmbeoo_encode(b, &r);
                gmbeoo_decode(&d, b);
                ok &= d.word0 == r.word0 && d.vaddr == r.vaddr;
                ok &= gmbeoo_size_shift(d.word0) == (shift & 7);
                ok &= gmbeoo_is_sign_extend(d.word0) == !!(bits & 1);
                ok &= gmbeoo_is_big_endian(d.word0) == !!(bits & 2);
                ok &= gmbeoo_is_store(d.word0) == !!(bits & 4);
                ok &= gmbeoo_cpl(d.word0) == cpl;
                ok &= gmbeoo_is_valid(d.word0);
                ok &= (d.word0 & ~(uint64_t)0xff) == GMBEOO_VALID;
            }
        }
    }
    CHECK("record: encode/decode round trip of every field", ok);
    CHECK("record: size of a 16-byte access", gmbeoo_size_bytes(4) == 16);
}

/* Number of kept events among the first n, by the rule. */
static uint64_t kept(unsigned b, unsigned r, uint64_t n)
{
    uint64_t mask = gmbeoo_sampling_mask(b, r), k = 0;

    for (uint64_t i = 0; i < n; i++) {
        k += gmbeoo_sampling_keeps(i, mask);
    }
    return k;
}

static void test_sampling(void)
{
    char name[96];

    CHECK("sampling: ranges", gmbeoo_sampling_valid(0, 0) &&
          gmbeoo_sampling_valid(64, 0) && gmbeoo_sampling_valid(0, 64) &&
          gmbeoo_sampling_valid(32, 32) && !gmbeoo_sampling_valid(32, 33) &&
          !gmbeoo_sampling_valid(65, 0) && !gmbeoo_sampling_valid(0, 65));
    CHECK("sampling: B=0,R=0 keeps everything", kept(0, 0, 100000) == 100000);
    CHECK("sampling: B=64,R=0 keeps everything",
          kept(64, 0, 100000) == 100000 &&
          gmbeoo_sampling_keeps(UINT64_MAX, gmbeoo_sampling_mask(64, 0)));
    CHECK("sampling: B=61,R=3 keeps everything below 2^61",
          kept(61, 3, 100000) == 100000 &&
          gmbeoo_sampling_mask(61, 3) == UINT64_C(0xe000000000000000));
    CHECK("sampling: B=0,R=64 keeps only event 0",
          kept(0, 64, 100000) == 1 && gmbeoo_sampling_mask(0, 64) == UINT64_MAX);
    CHECK("sampling: B=3,R=61 keeps only the first 8",
          kept(3, 61, 100000) == 8 &&
          !gmbeoo_sampling_keeps(UINT64_C(1) << 63, gmbeoo_sampling_mask(3, 61)));
    /* B=3,R=4: keep 8, drop 120, keep 8, ... */
    {
        uint64_t mask = gmbeoo_sampling_mask(3, 4);
        int ok = 1;

        for (uint64_t i = 0; i < 1024; i++) {
            ok &= gmbeoo_sampling_keeps(i, mask) == ((i % 128) < 8);
        }
        CHECK("sampling: B=3,R=4 keeps 8 of every 128", ok);
    }
    for (unsigned b = 0; b <= 8; b++) {
        for (unsigned r = 0; r <= 8; r++) {
            uint64_t n = UINT64_C(1) << (b + r + 2);
            if (kept(b, r, n) != n >> r) {
                snprintf(name, sizeof(name),
                         "sampling: ratio 2^R for B=%u,R=%u", b, r);
                CHECK(name, 0);
                return;
            }
        }
    }
    CHECK("sampling: ratio is exactly 2^R for B,R in [0,8]", 1);
    /* The closed form against counting, at and around period ends. */
    {
        static const unsigned br[][2] = {
            { 0, 0 }, { 0, 1 }, { 0, 10 }, { 3, 4 }, { 3, 8 }, { 2, 3 },
            { 16, 10 }, { 5, 0 }, { 64, 0 }, { 0, 64 }, { 3, 61 }, { 61, 3 },
        };
        int ok = 1;

        for (size_t k = 0; k < sizeof(br) / sizeof(br[0]); k++) {
            unsigned b = br[k][0], r = br[k][1];
            uint64_t period = b + r < 14 ? UINT64_C(1) << (b + r) : 1000;

            for (uint64_t n = 0; n <= 3 * period + 2; n += 1 + n / 97) {
                if (gmbeoo_sampling_kept(n, b, r) != kept(b, r, n)) {
                    snprintf(name, sizeof(name), "sampling: kept(%" PRIu64
                             ", B=%u, R=%u) = %" PRIu64 ", counted %" PRIu64,
                             n, b, r, gmbeoo_sampling_kept(n, b, r),
                             kept(b, r, n));
                    ok = 0;
                    break;
                }
            }
        }
        CHECK(ok ? "sampling: gmbeoo_sampling_kept() counts as the rule does"
                 : name, ok);
    }
    CHECK("sampling: gmbeoo_sampling_kept() past 2^32",
          gmbeoo_sampling_kept(UINT64_C(5) << 32, 16, 10) ==
          (UINT64_C(5) << 32 >> 26) * 65536 &&
          gmbeoo_sampling_kept(UINT64_MAX, 3, 61) == 8 &&
          gmbeoo_sampling_kept(UINT64_MAX, 0, 0) == UINT64_MAX);
}

static void test_formats(void)
{
    uint8_t b[GMBEOO_MAX_RECORD_SIZE];
    GmbeooAccess a;
    uint8_t info = gmbeoo_info(3, false, false, true, 3);
    uint64_t w;

    CHECK("formats: names round-trip",
          gmbeoo_format_from_name("gmbeoo16") == GMBEOO_FORMAT_GMBEOO16 &&
          gmbeoo_format_from_name("compact8") == GMBEOO_FORMAT_COMPACT8 &&
          gmbeoo_format_from_name("extended32") == GMBEOO_FORMAT_EXTENDED32 &&
          gmbeoo_format_from_name("compact") == -1 &&
          gmbeoo_format_from_name("compact88") == -1 &&
          strcmp(gmbeoo_format_name(GMBEOO_FORMAT_COMPACT8), "compact8") == 0);
    CHECK("formats: sizes 16, 8, 32",
          gmbeoo_format_size(GMBEOO_FORMAT_GMBEOO16) == 16 &&
          gmbeoo_format_size(GMBEOO_FORMAT_COMPACT8) == 8 &&
          gmbeoo_format_size(GMBEOO_FORMAT_EXTENDED32) == 32);

    /* compact8: kernel (negative canonical) and user addresses. */
    w = gmbeoo_compact8_word(UINT64_C(0xffff888012345678), info);
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(w >> (8 * i));
    }
    gmbeoo_decode_any(&a, GMBEOO_FORMAT_COMPACT8, b);
    CHECK("compact8: byte 0 is the info byte", b[0] == info);
    CHECK("compact8: kernel address decodes",
          a.vaddr == UINT64_C(0xffff888012345678) && a.info == info &&
          a.valid);
    w = gmbeoo_compact8_word(UINT64_C(0x00007ffd12345678), info);
    CHECK("compact8: user address decodes",
          gmbeoo_compact8_vaddr(w) == UINT64_C(0x00007ffd12345678));

    /* extended32. */
    {
        uint64_t words[4] = {
            gmbeoo_ext_word0(info, 3, UINT64_C(0x12345678f123)),
            UINT64_C(0x7ffd00001000), UINT64_C(0x1234000), UINT64_C(0x401000),
        };
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 8; i++) {
                b[8 * k + i] = (uint8_t)(words[k] >> (8 * i));
            }
        }
        gmbeoo_decode_any(&a, GMBEOO_FORMAT_EXTENDED32, b);
        CHECK("extended32: fields decode",
              a.info == info && a.vcpu == 3 &&
              a.cr3 == UINT64_C(0x12345678f000) &&
              a.vaddr == UINT64_C(0x7ffd00001000) &&
              a.paddr == UINT64_C(0x1234000) && a.pc == UINT64_C(0x401000) &&
              a.valid && b[0] == info && b[1] == 3 && (b[7] & 0x80));
    }
}

int main(void)
{
    test_layout();
    test_roundtrip();
    test_sampling();
    test_formats();
    return check_failures ? 1 : 0;
}
