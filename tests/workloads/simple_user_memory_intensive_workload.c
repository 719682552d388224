/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The original's toy workload: 5 passes incrementing every element of a
 * malloc'd int[10000] (one load and one store each: 100,000 accesses to the
 * array), between the markers of the workload contract.  Its workload info
 * is the array's address, which simple_analysis takes as argv[2].
 */
#include <stdio.h>
#include <stdlib.h>

#define OUR_ARR_LEN 10000
#define NUM_OF_PASSES 5

int main(void)
{
    volatile int *arr = malloc(OUR_ARR_LEN * sizeof(int));
    if (!arr) {
        return 1;
    }
    printf("-----begin workload info-----");
    printf("%p", (void *)arr);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (int pass = 0; pass < NUM_OF_PASSES; pass++) {
        for (int i = 0; i < OUR_ARR_LEN; i++) {
            arr[i]++;
        }
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
