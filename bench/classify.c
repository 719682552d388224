/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classify: the benchmark's typical analysis tool, built on libgmbeoo.  It
 * decodes every record (the library's batches) and classifies it: counts
 * accesses by CPL and kind, by size, and by 4 KiB page (a 4096-entry
 * histogram, as a heat map would) -- bench/batch_layout.c's work.
 *
 *   classify FIFO [INFO...]   an analysis tool (memory_tracer
 *                             --analysis_tool_path): the FIFO or, when
 *                             memory_tracer offers them, the shared rings
 *   classify --file PATH      the same work alone on a record file (raw or
 *                             trace file): prints records/s, wall and CPU
 *
 * The tool's block: num_of_records (drop markers excluded), num_of_drops,
 * transport, cpu_ms (the tool's user + system time: near the traced time,
 * the tool is what the run waits for), and a checksum of the histograms
 * (so the work is not optimised away, and two runs over the same stream
 * agree).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gmbeoo/gmbeoo.h"

static uint64_t by_kind[4][2], by_size[8], by_page[4096];
static uint64_t records, drops;

static void classify(const GmbeooBatch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        uint8_t info = b->info[i];

        by_kind[gmbeoo_cpl(info)][gmbeoo_is_store(info)]++;
        by_size[gmbeoo_size_shift(info)]++;
        by_page[(b->vaddr[i] >> 12) & 4095]++;
    }
    records += b->count;
    drops += b->ndrops;
}

static uint64_t checksum(void)
{
    uint64_t h = 0;

    for (int i = 0; i < 4096; i++) {
        h = h * 31 + by_page[i];
    }
    for (int i = 0; i < 8; i++) {
        h = h * 31 + by_size[i];
    }
    for (int i = 0; i < 4; i++) {
        h = h * 31 + by_kind[i][0] * 7 + by_kind[i][1];
    }
    return h;
}

static double seconds(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(FILE *out, void *arg)
{
    fprintf(out, "num_of_records: %" PRIu64 "\n", records);
    fprintf(out, "num_of_drops: %" PRIu64 "\n", drops);
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    fprintf(out, "transport: %s\n", gmbeoo_kind_name(arg));
    fprintf(out, "cpu_ms: %.0f\n",
            (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
    fprintf(out, "checksum: %016" PRIx64 "\n", checksum());
}

int main(int argc, char **argv)
{
    GmbeooSource *src;
    GmbeooBatch b;
    int r;

    if (argc == 3 && strcmp(argv[1], "--file") == 0) {
        double w0 = seconds(CLOCK_MONOTONIC);
        double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);

        src = gmbeoo_open(argv[2], GMBEOO_FORMAT_AUTO);
        if (!src) {
            fprintf(stderr, "classify: %s\n", gmbeoo_errmsg());
            return 1;
        }
        while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
            classify(&b);
        }
        if (r == GMBEOO_ERROR) {
            fprintf(stderr, "classify: %s\n", gmbeoo_errmsg());
            return 1;
        }
        double wall = seconds(CLOCK_MONOTONIC) - w0;
        double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
        printf("num_of_records: %" PRIu64 " wall_s: %.3f cpu_s: %.3f "
               "records_per_s: %.0f checksum: %016" PRIx64 "\n", records,
               wall, cpu, cpu > 0 ? records / cpu : 0, checksum());
        gmbeoo_close(src);
        return 0;
    }
    src = gmbeoo_tool_start(argc, argv, GMBEOO_FORMAT_AUTO, 0);
    if (!src) {
        return errno == EINVAL ? 2 : 1;
    }
    while ((r = gmbeoo_next(src, &b)) == GMBEOO_BATCH) {
        classify(&b);
    }
    if (r == GMBEOO_ERROR) {
        fprintf(stderr, "classify: %s\n", gmbeoo_errmsg());
    }
    r = gmbeoo_tool_report(src, report, src);
    gmbeoo_close(src);
    return r == 0 ? 0 : 1;
}
