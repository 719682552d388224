/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO long-run workload (tests/guest/gmbeoo_exact.sh): PASSES passes
 * (default 16,000) incrementing every element of a pre-touched int[10000],
 * one 4-byte load and one 4-byte store each: PASSES * 20,000 accesses to
 * the array (320 M by default, more than 2^32 bytes of records).  After
 * each element a register-only loop of SPIN (default 24) iterations slows
 * the access rate down to about 12 M/s (without it QEMU records about
 * 80 M/s here, and on the shared 2-core test machine the writer thread and
 * the reader could not keep up: 3-70% dropped; with 8 iterations, 33 M/s,
 * still 3% dropped; measured 2026-11-25).  The test is about losslessness
 * and 64-bit counters, not about the pipe's ceiling (bench/ measures that).
 * Built a second time with -DPASSES=500 -DSPIN=0 as gmbeoo_medium_workload
 * (a fast producer for the stalled-reader tests).  Workload info:
 * "ADDR LEN" of the array.
 */
#include <stdio.h>
#include <string.h>

#ifndef PASSES
#define PASSES 16000
#endif
#ifndef SPIN
#define SPIN 24
#endif
#define N 10000

static int arr[N] __attribute__((aligned(4096)));

int main(void)
{
    memset(arr, 0, sizeof(arr));     /* touch every page */
    printf("-----begin workload info-----");
    printf("%p %zu", (void *)arr, sizeof(arr));
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (long pass = 0; pass < PASSES; pass++) {
        __asm__ volatile("xor %%ecx, %%ecx\n"
                         "1:\n\tincl (%%rdi,%%rcx,4)\n\t"
                         "mov %[spin], %%edx\n\t"
                         "test %%edx, %%edx\n\tjz 3f\n"
                         "2:\n\tdec %%edx\n\tjnz 2b\n"
                         "3:\n\tinc %%ecx\n\tcmp %[n], %%ecx\n\tjne 1b"
                         : : "D"(arr), [n] "i"(N), [spin] "i"(SPIN)
                         : "rcx", "rdx", "memory", "cc");
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
