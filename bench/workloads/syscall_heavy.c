/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * syscall_heavy: a region dominated by kernel accesses.  Each iteration
 * reads `bytes` from /dev/zero (the kernel clears the user buffer) and calls
 * getpid() (a bare entry/exit), so most traced accesses are CPL 0.
 *
 * usage: syscall_heavy [iterations] [bytes per read]   (defaults: SYSCALL_ITERATIONS, SYSCALL_BYTES)
 * Prints its own markers; run it with
 * --dont_add_communications_with_host_to_workload.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Defaults; the build sets them per preset because the CLI passes no argv. */
#ifndef SYSCALL_ITERATIONS
#define SYSCALL_ITERATIONS 200000
#endif
#ifndef SYSCALL_BYTES
#define SYSCALL_BYTES 4096
#endif

static unsigned long arg(int argc, char **argv, int i, unsigned long dflt)
{
    return argc > i ? strtoul(argv[i], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
    unsigned long iterations = arg(argc, argv, 1, SYSCALL_ITERATIONS);
    unsigned long bytes = arg(argc, argv, 2, SYSCALL_BYTES);
    char *buf = malloc(bytes ? bytes : 1);
    int fd = open("/dev/zero", O_RDONLY);
    unsigned long pids = 0;

    if (buf == NULL || fd < 0) {
        perror("syscall_heavy");
        return 1;
    }
    printf("-----begin workload info-----\n%p %lu\n-----end workload info-----\n",
           (void *)buf, bytes);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    for (unsigned long i = 0; i < iterations; i++) {
        if (read(fd, buf, bytes) < 0) {
            perror("read");
            return 1;
        }
        pids += (unsigned long)getpid();
    }
    printf("Stop tracing\n");
    fflush(stdout);
    close(fd);
    return pids == 0 ? 2 : 0;
}
