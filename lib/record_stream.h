/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one reader loop for GMBEOO record streams: read a block, hand the
 * whole records to a callback, keep the partial tail for the next read.
 * gmbeoo_dump, gmbeoo_heatmap, simple_analysis and the tests supply only
 * the callback.
 *
 * The source is detected from its first bytes, whatever it is (a FIFO, a
 * pipe, a regular file):
 *   - a trace file (lib/trace_file.h): its header frame gives the record
 *     format and the codec; the rest is decompressed (and its address
 *     deltas undone) as it is read;
 *   - any other zstd or LZ4 stream (e.g. `zstd` or `lz4` run on a raw
 *     stream): decompressed, the format is the caller's;
 *   - anything else: raw records of the caller's format.
 * Records go to the callback undecoded (decode them with record.h's
 * gmbeoo_decode_any); a block holds whole records only, drop markers
 * included.
 */
#ifndef GMBEOO_RECORD_STREAM_H
#define GMBEOO_RECORD_STREAM_H

#include <gio/gio.h>
#include <stdbool.h>

#include "gmbeoo/record.h"
#include "trace_file.h"

typedef enum RecordSourceKind {
    RECORD_SOURCE_UNKNOWN,      /* not detected yet */
    RECORD_SOURCE_RAW,
    RECORD_SOURCE_TRACE_FILE,
    RECORD_SOURCE_ZSTD,
    RECORD_SOURCE_LZ4,
} RecordSourceKind;

typedef struct RecordBlock {
    const guint8 *data;         /* count records of record_size bytes */
    gsize count;
    guint64 first_index;        /* index of data's first record */
    GmbeooRecordFormat format;
    unsigned record_size;
} RecordBlock;

/* Return false to stop reading (record_stream_pump then says STOPPED). */
typedef bool (*RecordBlockFunc)(const RecordBlock *block, void *opaque);

typedef enum RecordStreamStatus {
    RECORD_STREAM_DATA,         /* read something; call again */
    RECORD_STREAM_AGAIN,        /* non-blocking source, nothing to read */
    RECORD_STREAM_EOF,
    RECORD_STREAM_STOPPED,      /* the callback returned false */
    RECORD_STREAM_ERROR,
} RecordStreamStatus;

typedef struct RecordStream RecordStream;

/*
 * Read @path ("-": stdin).  @format is the record format of a source that
 * does not say (raw or plain zstd).
 */
RecordStream *record_stream_open(const char *path, GmbeooRecordFormat format,
                                 GError **err);

/* Read @fd (closed by record_stream_free() if @own).  @name is for
 * messages. */
RecordStream *record_stream_new_fd(int fd, bool own, const char *name,
                                   GmbeooRecordFormat format);

void record_stream_free(RecordStream *rs);

void record_stream_set_callback(RecordStream *rs, RecordBlockFunc fn,
                                void *opaque);

/* One read() and whatever it completes. */
RecordStreamStatus record_stream_pump(RecordStream *rs, GError **err);

/* Read until the source's kind is known (or EOF).  Blocking sources only. */
bool record_stream_detect(RecordStream *rs, GError **err);

/* Pump until EOF or the callback stops it.  Blocking sources only. */
bool record_stream_run(RecordStream *rs, GError **err);

RecordSourceKind record_stream_kind(const RecordStream *rs);
const char *record_stream_kind_name(const RecordStream *rs);
bool record_stream_is_fifo(const RecordStream *rs);
GmbeooRecordFormat record_stream_format(const RecordStream *rs);
/* The trace file's header, or NULL. */
const TraceMeta *record_stream_meta(const RecordStream *rs);
/* Records handed out so far. */
guint64 record_stream_records(const RecordStream *rs);
/* Bytes of an incomplete record held back (after EOF: a torn last one). */
gsize record_stream_leftover(const RecordStream *rs);

/*
 * The record format to assume for an unlabelled stream: @name if given,
 * else $GMBEOO_RECORD_FORMAT, else gmbeoo16.  Fails on an unknown name,
 * saying where it came from.
 */
bool record_format_choose(const char *name, GmbeooRecordFormat *format,
                          GError **err);

#endif /* GMBEOO_RECORD_STREAM_H */
