/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stride_rmw: the stride twin of dense_rmw, one 64-bit word per 64-byte
 * line over 4 MiB, v[i] += v[i - 8] ^ p for every eighth word: the same
 * three accesses an element, but each element a new cache line and the
 * array far larger than an L1 or L2, so a cache simulator misses where
 * on dense_rmw it hits.  3 * (STRIDE_LINES - 1) * STRIDE_PASSES user data
 * accesses in the traced region (plus a few hundred for the markers).
 *
 * usage: stride_rmw   (sizes from -DSTRIDE_LINES / -DSTRIDE_PASSES)
 * Prints its own markers: run it with
 * --dont_add_communications_with_host_to_workload.
 */
#include <stdint.h>
#include <stdio.h>

#ifndef STRIDE_LINES
#define STRIDE_LINES 65536
#endif
#ifndef STRIDE_PASSES
#define STRIDE_PASSES 3000
#endif
#define WORDS_PER_LINE 8

static volatile uint64_t v[STRIDE_LINES * WORDS_PER_LINE];

int main(void)
{
    printf("-----begin workload info-----\n");
    printf("%p %zu\n", (void *)v, sizeof(v));
    printf("-----end workload info-----\n");
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (uint64_t p = 0; p < STRIDE_PASSES; p++) {
        for (unsigned i = WORDS_PER_LINE; i < STRIDE_LINES * WORDS_PER_LINE;
             i += WORDS_PER_LINE) {
            v[i] += v[i - WORDS_PER_LINE] ^ p;
        }
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
