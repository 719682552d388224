/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Toy workload for the guest smoke test: prints a line, waits for one
 * Enter from the host (getchar() on the raw serial tty), reports what it
 * read and exits with status 42, so the test can check output, input and
 * the exit trailer.
 */
#include <stdio.h>

int main(void)
{
    printf("hello workload: ready\n");
    fflush(stdout);
    int c = getchar();
    printf("hello workload: got %d\n", c);
    return 42;
}
