/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO sampling workload (tests/guest/gmbeoo_exact.sh): in the traced
 * region, 100,000 4-byte stores to consecutive elements of a pre-touched
 * int array (an assembly loop with no other memory access), so with the
 * CPL3 filter the user event stream is exactly arr[0], arr[1], ... and the
 * sampled records show the rule's block pattern.  Workload info: "ADDR LEN".
 */
#include <stdio.h>
#include <string.h>

#define N 100000

static int arr[N] __attribute__((aligned(4096)));

int main(void)
{
    memset(arr, 0x11, sizeof(arr));     /* touch every page */
    printf("-----begin workload info-----");
    printf("%p %zu", (void *)arr, sizeof(arr));
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    __asm__ volatile("xor %%ecx, %%ecx\n"
                     "1:\n\tmovl %%ecx, (%%rdi,%%rcx,4)\n\t"
                     "inc %%ecx\n\tcmp %[n], %%ecx\n\tjne 1b"
                     : : "D"(arr), [n] "i"(N) : "rcx", "memory", "cc");
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
