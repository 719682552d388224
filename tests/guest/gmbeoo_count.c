/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_count: the analysis tool of the GMBEOO end-to-end tests
 * (tests/guest/gmbeoo_*.sh).  It obeys the analysis-tool contract
 * (memory_tracer --help): FIFO path in argv[1], opened only after it has
 * printed "Ready to analyze"; results between the analysis output markers
 * on SIGUSR1.
 *
 * usage: gmbeoo_count FIFO [ADDR LEN]
 *   ADDR LEN (the workload info of the tests/workloads/gmbeoo_* workloads):
 *   the buffer the test looks at, [ADDR, ADDR + LEN).
 * environment:
 *   GMBEOO_RECORD_FORMAT=gmbeoo16|compact8   the stream's record format
 *                                (memory_tracer sets it; default gmbeoo16)
 *   GMBEOO_COUNT_STALL_AFTER=N   stop reading after N records (but keep
 *                                the FIFO open) until SIGUSR1: a reader
 *                                that stops reading.
 *   GMBEOO_COUNT_LIBGMBEOO=1     be the tool through gmbeoo_tool_start()
 *                                and gmbeoo_tool_report() (libgmbeoo):
 *                                it takes the shared rings when
 *                                memory_tracer offers them; extended32 too
 *   with GMBEOO_COUNT_LIBGMBEOO=1 only:
 *   GMBEOO_COUNT_PAUSE_AFTER=N:MS  sleep MS ms once after N records: a
 *                                consumer that stalls, then reads on
 *   GMBEOO_COUNT_DIE_AFTER=N     SIGKILL itself after N records
 *
 * Output lines (label: value):
 *   records, records_cpl0 .. records_cpl3, invalid (valid bit clear),
 *   drop_markers and marked_dropped (their count and the sum of the
 *   numbers they carry; markers are in records and invalid too),
 *   eof (1 if the stream ended), partial_bytes (a torn record at the end),
 *   in_range, and for each info byte seen in range
 *     in_range_info load|store size=S sx=X cpl=C: N
 *   covered_bytes_cpl0_store, covered_bytes_cpl0_load,
 *   covered_bytes_cpl3_store, covered_bytes_cpl3_load: how many bytes of
 *     the range some record of that kind covers (address .. address+size-1);
 *   at +OFF load|store size=S sx=X cpl=C: N   per (offset in the range,
 *     info byte), sorted, for the first 128 distinct pairs only (then the
 *     line "at: overflow");
 *   deltas: for consecutive in-range records of 4 bytes, the difference of
 *     their element indexes ((addr - ADDR) / 4), as "D:COUNT" pairs sorted
 *     by D (at most 16 distinct values, then "...").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmbeoo/record.h"
#include "gmbeoo/gmbeoo.h"

#define MAX_DELTAS 16
#define MAX_RANGE (64u << 20)

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static uint64_t records, by_cpl[4], invalid_records, in_range;
static uint64_t drop_markers, marked_dropped;
static uint64_t by_info[256];
static uint64_t base, len;
/* Coverage bitmaps, one byte per buffer byte: bit (cpl==3)*2 + store. */
static uint8_t *cover;
static int have_last;
static int64_t last_index;
static int64_t delta_value[MAX_DELTAS];
static uint64_t delta_count[MAX_DELTAS];
static int n_deltas, deltas_overflow;
#define MAX_AT 128
static struct At { uint64_t off; unsigned info; uint64_t n; } at[MAX_AT];
static int n_at, at_overflow;

static void add_at(uint64_t off, unsigned info)
{
    if (at_overflow) {
        return;
    }
    for (int i = n_at - 1; i >= 0; i--) {
        if (at[i].off == off && at[i].info == info) {
            at[i].n++;
            return;
        }
    }
    if (n_at == MAX_AT) {
        at_overflow = 1;
        return;
    }
    at[n_at++] = (struct At){ off, info, 1 };
}

static int cmp_at(const void *a, const void *b)
{
    const struct At *x = a, *y = b;
    if (x->off != y->off) {
        return x->off < y->off ? -1 : 1;
    }
    return (x->info > y->info) - (x->info < y->info);
}

static void add_delta(int64_t d)
{
    for (int i = 0; i < n_deltas; i++) {
        if (delta_value[i] == d) {
            delta_count[i]++;
            return;
        }
    }
    if (n_deltas == MAX_DELTAS) {
        deltas_overflow = 1;
        return;
    }
    delta_value[n_deltas] = d;
    delta_count[n_deltas++] = 1;
}

