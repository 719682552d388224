/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo: read GMBEOO memory-access records, and be an analysis tool.
 *
 * memory_tracer (a patched QEMU) writes one record per guest data access
 * (the formats: gmbeoo/record.h, included below).  This library is the one
 * way to read them:
 *
 *   - open any record source: the FIFO of a run, a raw record file, a trace
 *     file (memory_tracer --trace_file_path, any codec), a zstd- or
 *     LZ4-compressed raw stream, stdin; the kind and the record format
 *     are detected (or given);
 *   - iterate over batches of decoded accesses, with the drop markers of
 *     each batch beside them;
 *   - the run's metadata where the source has it;
 *   - the analysis-tool contract (memory_tracer --help) in two calls:
 *     gmbeoo_tool_start() and gmbeoo_tool_report().
 *
 * A complete tool (README.md, "Writing your own analysis tool"):
 *
 *     GmbeooSource *src = gmbeoo_tool_start(argc, argv, 0);
 *     GmbeooBatch b;
 *     while (gmbeoo_next(src, &b) > 0)
 *         for (size_t i = 0; i < b.count; i++)
 *             n[gmbeoo_cpl(b.info[i])][gmbeoo_is_store(b.info[i])]++;
 *     gmbeoo_tool_report(src, print_counts, n);
 *
 * Build with `cc tool.c $(pkg-config --cflags --libs gmbeoo)`.
 *
 * Stability: the library's soname is libgmbeoo.so.1; within it, every
 * function here keeps its signature and meaning, and symbols are versioned
 * (GMBEOO_1.0, ...: lib/gmbeoo/libgmbeoo.map).  GmbeooMeta is the
 * library's (you get a pointer) and only grows at its end.  GmbeooBatch and
 * GmbeooStats are filled in your memory: their layout is fixed for
 * GMBEOO_1.0, and a larger one would come with a new symbol version of
 * gmbeoo_next()/gmbeoo_stats(), so a program built against 1.0 keeps
 * getting the 1.0 layout.  The record layouts (record.h) are fixed: they
 * are the original tool's.  Nothing here needs GLib.
 *
 * Errors: a call that fails returns NULL or a negative value and leaves a
 * message for gmbeoo_errmsg() (per thread, like dlerror()), e.g.
 * "trace.zst: corrupted zstd data: ...".  errno is set where one applies.
 *
 * Threads: a GmbeooSource is used by one thread at a time.
 *
 * Transports.  A source is a file descriptor read with read() (a FIFO, a
 * pipe, a regular file), or, for a tool memory_tracer starts, the run's
 * shared rings: memory_tracer offers them (a memfd named in the tool's
 * environment, GMBEOO_RINGS_FD), gmbeoo_tool_start() claims them before
 * "Ready to analyze" and does not open the FIFO, and gmbeoo_next() reads
 * the records in place from the per-vCPU rings QEMU writes (no writer
 * thread, no pipe, no copy).  The batches are the same; GmbeooBatch.raw
 * then points into a ring (a batch never crosses a ring's end), valid
 * until the next call, which gives its space back to QEMU.  The kind is
 * GMBEOO_SOURCE_RINGS and gmbeoo_fd() returns -1 for it: it is the one
 * call tied to a descriptor.  A tool that opens the FIFO itself, and
 * memory_tracer --analysis_transport fifo, keep the FIFO.
 */
#ifndef GMBEOO_GMBEOO_H
#define GMBEOO_GMBEOO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gmbeoo/record.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GMBEOO_VERSION_MAJOR 1
#define GMBEOO_VERSION_MINOR 0
#define GMBEOO_VERSION_PATCH 0
#define GMBEOO_VERSION_NUMBER (GMBEOO_VERSION_MAJOR * 10000 + \
                               GMBEOO_VERSION_MINOR * 100 + \
                               GMBEOO_VERSION_PATCH)

/* The version of the library running (GMBEOO_VERSION_NUMBER's form). */
unsigned gmbeoo_version(void);

/* The message of the calling thread's last failure ("" if none). */
const char *gmbeoo_errmsg(void);

/* ---- sources ---- */

typedef struct GmbeooSource GmbeooSource;

/* What a source turned out to be (known after the first gmbeoo_next()). */
typedef enum GmbeooSourceKind {
    GMBEOO_SOURCE_UNKNOWN = 0,  /* nothing read yet */
    GMBEOO_SOURCE_RAW,          /* records as the FIFO carries them */
    GMBEOO_SOURCE_TRACE_FILE,   /* memory_tracer --trace_file_path */
    GMBEOO_SOURCE_ZSTD,         /* a raw stream compressed with zstd */
    GMBEOO_SOURCE_LZ4,          /* a raw stream compressed with LZ4 */
    GMBEOO_SOURCE_RINGS,        /* a run's shared rings (read in place; */
                                /*   gmbeoo_tool_start() only) */
} GmbeooSourceKind;

