/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prints the markers up to "Ready to trace", then dies of SIGSEGV in the
 * traced region, before "Stop tracing".
 */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    printf("-----begin workload info-----\n-----end workload info-----\n");
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    raise(SIGSEGV);
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
