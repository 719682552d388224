/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dense_rmw: the dense workload of issue 9, an L1-resident read-modify-write
 * loop, v[i] += v[i - 1] ^ p over 2048 64-bit words (16 KiB), every word
 * of every pass.  The array is volatile, so each element costs exactly two
 * loads and one store: 3 * (DENSE_LEN - 1) * DENSE_PASSES user data
 * accesses in the traced region (plus a few hundred for the markers).
 *
 * usage: dense_rmw   (sizes from -DDENSE_LEN / -DDENSE_PASSES)
 * Prints its own markers: run it with
 * --dont_add_communications_with_host_to_workload.
 */
#include <stdint.h>
#include <stdio.h>

#ifndef DENSE_LEN
#define DENSE_LEN 2048
#endif
#ifndef DENSE_PASSES
#define DENSE_PASSES 100000
#endif

static volatile uint64_t v[DENSE_LEN];

int main(void)
{
    printf("-----begin workload info-----\n");
    printf("%p %zu\n", (void *)v, sizeof(v));
    printf("-----end workload info-----\n");
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (uint64_t p = 0; p < DENSE_PASSES; p++) {
        for (unsigned i = 1; i < DENSE_LEN; i++) {
            v[i] += v[i - 1] ^ p;
        }
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