/*
 * The record format argument of the open calls: a GmbeooRecordFormat, or
 * GMBEOO_FORMAT_AUTO for gmbeoo_format_resolve(NULL) (the environment's
 * GMBEOO_RECORD_FORMAT, which memory_tracer sets for its analysis tool,
 * else gmbeoo16).  It is the format of a source that does not say (raw,
 * zstd or LZ4); a trace file's header always gives its own: compare
 * gmbeoo_meta()->format with what you expected if it matters.
 */
#define GMBEOO_FORMAT_AUTO (-1)

/*
 * The format named @name ("gmbeoo16", "compact8", "extended32"); NULL or ""
 * means $GMBEOO_RECORD_FORMAT, and if that is unset or empty, gmbeoo16.
 * -1 for an unknown name (the message says where it came from).
 */
int gmbeoo_format_resolve(const char *name);

/* Flags of gmbeoo_open_fd(). */
#define GMBEOO_OPEN_OWN_FD   1u  /* gmbeoo_close() closes the descriptor */

/*
 * Open @path for reading: a FIFO, a raw record file, a trace file, a zstd
 * or LZ4 file; "-" is stdin.  What it is is detected from its first bytes.
 * A FIFO's open() waits for a writer, as open(2) does.
 */
GmbeooSource *gmbeoo_open(const char *path, int format);

/*
 * Read the descriptor @fd (@name is for messages; NULL: "fd N").  A
 * non-blocking descriptor makes gmbeoo_next() return GMBEOO_AGAIN when
 * nothing can be read; poll gmbeoo_fd() for input, then call it again.
 */
GmbeooSource *gmbeoo_open_fd(int fd, int format, unsigned flags,
                             const char *name);

/* Free @src (NULL is fine); closes what the library opened. */
void gmbeoo_close(GmbeooSource *src);

/* The descriptor read, for poll(); -1 if none. */
int gmbeoo_fd(const GmbeooSource *src);

GmbeooSourceKind gmbeoo_kind(const GmbeooSource *src);

/* "raw record stream", "raw record stream (FIFO or pipe)", "trace file",
 * "zstd-compressed record stream", "LZ4-compressed record stream",
 * "shared rings" or "unknown". */
const char *gmbeoo_kind_name(const GmbeooSource *src);

/* ---- batches ---- */

/* A drop marker: QEMU dropped @dropped records of vCPU @vcpu here. */
typedef struct GmbeooDrop {
    uint64_t index;     /* the marker's record index in the stream */
    uint64_t dropped;   /* records missing at this point */
    size_t before;      /* accesses of the batch that came before it */
    unsigned vcpu;      /* (compact8: 0) */
} GmbeooDrop;

/*
 * A batch of decoded accesses: a struct of arrays.  Access i of the batch
 * is info[i] (record.h's info byte: gmbeoo_cpl(), gmbeoo_is_store(),
 * gmbeoo_size_bytes(), ...) at vaddr[i]; the arrays a format lacks are
 * NULL.  Drop markers are not accesses: they are in drops[], in stream
 * order, each saying how many accesses of the batch came before it.  All
 * pointers stay valid until the next gmbeoo_next() or gmbeoo_close().
 *
 * Why a struct of arrays: a typical tool (decode every record, count it by
 * CPL and kind, by size and by page) measured on records in memory
 * (bench/batch_layout.c, best of 8 passes of a 16 MiB stream, 2-core VM,
 * 2026-12-06, after gmbeoo_le64() became one load), M records/s:
 *
 *                 array of GmbeooAccess   struct of arrays   in place
 *   gmbeoo16             320                    535             747
 *   compact8             396                    496             700
 *   extended32           252                    484             716
 *
 * The arrays are written by one tight loop per format and read as two
 * dense streams (info, vaddr); an array of 48-byte structs moves 3-6x the
 * bytes.  Decoding each record in place ("in place": the tool calls
 * gmbeoo_decode_any() on raw[] below itself) saves the arrays' pass and is
 * faster still, for a tool that wants it; the batches keep the drop
 * markers out of the accesses and give every format the same arrays.
 */
typedef struct GmbeooBatch {
    size_t count;               /* accesses */
    const uint8_t *info;        /* [count] */
    const uint64_t *vaddr;      /* [count] */
    const uint8_t *vcpu;        /* [count]; NULL for compact8 */
    const uint64_t *paddr;      /* [count] extended32 only, else NULL; */
                                /*   GMBEOO_NO_PADDR where none */
    const uint64_t *pc;         /* [count] extended32 only, else NULL */
    const uint64_t *cr3;        /* [count] extended32 only, else NULL */

    size_t ndrops;
    const GmbeooDrop *drops;    /* [ndrops] */

    /* The batch's records as they came: count + ndrops records. */
    GmbeooRecordFormat format;
    unsigned record_size;
    const void *raw;
    uint64_t first_index;       /* stream index of raw's first record */
} GmbeooBatch;

