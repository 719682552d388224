/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * simple_analysis: the original tool's example analysis, same contract and
 * same output block (ORIGINAL_BEHAVIOUR.md §7, §10).
 *
 *   simple_analysis FIFO [OUR_BUF_ADDR [ignored...]]
 *
 * Counts the records read from FIFO by privilege level, how many of them
 * fall into the 10,000-int buffer at OUR_BUF_ADDR (the toy workload prints
 * it as its workload info) and how often each element was touched.  On
 * SIGUSR1 it prints the block between "-----begin analysis output-----"
 * and "-----end analysis output-----" and exits.
 *
 * Unlike the original, the signal is taken through a signalfd and the
 * block printed from the main loop (stdio is not async-signal-safe), the
 * FIFO is read in large blocks, and EOF is normal: the tool then waits for
 * SIGUSR1.  The FIFO is opened non-blocking right after "Ready to analyze",
 * so a SIGUSR1 is answered even if no writer ever comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gmbeoo/record.h"
#include "msg.h"
#include "record_stream.h"

/* The kernel's cpu_entry_area (x86-64, 4-level paging), which the
 * original's analysis singled out. */
#define CPU_ENTRY_AREA_START UINT64_C(0xfffffe0000000000)
#define CPU_ENTRY_AREA_END   UINT64_C(0xfffffe7fffffffff)

#define OUR_ARR_LEN 10000

static uint64_t our_buf_addr, our_buf_end;
static uint64_t counter_arr[OUR_ARR_LEN];
static uint64_t by_cpl3, by_non_cpl3, by_cpl3_to_cpu_entry_area;
static uint64_t to_our_buf, misaligned_to_our_buf;
static uint64_t cpl3_after_cpl3, non_cpl3_after_cpl3;
static uint64_t cpl3_to_cpu_entry_area_after_cpl3;
static uint64_t failed_reads, failed_reads_at_eof;
static uint64_t drop_markers, dropped_records;
static size_t leftover;     /* bytes of an incomplete last record */
static int last_was_cpl3;

static void count_access(const GmbeooAccess *a)
{
    uint64_t addr = a->vaddr;
    if (addr >= our_buf_addr && addr < our_buf_end) {
        uint64_t offset = addr - our_buf_addr;
        to_our_buf++;
        if (offset % sizeof(int) == 0) {
            counter_arr[offset / sizeof(int)]++;
        } else {
            misaligned_to_our_buf++;
        }
    }
    unsigned cpl = gmbeoo_cpl(a->info);
    if (cpl == 3 && addr >= CPU_ENTRY_AREA_START &&
        addr <= CPU_ENTRY_AREA_END) {
        by_cpl3_to_cpu_entry_area++;
        cpl3_to_cpu_entry_area_after_cpl3 += last_was_cpl3;
        last_was_cpl3 = 0;
    } else if (cpl == 3) {
        by_cpl3++;
        cpl3_after_cpl3 += last_was_cpl3;
        last_was_cpl3 = 1;
    } else {
        by_non_cpl3++;
        non_cpl3_after_cpl3 += last_was_cpl3;
        last_was_cpl3 = 0;
    }
}

static void print_value(const char *label, uint64_t value)
{
    printf("%-60s%" PRIu64 "\n", label, value);
}

