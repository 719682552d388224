/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mem_loop: the original's simple_long_user_memory_intensive_workload shape,
 * sized from argv.  Every pass increments every int of a heap array, one
 * load and one store per element (the array is accessed through a volatile
 * pointer so the compiler neither vectorises nor merges the accesses), so
 * the traced region makes 2 * len * passes user data accesses plus a few
 * hundred for the markers and page faults.
 *
 * usage: mem_loop [len_in_ints] [passes]   (defaults: MEM_LOOP_LEN, MEM_LOOP_PASSES)
 * Prints its own markers: run it with
 * --dont_add_communications_with_host_to_workload.
 */
#include <stdio.h>
#include <stdlib.h>

/* Defaults; the build sets them per preset because the CLI passes no argv. */
#ifndef MEM_LOOP_LEN
#define MEM_LOOP_LEN 10000
#endif
#ifndef MEM_LOOP_PASSES
#define MEM_LOOP_PASSES 400000
#endif

static unsigned long arg(int argc, char **argv, int i, unsigned long dflt)
{
    return argc > i ? strtoul(argv[i], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
    unsigned long len = arg(argc, argv, 1, MEM_LOOP_LEN);
    unsigned long passes = arg(argc, argv, 2, MEM_LOOP_PASSES);
    volatile int *arr = calloc(len, sizeof(int));

    if (arr == NULL) {
        perror("calloc");
        return 1;
    }
    printf("-----begin workload info-----\n");
    fflush(stdout);
    printf("%p\n", (void *)arr);
    fflush(stdout);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (unsigned long p = 0; p < passes; p++) {
        for (unsigned long i = 0; i < len; i++) {
            arr[i]++;
        }
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
