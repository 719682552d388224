/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trace file writer thread (trace_sink.h).  It reads the FIFO straight
 * into the writer's chunk buffer (no copy) in reads as large as the pipe
 * holds, and compresses each full chunk (lib/trace_file.c) before reading
 * on: while it compresses, QEMU's ring absorbs the records.
 */
#include "trace_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* 8 MiB of records per frame: large frames compress better; memory is
 * this plus its compressed image. */
#define CHUNK_BYTES (8u << 20)

struct TraceSink {
    GThread *thread;
    int fifo;
    int stop[2];                /* a byte in stop[1] ends the thread */
    TraceWriter *writer;
    GMutex lock;
    GError *error;              /* the thread's failure, under lock */
    gint done;                  /* atomic: the thread has returned */
};

static void set_failed(TraceSink *s, GError *e)
{
    g_mutex_lock(&s->lock);
    if (!s->error) {
        s->error = e;
    } else {
        g_error_free(e);
    }
    g_mutex_unlock(&s->lock);
}

static gpointer sink_thread(gpointer data)
{
    TraceSink *s = data;
    for (;;) {
        gsize room;
        guint8 *p = trace_writer_space(s->writer, &room);
        ssize_t n = read(s->fifo, p, room);
        if (n > 0) {
            GError *e = NULL;
            if (!trace_writer_commit(s->writer, (gsize)n, &e)) {
                set_failed(s, e);
                break;
            }
            continue;
        }
        if (n == 0) {
            break;                      /* EOF: QEMU closed the output */
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN) {
            int e = errno;
            set_failed(s, g_error_new(G_IO_ERROR, g_io_error_from_errno(e),
                                      "cannot read the trace FIFO: %s",
                                      g_strerror(e)));
            break;
        }
        struct pollfd pf[2] = {
            { .fd = s->fifo, .events = POLLIN },
            { .fd = s->stop[0], .events = POLLIN },
        };
        if (poll(pf, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (pf[1].revents) {
            break;
        }
    }
    g_atomic_int_set(&s->done, 1);
    return NULL;
}

static void sink_free(TraceSink *s)
{
    if (s->fifo >= 0) {
        close(s->fifo);
    }
    close(s->stop[0]);
    close(s->stop[1]);
    trace_writer_abort(s->writer);      /* NULL once finished */
    if (s->error) {
        g_error_free(s->error);
    }
    g_mutex_clear(&s->lock);
    g_free(s);
}

TraceSink *trace_sink_start(const char *fifo, const char *path,
                            const TraceMeta *meta, GError **err)
{
    TraceSink *s = g_new0(TraceSink, 1);
    g_mutex_init(&s->lock);
    s->fifo = -1;
    if (pipe2(s->stop, O_CLOEXEC | O_NONBLOCK) != 0) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot make a pipe: %s", g_strerror(e));
        s->stop[0] = s->stop[1] = -1;
        sink_free(s);
        return NULL;
    }
    /* QEMU's vCPU and writer threads take about two cores at full rate;
     * zstd may have what else the host has (at most 4 workers). */
    int threads = CLAMP((int)g_get_num_processors() - 2, 0, 4);
    s->writer = trace_writer_open(path, meta, CHUNK_BYTES, threads, err);
    if (!s->writer) {
        sink_free(s);
        return NULL;
    }
    s->fifo = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fifo < 0) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot open the trace FIFO %s: %s", fifo,
                    g_strerror(e));
        sink_free(s);
        return NULL;
    }
    s->thread = g_thread_new("trace-file", sink_thread, s);
    return s;
}

bool trace_sink_check(TraceSink *s, GError **err)
{
    g_mutex_lock(&s->lock);
    bool ok = s->error == NULL;
    if (!ok) {
        g_propagate_error(err, g_error_copy(s->error));
    }
    g_mutex_unlock(&s->lock);
    return ok;
}

static void stop_thread(TraceSink *s)
{
    if (s->thread) {
        if (!g_atomic_int_get(&s->done) && write(s->stop[1], "x", 1) < 0) {
            /* The pipe is non-blocking and empty: cannot fail. */
        }
        g_thread_join(s->thread);
        s->thread = NULL;
    }
}

bool trace_sink_done(TraceSink *s)
{
    return g_atomic_int_get(&s->done) != 0;
}

bool trace_sink_finish(TraceSink *s, guint64 *records_bytes, GError **err)
{
    g_assert(trace_sink_done(s));
    stop_thread(s);
    if (!trace_sink_check(s, err)) {
        sink_free(s);
        return false;
    }
    TraceWriter *w = s->writer;
    guint64 out;
    s->writer = NULL;
    trace_writer_totals(w, records_bytes, &out);
    bool ok = trace_writer_finish(w, err);
    sink_free(s);
    return ok;
}

void trace_sink_abort(TraceSink *s)
{
    if (!s) {
        return;
    }
    stop_thread(s);
    sink_free(s);
}
