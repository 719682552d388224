/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * batch_layout: which batch layout libgmbeoo hands a typical analysis tool,
 * measured (lib/gmbeoo/gmbeoo.h, "Batches").  A typical tool decodes every
 * record and classifies it: here it counts accesses by CPL and kind, by
 * size, and by 4 KiB page (a 4096-entry histogram, as a heat map would).
 *
 * Records of one format (argv[1], default gmbeoo16) are made in memory (a
 * 16 MiB stream, read again and again) and decoded in batches of 4096 into
 *   aos  an array of GmbeooAccess (record.h's decoded record, 48 bytes)
 *   soa  a struct of arrays: vaddr[], info[], vcpu[] (+ paddr[], pc[],
 *        cr3[] for extended32), only what the format has
 *   raw  nothing: the tool decodes each record in place (the lower bound)
 * and classified; prints records/s of each, best of 5 passes.
 *
 * usage: batch_layout [gmbeoo16|compact8|extended32] [passes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gmbeoo/record.h"

#define BATCH 4096
#define STREAM_BYTES (16u << 20)

static uint64_t by_kind[4][2], by_size[8], by_page[4096];

static inline void classify(uint8_t info, uint64_t vaddr)
{
    by_kind[gmbeoo_cpl(info)][gmbeoo_is_store(info)]++;
    by_size[gmbeoo_size_shift(info)]++;
    by_page[(vaddr >> 12) & 4095]++;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static GmbeooAccess aos[BATCH];
static uint64_t soa_vaddr[BATCH], soa_paddr[BATCH], soa_pc[BATCH],
                soa_cr3[BATCH];
static uint8_t soa_info[BATCH], soa_vcpu[BATCH];

static void run_aos(GmbeooRecordFormat f, const uint8_t *p, size_t n)
{
    unsigned sz = gmbeoo_format_size(f);

    for (size_t i = 0; i < n; i++) {
        gmbeoo_decode_any(&aos[i], f, p + i * sz);
    }
    for (size_t i = 0; i < n; i++) {
        if (aos[i].valid) {
            classify(aos[i].info, aos[i].vaddr);
        }
    }
}

static void run_soa(GmbeooRecordFormat f, const uint8_t *p, size_t n)
{
    size_t k = 0;

    /* What the library does: one loop per format, markers set aside. */
    switch (f) {
    case GMBEOO_FORMAT_COMPACT8:
        for (size_t i = 0; i < n; i++) {
            uint64_t w = gmbeoo_le64(p + 8 * i);
            if ((uint8_t)w == GMBEOO_DROP_MARKER_INFO) {
                continue;
            }
            soa_info[k] = (uint8_t)w;
            soa_vaddr[k++] = gmbeoo_compact8_vaddr(w);
        }
        break;
    case GMBEOO_FORMAT_EXTENDED32:
        for (size_t i = 0; i < n; i++) {
            const uint8_t *r = p + 32 * i;
            uint64_t w = gmbeoo_le64(r);
            if (!gmbeoo_is_valid(w)) {
                continue;
            }
            soa_info[k] = (uint8_t)w;
            soa_vcpu[k] = (uint8_t)gmbeoo_ext_vcpu(w);
            soa_cr3[k] = gmbeoo_ext_cr3(w);
            soa_vaddr[k] = gmbeoo_le64(r + 8);
            soa_paddr[k] = gmbeoo_le64(r + 16);
            soa_pc[k++] = gmbeoo_le64(r + 24);
        }
        break;
    default:
        for (size_t i = 0; i < n; i++) {
            const uint8_t *r = p + 16 * i;
            uint64_t w = gmbeoo_le64(r);
            if (!gmbeoo_is_valid(w)) {
                continue;
            }
            soa_info[k] = (uint8_t)w;
            soa_vcpu[k] = (uint8_t)gmbeoo_vcpu(w);
            soa_vaddr[k++] = gmbeoo_le64(r + 8);
        }
        break;
    }
    for (size_t i = 0; i < k; i++) {
        classify(soa_info[i], soa_vaddr[i]);
    }
}

static void run_raw(GmbeooRecordFormat f, const uint8_t *p, size_t n)
{
    unsigned sz = gmbeoo_format_size(f);

    for (size_t i = 0; i < n; i++) {
        GmbeooAccess a;
        gmbeoo_decode_any(&a, f, p + i * sz);
        if (a.valid) {
            classify(a.info, a.vaddr);
        }
    }
}

int main(int argc, char **argv)
{
    int f = gmbeoo_format_from_name(argc > 1 ? argv[1] : "gmbeoo16");
    int passes = argc > 2 ? atoi(argv[2]) : 8;

    if (f < 0 || passes < 1) {
        fprintf(stderr, "usage: batch_layout [FORMAT] [PASSES]\n");
        return 2;
    }
    unsigned sz = gmbeoo_format_size(f);
    size_t n = STREAM_BYTES / sz;
    uint8_t *s = malloc(STREAM_BYTES);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint8_t info = gmbeoo_info(x & 3, false, false, x >> 8 & 1,
                                   x >> 9 & 1 ? 3 : 0);
        uint64_t va = 0x7ffd00000000ull + (x >> 20 & 0xffffff), w[4];
        w[0] = gmbeoo_word0(info);
        w[1] = va;
        w[2] = va & 0xfffffff;
        w[3] = 0x401000 + (x >> 40 & 0xfff);
        if (f == GMBEOO_FORMAT_COMPACT8) {
            w[0] = gmbeoo_compact8_word(va, info);
        } else if (f == GMBEOO_FORMAT_EXTENDED32) {
            w[0] = gmbeoo_ext_word0(info, 0, 0x1234000);
        }
        for (unsigned k = 0; k < sz / 8; k++) {
            for (int b = 0; b < 8; b++) {
                s[i * sz + 8 * k + b] = (uint8_t)(w[k] >> (8 * b));
            }
        }
    }
    static const char *const names[] = { "aos", "soa", "raw" };
    void (*const fns[])(GmbeooRecordFormat, const uint8_t *, size_t) = {
        run_aos, run_soa, run_raw
    };
    double best[3] = { 0, 0, 0 };
    for (int p = 0; p < passes; p++) {
        for (int v = 0; v < 3; v++) {
            double t0 = now();
            for (size_t i = 0; i < n; i += BATCH) {
                fns[v](f, s + i * sz, n - i < BATCH ? n - i : BATCH);
            }
            double rate = n / (now() - t0);
            best[v] = rate > best[v] ? rate : best[v];
        }
    }
    for (int v = 0; v < 3; v++) {
        printf("%s %s %.1f M records/s\n", gmbeoo_format_name(f), names[v],
               best[v] / 1e6);
    }
    uint64_t sum = 0;
    for (int i = 0; i < 4096; i++) {
        sum += by_page[i];
    }
    fprintf(stderr, "(%llu classified)\n", (unsigned long long)sum);
    free(s);
    return 0;
}
