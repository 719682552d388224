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
 * Built on libgmbeoo (include/gmbeoo/gmbeoo.h), which keeps the contract:
 * unlike the original, the signal is taken through a signalfd and the
 * block printed from the main loop (stdio is not async-signal-safe), the
 * FIFO is read in large blocks, and EOF is normal: the tool then waits for
 * SIGUSR1.  The FIFO is opened non-blocking right after "Ready to analyze",
 * so a SIGUSR1 is answered even if no writer ever comes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "gmbeoo/gmbeoo.h"
#include "msg.h"

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
static int cmd_argc;
static char **cmd_argv;

static void count_access(uint8_t info, uint64_t addr)
{
    if (addr >= our_buf_addr && addr < our_buf_end) {
        uint64_t offset = addr - our_buf_addr;
        to_our_buf++;
        if (offset % sizeof(int) == 0) {
            counter_arr[offset / sizeof(int)]++;
        } else {
            misaligned_to_our_buf++;
        }
    }
    unsigned cpl = gmbeoo_cpl(info);
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

static void print_value(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "%-60s%" PRIu64 "\n", label, value);
}

static void print_output(FILE *out, void *arg)
{
    (void)arg;
    if (failed_reads != failed_reads_at_eof || leftover) {
        fprintf(out, "- - - - - - - - - - ATTENTION - - - - - - - - - -: "
                "num_of_failed_reads: %" PRIu64
                ", num_of_failed_reads_at_eof: %" PRIu64
                ", bytes_of_incomplete_last_record: %zu\n",
                failed_reads, failed_reads_at_eof, leftover);
    }
    fprintf(out, "%-60s%" PRIx64 "\n", "our_buf_addr:", our_buf_addr);
    print_value(out, "num_of_mem_accesses_by_CPL3_code:", by_cpl3);
    print_value(out, "num_of_mem_accesses_by_non_CPL3_code:", by_non_cpl3);
    print_value(out, "num_of_mem_accesses_by_CPL3_code_to_cpu_entry_area:",
                by_cpl3_to_cpu_entry_area);
    print_value(out, "num_of_mem_accesses:",
                by_cpl3 + by_non_cpl3 + by_cpl3_to_cpu_entry_area);
    print_value(out, "num_of_mem_accesses_to_our_buf:", to_our_buf);
    print_value(out, "num_of_mem_accesses_by_CPL3_after_another_by_CPL3:",
                cpl3_after_cpl3);
    print_value(out, "num_of_mem_accesses_by_non_CPL3_after_another_by_CPL3:",
                non_cpl3_after_cpl3);
    print_value(out, "num_of_CPL3_accesses_code_to_cpu_entry_area_after_by_CPL3:",
                cpl3_to_cpu_entry_area_after_cpl3);
    if (drop_markers) {
        print_value(out, "num_of_drop_markers_in_stream:", drop_markers);
        print_value(out, "num_of_records_dropped_by_QEMU:", dropped_records);
    }
    if (misaligned_to_our_buf) {
        print_value(out, "num_of_misaligned_mem_accesses_to_our_buf:",
                    misaligned_to_our_buf);
    }
    fprintf(out, "counter_arr:\n");
    for (int i = 0; i < OUR_ARR_LEN; i++) {
        fprintf(out, "%" PRIu64 ",", counter_arr[i]);
    }
    fprintf(out, "\nanalysis cmd args:\n");
    for (int i = 0; i < cmd_argc; i++) {
        fprintf(out, "%s,", cmd_argv[i]);
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
    cmd_argc = argc;
    cmd_argv = argv;

    /* "Ready to analyze", the FIFO, SIGUSR1: libgmbeoo's contract. */
    GmbeooSource *fifo = gmbeoo_tool_start(argc, argv, GMBEOO_FORMAT_AUTO, 0);
    if (!fifo) {
        return errno == EINVAL ? 2 : 1;
    }
    GmbeooBatch b;
    int r;
    while ((r = gmbeoo_next(fifo, &b)) == GMBEOO_BATCH) {
        for (size_t i = 0; i < b.count; i++) {
            count_access(b.info[i], b.vaddr[i]);
        }
        for (size_t i = 0; i < b.ndrops; i++) {
            drop_markers++;
            dropped_records += b.drops[i].dropped;
        }
    }
    if (r == GMBEOO_ERROR) {
        error_msg("%s", gmbeoo_errmsg());
    }
    GmbeooStats st;
    gmbeoo_stats(fifo, &st);
    /* The original's words: a read that returned nothing, at EOF or not. */
    failed_reads = (uint64_t)st.eof + (uint64_t)st.error;
    failed_reads_at_eof = (uint64_t)st.eof;
    leftover = st.partial_bytes;
    gmbeoo_tool_report(fifo, print_output, NULL);
    gmbeoo_close(fifo);
    return 0;
}