static void record(GmbeooRecordFormat format, const uint8_t *p)
{
    GmbeooAccess a;
    GmbeooRecord r;
    gmbeoo_decode_any(&a, format, p);
    records++;
    if (!a.valid) {
        invalid_records++;
        drop_markers++;
        marked_dropped += a.dropped;
        return;
    }
    r.word0 = gmbeoo_word0(a.info);
    r.vaddr = a.vaddr;
    unsigned cpl = gmbeoo_cpl(r.word0);
    by_cpl[cpl]++;
    if (len == 0 || r.vaddr - base >= len) {
        return;
    }
    in_range++;
    by_info[r.word0 & GMBEOO_INFO_MASK]++;
    add_at(r.vaddr - base, (unsigned)(r.word0 & GMBEOO_INFO_MASK));
    unsigned size = gmbeoo_size_bytes(r.word0);
    unsigned bit = 1u << ((cpl == 3 ? 2 : 0) + (gmbeoo_is_store(r.word0) ? 1 : 0));
    for (uint64_t o = r.vaddr - base; o < r.vaddr - base + size && o < len; o++) {
        cover[o] |= (uint8_t)bit;
    }
    if (size == 4) {
        int64_t index = (int64_t)((r.vaddr - base) / 4);
        if (have_last) {
            add_delta(index - last_index);
        }
        have_last = 1;
        last_index = index;
    }
}

/* The fast path: a little-endian host, as every host of the tests is. */
static void records_fast(const uint8_t *p, size_t n)
{
    uint64_t cpl[4] = { 0 }, bad = 0, in = 0;
    for (size_t i = 0; i < n; i++, p += GMBEOO_RECORD_SIZE) {
        uint64_t w0, va;
        memcpy(&w0, p, 8);
        memcpy(&va, p + 8, 8);
        if (!(w0 >> 63)) {
            bad++;
            drop_markers++;
            marked_dropped += va;
            continue;
        }
        cpl[(w0 >> GMBEOO_CPL_SHIFT) & 3]++;
        if (va - base < len) {
            in++;
            by_info[w0 & GMBEOO_INFO_MASK]++;
        }
    }
    for (int c = 0; c < 4; c++) {
        by_cpl[c] += cpl[c];
    }
    records += n;
    invalid_records += bad;
    in_range += in;
}

typedef struct Counting {
    uint64_t stall_after;       /* stop after this many records */
    int fast;
} Counting;

/* Count a batch's records as they came (its raw[]: markers included, in
 * stream order), at most up to stall_after records. */
static void count_batch(const Counting *c, const GmbeooBatch *b)
{
    size_t n = b->count + b->ndrops;
    const uint8_t *raw = b->raw;
    if (records + n >= c->stall_after) {
        n = (size_t)(c->stall_after - records);
    }
    if (c->fast && b->format == GMBEOO_FORMAT_GMBEOO16) {
        records_fast(raw, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            record(b->format, raw + i * b->record_size);
        }
    }
}

static int cmp_delta(const void *a, const void *b)
{
    int64_t x = delta_value[*(const int *)a], y = delta_value[*(const int *)b];
    return x < y ? -1 : x > y;
}

static int report_eof;
static size_t report_partial;
static const char *report_transport;    /* libgmbeoo's kind_name */

static void report_body(FILE *out, void *arg)
{
    static const char *kind[2] = { "load", "store" };
    int eof = report_eof;
    size_t partial = report_partial;
    (void)arg;
    (void)out;          /* stdout, as printf() writes */
    printf("records: %" PRIu64 "\n", records);
    for (int c = 0; c < 4; c++) {
        printf("records_cpl%d: %" PRIu64 "\n", c, by_cpl[c]);
    }
    printf("invalid: %" PRIu64 "\n", invalid_records);
    printf("drop_markers: %" PRIu64 "\n", drop_markers);
    printf("marked_dropped: %" PRIu64 "\n", marked_dropped);
    printf("eof: %d\n", eof);
    printf("partial_bytes: %zu\n", partial);
    printf("range: 0x%" PRIx64 " %" PRIu64 "\n", base, len);
    printf("in_range: %" PRIu64 "\n", in_range);
    for (int i = 0; i < 256; i++) {
        if (by_info[i]) {
            printf("in_range_info %s size=%u sx=%d cpl=%u: %" PRIu64 "\n",
                   kind[gmbeoo_is_store((uint64_t)i)],
                   gmbeoo_size_bytes((uint64_t)i),
                   gmbeoo_is_sign_extend((uint64_t)i),
                   gmbeoo_cpl((uint64_t)i), by_info[i]);
        }
    }
    qsort(at, (size_t)n_at, sizeof(at[0]), cmp_at);
    for (int i = 0; i < n_at; i++) {
        printf("at +%" PRIu64 " %s size=%u sx=%d cpl=%u: %" PRIu64 "\n",
               at[i].off, kind[gmbeoo_is_store(at[i].info)],
               gmbeoo_size_bytes(at[i].info),
               gmbeoo_is_sign_extend(at[i].info), gmbeoo_cpl(at[i].info),
               at[i].n);
    }
    if (at_overflow) {
        printf("at: overflow\n");
    }
    static const char *cover_label[4] = {
        "covered_bytes_cpl0_load", "covered_bytes_cpl0_store",
        "covered_bytes_cpl3_load", "covered_bytes_cpl3_store",
    };
    for (int k = 0; k < 4; k++) {
        uint64_t n = 0;
        for (uint64_t o = 0; o < len; o++) {
            n += (cover[o] >> k) & 1;
        }
        printf("%s: %" PRIu64 "\n", cover_label[k], n);
    }
    int order[MAX_DELTAS];
    for (int i = 0; i < n_deltas; i++) {
        order[i] = i;
    }
    qsort(order, (size_t)n_deltas, sizeof(order[0]), cmp_delta);
    printf("deltas:");
    for (int i = 0; i < n_deltas; i++) {
        printf(" %" PRId64 ":%" PRIu64, delta_value[order[i]],
               delta_count[order[i]]);
    }
    printf("%s\n", deltas_overflow ? " ..." : "");
    if (report_transport) {
        printf("source: %s\n", report_transport);
    }
}

