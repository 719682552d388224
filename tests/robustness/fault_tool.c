/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fault_tool: an analysis tool that breaks the contract on purpose, for
 * tests/robustness/faults.sh.
 *
 *   fault_tool MODE FIFO [INFO...]
 *
 * It prints "Ready to analyze", opens FIFO and reads 16-byte records, then
 * depending on MODE:
 *   segv       after the first records: dies of SIGSEGV
 *   abort      after the first records: abort()
 *   exit       after the first records: exit(7)
 *   close      after the first records: closes the FIFO, then behaves
 *   slow       reads 4 KiB every 2 ms (about 2 MB/s): a reader far slower
 *              than QEMU, but that finishes
 * and on SIGUSR1 (segv/abort/exit never get there) prints the contract's
 * block with "records: N", then exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static void report(uint64_t bytes)
{
    printf("-----begin analysis output-----\n"
           "records: %" PRIu64 "\n"
           "-----end analysis output-----\n", bytes / 16);
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fault_tool MODE FIFO [INFO...]\n");
        return 2;
    }
    const char *mode = argv[1];
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    printf("Ready to analyze\n");
    fflush(stdout);

    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "fault_tool: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    int slow = strcmp(mode, "slow") == 0;
    static char buf[1 << 16];
    size_t chunk = slow ? 4096 : sizeof(buf);
    uint64_t total = 0;
    for (;;) {
        if (got_usr1) {
            report(total);
        }
        ssize_t n = read(fd, buf, chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;              /* EOF (or error): wait for SIGUSR1 */
        }
        total += (uint64_t)n;
        if (total >= 4096 && !slow) {
            if (strcmp(mode, "segv") == 0) {
                raise(SIGSEGV);
            } else if (strcmp(mode, "abort") == 0) {
                abort();
            } else if (strcmp(mode, "exit") == 0) {
                exit(7);
            } else if (strcmp(mode, "close") == 0) {
                break;
            }
        }
        if (slow) {
            struct timespec ts = { 0, 2 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    close(fd);
    while (!got_usr1) {
        pause();
    }
    report(total);
}
