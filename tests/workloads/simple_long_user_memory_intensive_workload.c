/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The long variant: like simple_user_memory_intensive_workload, with the
 * number of passes from argv[1] (default 400,000: 8 * 10^9 accesses).
 */
#include <stdio.h>
#include <stdlib.h>

#define OUR_ARR_LEN 10000

int main(int argc, char **argv)
{
    long passes = argc > 1 ? strtol(argv[1], NULL, 0) : 400000;
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
    for (long pass = 0; pass < passes; pass++) {
        for (int i = 0; i < OUR_ARR_LEN; i++) {
            arr[i]++;
        }
    }
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
