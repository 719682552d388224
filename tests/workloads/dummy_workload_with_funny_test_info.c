/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workload info "arg2" ... "arg6" between odd mixes of spaces, tabs and
 * blank lines: the analysis tool must get exactly those five tokens.
 */
#include <stdio.h>

int main(void)
{
    printf("-----begin workload info-----");
    printf("  \t\n\narg2 \t arg3\n\n\t\targ4    arg5\t\n \n arg6 \t\n\n");
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
