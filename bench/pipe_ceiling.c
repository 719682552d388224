/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pipe_ceiling: how fast can 16-byte GMBEOO records move through a pipe on
 * this machine?  A writer process and a reader process share one pipe
 * raised to /proc/sys/fs/pipe-max-size (the trace FIFO's size).  The reader
 * read()s 1 MiB at a time and folds every record into a checksum, as an
 * analysis tool must touch what it reads.  The writer sends batches either
 * with write() (the kernel copies the batch into the pipe) or with
 * vmsplice() (the pipe references the writer's pages; the reader's read()
 * is then the only copy).  With vmsplice a page handed to the pipe must not
 * be rewritten until the reader has taken it, so the writer rotates through
 * enough batch buffers to cover the pipe's capacity twice over.
 *
 * fill=1 makes the writer rewrite each batch with fresh records before
 * sending it (a producer's store cost); fill=0 sends prepared buffers.
 * touch=0 makes the reader a lean one, as bench/drain with DRAIN_TOUCH=0:
 * it read()s and counts bytes only, so the read's own copy is all it does
 * with the records (the ceiling of the bench's lean-reader rows).
 *
 * usage: pipe_ceiling [write|vmsplice] [MiB to move (4096)] [batch KiB (256)]
 *                     [fill=0|1] [touch=1|0]
 * Prints one line: key=value pairs, records_per_s and gib_per_s included.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmbeoo/record.h"

#define READ_CHUNK (1u << 20)

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fill_batch(GmbeooRecord *r, size_t n, uint64_t base)
{
    for (size_t i = 0; i < n; i++) {
        r[i].word0 = gmbeoo_word0(gmbeoo_info(2, false, false, i & 1, 3));
        r[i].vaddr = base + 4 * i;
    }
}

static int reader(int fd, int touch, uint64_t *records_out)
{
    static uint64_t buf[READ_CHUNK / sizeof(uint64_t)];
    uint64_t total = 0, sum = 0;

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("pipe_ceiling: read");
            return 1;
        }
        if (n == 0) {
            break;
        }
        for (size_t i = 0; touch && i < (size_t)n / sizeof(uint64_t); i++) {
            sum += buf[i];
        }
        total += (uint64_t)n;
    }
    *records_out = total / GMBEOO_RECORD_SIZE;
    return sum == 42;   /* never true in practice; keeps the loop alive */
}

static int writer(int fd, int use_vmsplice, uint64_t bytes, size_t batch,
                  size_t nbuf, int fill)
{
    GmbeooRecord **buf = calloc(nbuf, sizeof(*buf));
    size_t per = batch / GMBEOO_RECORD_SIZE;
    uint64_t sent = 0;

    for (size_t b = 0; b < nbuf; b++) {
        if (posix_memalign((void **)&buf[b], 4096, batch) != 0) {
            perror("pipe_ceiling: posix_memalign");
            return 1;
        }
        fill_batch(buf[b], per, 0x10000 * b);
    }
    for (size_t k = 0; sent < bytes; k++) {
        GmbeooRecord *cur = buf[k % nbuf];
        size_t off = 0;

        if (fill) {
            fill_batch(cur, per, k * batch);
        }
        while (off < batch) {
            ssize_t n;
            if (use_vmsplice) {
                struct iovec iov = { (char *)cur + off, batch - off };
                n = vmsplice(fd, &iov, 1, 0);
            } else {
                n = write(fd, (char *)cur + off, batch - off);
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                perror(use_vmsplice ? "pipe_ceiling: vmsplice" : "pipe_ceiling: write");
                return 1;
            }
            off += (size_t)n;
        }
        sent += batch;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int use_vmsplice = argc > 1 && strcmp(argv[1], "vmsplice") == 0;
    uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 4096;
    size_t batch = (argc > 3 ? strtoul(argv[3], NULL, 0) : 256) * 1024;
    int fill = argc > 4 && strcmp(argv[4], "fill=1") == 0;
    int touch = !(argc > 5 && strcmp(argv[5], "touch=0") == 0);
    long pipe_size = 1 << 20;
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    int fds[2], st;
    uint64_t records = 0;
    pid_t pid;
    double t0, t1;

    if (argc > 1 && !use_vmsplice && strcmp(argv[1], "write") != 0) {
        fprintf(stderr, "usage: pipe_ceiling [write|vmsplice] [MiB] [batch KiB] "
                "[fill=0|1] [touch=1|0]\n");
        return 2;
    }
    if (batch == 0 || batch % 4096 != 0) {
        fprintf(stderr, "pipe_ceiling: batch must be a positive multiple of 4 KiB\n");
        return 2;
    }
    if (f) {
        if (fscanf(f, "%ld", &pipe_size) != 1) {
            pipe_size = 1 << 20;
        }
        fclose(f);
    }
    if (pipe(fds) != 0) {
        perror("pipe_ceiling: pipe");
        return 1;
    }
    if (fcntl(fds[1], F_SETPIPE_SZ, (int)pipe_size) < 0) {
        perror("pipe_ceiling: F_SETPIPE_SZ");
    }
    pipe_size = fcntl(fds[1], F_GETPIPE_SZ);

    t0 = now();
    pid = fork();
    if (pid < 0) {
        perror("pipe_ceiling: fork");
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        /* Enough buffers that a rotated one has left the pipe for sure. */
        size_t nbuf = 2 * ((size_t)pipe_size / batch) + 2;
        _exit(writer(fds[1], use_vmsplice, mib << 20, batch, nbuf, fill));
    }
    close(fds[1]);
    int rc = reader(fds[0], touch, &records);
    waitpid(pid, &st, 0);
    t1 = now();
    if (rc != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return 1;
    }
    printf("mode=%s pipe_bytes=%ld batch_bytes=%zu fill=%d touch=%d records=%llu "
           "seconds=%.3f records_per_s=%.0f gib_per_s=%.2f\n",
           use_vmsplice ? "vmsplice" : "write", pipe_size, batch, fill, touch,
           (unsigned long long)records, t1 - t0, (double)records / (t1 - t0),
           (double)records * GMBEOO_RECORD_SIZE / (t1 - t0) / (1u << 30));
    return 0;
}