/* gmbeoo_next()'s results. */
#define GMBEOO_BATCH   1        /* *batch is filled (it may hold drops only) */
#define GMBEOO_END     0        /* no more records */
#define GMBEOO_ERROR  (-1)      /* read or format error: gmbeoo_errmsg() */
#define GMBEOO_AGAIN  (-2)      /* nothing read: a non-blocking source had */
                                /*   nothing, or a signal interrupted read() */

/*
 * The next batch (at most 4096 records).  After GMBEOO_END or GMBEOO_ERROR
 * it keeps returning the same.  At the end of a source, bytes of an
 * incomplete last record are not handed out (GmbeooStats.partial_bytes);
 * a trace file cut inside a frame is an error.
 *
 * A source from gmbeoo_tool_start() ends (GMBEOO_END) when the FIFO ends
 * (shared rings: QEMU closed them and every record was read), or when
 * SIGUSR1 has come and every record already in the FIFO (published in the
 * rings) has been handed out, or at once on SIGTERM or SIGINT.
 */
int gmbeoo_next(GmbeooSource *src, GmbeooBatch *batch);

/* What has been read so far. */
typedef struct GmbeooStats {
    uint64_t records;       /* records handed out, drop markers included */
    uint64_t accesses;      /* of them, accesses */
    uint64_t drops;         /* of them, drop markers */
    uint64_t dropped;       /* the records the markers say are missing */
    size_t partial_bytes;   /* bytes held of an incomplete record (after */
                            /*   the end: a torn last record) */
    int eof;                /* 1: the source ended (EOF) */
    int error;              /* 1: reading failed (gmbeoo_next said so) */
} GmbeooStats;

void gmbeoo_stats(const GmbeooSource *src, GmbeooStats *stats);

/* ---- the run's metadata ---- */

/*
 * What the source says about its run.  A trace file's header has all but
 * vcpus and info; a tool started by memory_tracer gets them from the
 * environment memory_tracer gives it (format, sampling, CPL3 filter,
 * vCPUs) and from its argv (the workload-info tokens); a raw file has only
 * the format it was opened with.  Unknown numbers are -1, unknown strings
 * NULL.  Complete once the first gmbeoo_next() has returned.
 */
typedef struct GmbeooMeta {
    GmbeooRecordFormat format;
    int format_known;           /* 1: the source said; 0: assumed */
    int log_of_GMBE_block_len;          /* B of the sampling rule */
    int log_of_GMBE_tracing_ratio;      /* R */
    int trace_only_CPL3_code_GMBE;      /* the CPL3 filter: 0, 1 */
    int vcpus;                          /* the guest's vCPUs */
    size_t ninfo;
    const char *const *info;    /* the workload-info tokens (a live run) */
    const char *workload;       /* the workload (a trace file) */
    const char *guest_image;
    const char *snapshot;
    const char *memory_tracer_version;
    const char *qemu_version;
} GmbeooMeta;

const GmbeooMeta *gmbeoo_meta(GmbeooSource *src);

/* ---- the analysis-tool contract ---- */

/*
 * Be the analysis tool memory_tracer runs as `TOOL FIFO INFO_TOKEN...`:
 * block SIGUSR1, SIGTERM and SIGINT (call this before starting threads, so
 * that they inherit the mask; the library takes them through a signalfd),
 * print "Ready to analyze" and flush, then open the FIFO (argv[1])
 * without waiting for its writer.  @format: GMBEOO_FORMAT_AUTO (memory_tracer
 * says which in the environment) or the format to assume.  @flags: 0.
 *
 * On a usage error (no argv[1]) or an unknown format it prints why on
 * stderr and returns NULL with errno EINVAL (exit with status 2); on
 * another failure (the FIFO cannot be opened) likewise with that errno
 * (exit 1).  The info tokens are gmbeoo_meta()->info; the run's settings
 * gmbeoo_meta()'s other fields.  The source ends (gmbeoo_next()) as said
 * there.
 */
GmbeooSource *gmbeoo_tool_start(int argc, char **argv, int format,
                                unsigned flags);

/*
 * Print the result block of the contract: wait for SIGUSR1 if it has not
 * come yet, print "-----begin analysis output-----", call @body(stdout,
 * @arg), print "-----end analysis output-----", flush.  Returns 0 when the
 * block was printed, 1 when SIGTERM or SIGINT came first (nothing is
 * printed), -1 if stdout failed.  Then close the source and exit.  On a
 * source not from gmbeoo_tool_start() it prints at once.
 */
int gmbeoo_tool_report(GmbeooSource *src,
                       void (*body)(FILE *out, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* GMBEOO_GMBEOO_H */
