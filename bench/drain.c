/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drain: the cheapest possible analysis tool.  It obeys the analysis-tool
 * contract (ORIGINAL_BEHAVIOUR.md section 7: FIFO path in argv[1], opened only
 * after printing "Ready to analyze", results printed between the analysis
 * output markers on SIGUSR1) and does nothing with the records but count
 * them, so a traced run into drain measures the tracer, not the analysis.
 *
 * By default it also folds every record into a checksum (touching each
 * byte, as a real reader must); `touch=0` as argv[2] or the environment
 * variable DRAIN_TOUCH=0 skips that.  It exits after EOF once it has
 * reported.  Other workload-info tokens after argv[1]
 * are accepted and ignored.
 *
 * usage: drain FIFO [workload info tokens...]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmbeoo/record.h"

#define CHUNK (1u << 20)

/* Written by the main loop, read by the SIGUSR1 handler: aligned 64-bit
 * stores are single instructions on the hosts we run on. */
static volatile uint64_t bytes_read;
static volatile uint64_t checksum;
static volatile uint64_t reads;
static volatile sig_atomic_t reported;
/* From GMBEOO_RECORD_FORMAT (memory_tracer sets it); gmbeoo16 if unset. */
static unsigned rec_size = GMBEOO_RECORD_SIZE;

static size_t put_u64(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++) {
        p[i] = tmp[n - 1 - i];
    }
    return n;
}

static size_t put_str(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return n;
}

/* Only async-signal-safe calls here: the main loop may be inside read(). */
static void report(int sig)
{
    char buf[512];
    size_t n = 0;
    uint64_t b = bytes_read;

    (void)sig;
    reported = 1;
    n += put_str(buf + n, "-----begin analysis output-----\n");
    n += put_str(buf + n, "num_of_records: ");
    n += put_u64(buf + n, b / rec_size);
    n += put_str(buf + n, "\nnum_of_bytes: ");
    n += put_u64(buf + n, b);
    n += put_str(buf + n, "\nnum_of_partial_record_bytes: ");
    n += put_u64(buf + n, b % rec_size);
    n += put_str(buf + n, "\nnum_of_reads: ");
    n += put_u64(buf + n, reads);
    n += put_str(buf + n, "\nchecksum: ");
    n += put_u64(buf + n, checksum);
    n += put_str(buf + n, "\n-----end analysis output-----\n");
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDOUT_FILENO, buf + off, n - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        off += (size_t)w;
    }
}

int main(int argc, char **argv)
{
    static uint64_t chunk[CHUNK / sizeof(uint64_t)];
    const char *env = getenv("DRAIN_TOUCH");
    int touch = !(env && strcmp(env, "0") == 0) &&
                !(argc > 2 && strcmp(argv[2], "touch=0") == 0);
    struct sigaction sa;
    int fd;

    if (argc < 2) {
        fprintf(stderr, "usage: drain FIFO [workload info tokens...]\n");
        return 2;
    }
    env = getenv("GMBEOO_RECORD_FORMAT");
    if (env && *env) {
        int f = gmbeoo_format_from_name(env);

        if (f < 0) {
            fprintf(stderr, "drain: unknown record format '%s'\n", env);
            return 2;
        }
        rec_size = gmbeoo_format_size((GmbeooRecordFormat)f);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = report;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    printf("Ready to analyze\n");
    fflush(stdout);
    fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "drain: open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "drain: read: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0) {
            break;
        }
        if (touch) {
            uint64_t sum = checksum;
            for (size_t i = 0; i < (size_t)n / sizeof(uint64_t); i++) {
                sum += chunk[i];
            }
            checksum = sum;
        }
        reads = reads + 1;
        bytes_read = bytes_read + (uint64_t)n;
    }
    close(fd);
    /* EOF: the writer is gone.  Like the original tools, exit once the
     * report has been asked for (at once if it already was). */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!reported) {
        sigsuspend(&old);
    }
    return 0;
}