static void report(int eof, size_t partial)
{
    report_eof = eof;
    report_partial = partial;
    printf("-----begin analysis output-----\n");
    report_body(stdout, NULL);
    printf("-----end analysis output-----\n");
    fflush(stdout);
}

static void wait_usr1(void)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!got_usr1) {
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* GMBEOO_COUNT_LIBGMBEOO=1: the contract through libgmbeoo. */
static int main_libgmbeoo(int argc, char **argv, uint64_t stall_after,
                          int fast)
{
    const char *s = getenv("GMBEOO_COUNT_PAUSE_AFTER");
    uint64_t pause_after = s ? strtoull(s, NULL, 0) : UINT64_MAX;
    unsigned pause_ms = s && strchr(s, ':') ? atoi(strchr(s, ':') + 1) : 0;
    s = getenv("GMBEOO_COUNT_DIE_AFTER");
    uint64_t die_after = s ? strtoull(s, NULL, 0) : UINT64_MAX;
    GmbeooSource *src = gmbeoo_tool_start(argc, argv, GMBEOO_FORMAT_AUTO, 0);
    if (!src) {
        return errno == EINVAL ? 2 : 1;
    }
    Counting c = { .stall_after = stall_after, .fast = fast };
    GmbeooBatch b;
    int r;
    while (records < stall_after && (r = gmbeoo_next(src, &b)) > 0) {
        count_batch(&c, &b);
        if (records >= pause_after) {
            pause_after = UINT64_MAX;
            usleep(pause_ms * 1000u);
        }
        if (records >= die_after) {
            kill(getpid(), SIGKILL);
        }
    }
    if (records < stall_after && r == GMBEOO_ERROR) {
        fprintf(stderr, "gmbeoo_count: %s\n", gmbeoo_errmsg());
    }
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    report_eof = st.eof;
    report_partial = st.partial_bytes;
    report_transport = gmbeoo_kind_name(src);
    int rep = gmbeoo_tool_report(src, report_body, NULL);
    gmbeoo_close(src);
    return rep == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gmbeoo_count FIFO [ADDR LEN]\n");
        return 2;
    }
    if (argc >= 4) {
        base = strtoull(argv[2], NULL, 0);
        len = strtoull(argv[3], NULL, 0);
        if (len > MAX_RANGE) {
            fprintf(stderr, "gmbeoo_count: range too long\n");
            return 2;
        }
        cover = calloc(len ? len : 1, 1);
        if (!cover) {
            return 1;
        }
    }
    const char *s = getenv("GMBEOO_COUNT_STALL_AFTER");
    uint64_t stall_after = s ? strtoull(s, NULL, 0) : UINT64_MAX;
    s = getenv("GMBEOO_COUNT_FAST");
    int fast = s && strcmp(s, "1") == 0;
    s = getenv("GMBEOO_COUNT_LIBGMBEOO");
    if (s && strcmp(s, "1") == 0) {
        return main_libgmbeoo(argc, argv, stall_after, fast);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);   /* no SA_RESTART: read() gives EINTR */

    printf("Ready to analyze\n");
    fflush(stdout);

    int fd;
    do {
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR && !got_usr1);
    if (fd < 0) {
        if (!got_usr1) {
            fprintf(stderr, "gmbeoo_count: %s: %s\n", argv[1], strerror(errno));
        }
        wait_usr1();
        report(0, 0);
        return 1;
    }
    /* The shared reader loop (libgmbeoo). */
    int format = gmbeoo_format_resolve(NULL);
    if (format < 0 || format == GMBEOO_FORMAT_EXTENDED32) {
        fprintf(stderr, "gmbeoo_count: %s\n",
                format < 0 ? gmbeoo_errmsg() : "extended32 is not supported");
        return 2;
    }
    GmbeooSource *src = gmbeoo_open_fd(fd, format, GMBEOO_OPEN_OWN_FD,
                                       argv[1]);
    Counting c = { .stall_after = stall_after, .fast = fast };
    int eof = 0;
    while (!got_usr1) {
        if (records >= stall_after) {
            wait_usr1();
            break;
        }
        GmbeooBatch b;
        int r = gmbeoo_next(src, &b);   /* AGAIN: a signal came */
        if (r == GMBEOO_BATCH) {
            count_batch(&c, &b);
        } else if (r == GMBEOO_END) {
            eof = 1;
            break;
        } else if (r == GMBEOO_ERROR) {
            fprintf(stderr, "gmbeoo_count: %s\n", gmbeoo_errmsg());
            break;
        }
    }
    GmbeooStats st;
    gmbeoo_stats(src, &st);
    size_t have = st.partial_bytes;
    wait_usr1();
    report(eof, have);
    return 0;
}