static void print_output(int argc, char **argv)
{
    printf("-----begin analysis output-----\n");
    if (failed_reads != failed_reads_at_eof || leftover) {
        printf("- - - - - - - - - - ATTENTION - - - - - - - - - -: "
               "num_of_failed_reads: %" PRIu64
               ", num_of_failed_reads_at_eof: %" PRIu64
               ", bytes_of_incomplete_last_record: %zu\n",
               failed_reads, failed_reads_at_eof, leftover);
    }
    printf("%-60s%" PRIx64 "\n", "our_buf_addr:", our_buf_addr);
    print_value("num_of_mem_accesses_by_CPL3_code:", by_cpl3);
    print_value("num_of_mem_accesses_by_non_CPL3_code:", by_non_cpl3);
    print_value("num_of_mem_accesses_by_CPL3_code_to_cpu_entry_area:",
                by_cpl3_to_cpu_entry_area);
    print_value("num_of_mem_accesses:",
                by_cpl3 + by_non_cpl3 + by_cpl3_to_cpu_entry_area);
    print_value("num_of_mem_accesses_to_our_buf:", to_our_buf);
    print_value("num_of_mem_accesses_by_CPL3_after_another_by_CPL3:",
                cpl3_after_cpl3);
    print_value("num_of_mem_accesses_by_non_CPL3_after_another_by_CPL3:",
                non_cpl3_after_cpl3);
    print_value("num_of_CPL3_accesses_code_to_cpu_entry_area_after_by_CPL3:",
                cpl3_to_cpu_entry_area_after_cpl3);
    if (drop_markers) {
        print_value("num_of_drop_markers_in_stream:", drop_markers);
        print_value("num_of_records_dropped_by_QEMU:", dropped_records);
    }
    if (misaligned_to_our_buf) {
        print_value("num_of_misaligned_mem_accesses_to_our_buf:",
                    misaligned_to_our_buf);
    }
    printf("counter_arr:\n");
    for (int i = 0; i < OUR_ARR_LEN; i++) {
        printf("%" PRIu64 ",", counter_arr[i]);
    }
    printf("\nanalysis cmd args:\n");
    for (int i = 0; i < argc; i++) {
        printf("%s,", argv[i]);
    }
    printf("-----end analysis output-----\n");
    fflush(stdout);
}

static bool count_block(const RecordBlock *b, void *opaque)
{
    (void)opaque;
    for (size_t i = 0; i < b->count; i++) {
        GmbeooAccess a;
        gmbeoo_decode_any(&a, b->format, b->data + i * b->record_size);
        if (a.valid) {
            count_access(&a);
        } else {
            drop_markers++;
            dropped_records += a.dropped;
        }
    }
    return true;
}

/* Read and count until the pipe is empty; on EOF close it (*rs = NULL). */
static void drain(RecordStream **rs)
{
    while (*rs) {
        GError *err = NULL;
        RecordStreamStatus st = record_stream_pump(*rs, &err);
        if (st == RECORD_STREAM_DATA) {
            continue;
        }
        if (st == RECORD_STREAM_AGAIN) {
            return;
        }
        /* EOF (the writer closed) or an error. */
        failed_reads++;
        if (st == RECORD_STREAM_EOF) {
            failed_reads_at_eof++;
        } else {
            error_msg("%s", err->message);
            g_error_free(err);
        }
        leftover = record_stream_leftover(*rs);
        record_stream_free(*rs);
        *rs = NULL;
    }
}

int main(int argc, char **argv)
{
    msg_set_program("simple_analysis");
    if (argc < 2) {
        fprintf(stderr, "usage: simple_analysis FIFO [OUR_BUF_ADDR ...]\n");
        return 2;
    }
    if (argc > 2) {
        our_buf_addr = strtoull(argv[2], NULL, 0);
        our_buf_end = our_buf_addr + OUR_ARR_LEN * sizeof(int);
    }

    GmbeooRecordFormat format;
    GError *err = NULL;
    if (!record_format_choose(NULL, &format, &err)) {
        error_msg("%s", err->message);
        return 2;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sfd < 0) {
        perror_msg("signalfd");
        return 1;
    }

    printf("Ready to analyze\n");
    fflush(stdout);

    int fd = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror_msg("cannot open %s", argv[1]);
        return 1;
    }
    RecordStream *fifo = record_stream_new_fd(fd, true, argv[1], format);
    record_stream_set_callback(fifo, count_block, NULL);
    for (;;) {
        struct pollfd p[2] = {
            { .fd = sfd, .events = POLLIN },
            { .fd = fifo ? fd : -1, .events = POLLIN },
        };
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            perror("simple_analysis: poll");
            return 1;
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            drain(&fifo);
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
                continue;
            }
            if (si.ssi_signo != SIGUSR1) {
                return 0;       /* SIGTERM/SIGINT: just go */
            }
            drain(&fifo);       /* what is already in the pipe counts */
            if (fifo) {
                leftover = record_stream_leftover(fifo);
            }
            print_output(argc, argv);
            return 0;
        }
    }
}
