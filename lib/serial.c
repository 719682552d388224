/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host side of the serial channel: splits what the guest sends into framed
 * protocol messages (include/memory_tracer/serial_protocol.h) and the
 * workload's own output (the transcript), uploads files, and waits for
 * text or frames with deadlines.
 *
 * Invariant: bytes leave `pending` only as a whole frame (consumed) or as
 * transcript, in arrival order, so the transcript is exactly the guest's
 * output minus the frames.
 */
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "memory_tracer/serial_protocol.h"
#include "unix_socket.h"

G_DEFINE_QUARK(memory-tracer-serial-error-quark, serial_error)

/* Consumed transcript is dropped once this much has piled up. */
#define TRANSCRIPT_COMPACT (1024 * 1024)

struct SerialChannel {
    int fd;
    int log_fd;
    MtCrc32Table crc;
    char nonce[MT_NONCE_LEN + 1];   /* "" until serial_sync() */

    GString *transcript;    /* workload output, frames removed */
    gsize pos;              /* serial_expect() read position in it */
    GString *pending;       /* a frame being received: starts with 0x1E */
    GQueue frames;          /* MtFrame *: HELLO, ACK, NAK */

    gboolean eof;
    gboolean exited;
    SerialExit exit;
    gboolean corrupt_next_crc;   /* test hook */
    guint64 free_bytes;          /* from the guest's HELLO */

    /* A DATA frame's payload being received: kept until its CRC is
     * checked, then written to data_fd and acknowledged. */
    GByteArray *data_piece;
    GString *to_send;            /* acknowledgements not yet sent */
    guint64 data_left;
    guint32 data_crc, data_want_crc;
    int data_fd;                 /* -1: dropped */
    guint64 data_bytes;          /* all DATA payload bytes so far */
    guint data_bad;              /* payloads whose CRC did not match */
    guint64 received;            /* every byte read */
};

SerialChannel *serial_channel_new(int fd, const char *log_path)
{
    SerialChannel *ch = g_new0(SerialChannel, 1);
    ch->fd = fd;
    ch->log_fd = -1;
    ch->data_fd = -1;
    if (log_path) {
        ch->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                          0600);
        if (ch->log_fd < 0) {
            g_warning("cannot open serial log %s: %s", log_path,
                      g_strerror(errno));
        }
    }
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) {
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        }
    }
    mt_crc32_table_init(&ch->crc);
    ch->transcript = g_string_new(NULL);
    ch->pending = g_string_new(NULL);
    ch->data_piece = g_byte_array_new();
    ch->to_send = g_string_new(NULL);
    g_queue_init(&ch->frames);
    return ch;
}

void serial_channel_free(SerialChannel *ch)
{
    if (!ch) {
        return;
    }
    if (ch->fd >= 0) {
        close(ch->fd);
    }
    if (ch->log_fd >= 0) {
        close(ch->log_fd);
    }
    g_string_free(ch->transcript, TRUE);
    g_string_free(ch->pending, TRUE);
    g_byte_array_unref(ch->data_piece);
    g_string_free(ch->to_send, TRUE);
    g_queue_clear_full(&ch->frames, g_free);
    g_free(ch);
}

int serial_connect_unix(const char *path, gint64 deadline, GError **err)
{
    int fd, e;
    switch (unix_socket_connect(path, deadline, &fd, &e)) {
    case UNIX_CONNECT_OK:
        return fd;
    case UNIX_CONNECT_TOO_LONG:
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO,
                    "socket path too long: %s", path);
        break;
    case UNIX_CONNECT_SOCKET:
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO, "socket: %s",
                    g_strerror(e));
        break;
    case UNIX_CONNECT_FAILED:
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO,
                    "connect to the guest serial socket %s: %s", path,
                    g_strerror(e));
        break;
    case UNIX_CONNECT_TIMED_OUT:
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT,
                    "timed out waiting for QEMU's serial socket %s to "
                    "accept a connection (last error: %s)", path,
                    g_strerror(e));
        break;
    }
    return -1;
}

/* ---- receiving ---- */

static void flush_pending(SerialChannel *ch)
{
    g_string_append_len(ch->transcript, ch->pending->str,
                        (gssize)ch->pending->len);
    g_string_truncate(ch->pending, 0);
}

/* A complete line in `pending` (without its '\n'): a frame, or output. */
static gboolean take_frame(SerialChannel *ch)
{
    MtFrame f;
    if (!mt_parse_frame(ch->pending->str, ch->pending->len, &f)) {
        return FALSE;
    }
    if (f.kind == MT_FRAME_EXIT) {
        /* Only our own trailer ends the run; anything else (a workload
         * printing one, an old run's) is output. */
        if (ch->nonce[0] == '\0' || strcmp(f.nonce, ch->nonce) != 0 ||
            ch->exited) {
            return FALSE;
        }
        ch->exited = TRUE;
        ch->exit.signaled = f.signaled;
        ch->exit.code = f.status;
    } else if (f.kind == MT_FRAME_DATA) {
        if (ch->nonce[0] == '\0' || strcmp(f.nonce, ch->nonce) != 0 ||
            ch->exited) {
            return FALSE;
        }
        ch->data_left = f.size;
        ch->data_crc = 0;
        ch->data_want_crc = f.crc;
    } else {
        g_queue_push_tail(&ch->frames, g_memdup2(&f, sizeof(f)));
    }
    g_string_truncate(ch->pending, 0);
    return TRUE;
}

static void write_fd_all(int fd, const char *p, gsize len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        p += w;
        len -= (gsize)w;
    }
}

/* Bytes of a DATA payload: kept until the piece is whole; a good piece
 * goes to the sink, a bad one is asked for again. */
static gsize take_data(SerialChannel *ch, const char *p, gsize len)
{
    gsize n = (gsize)MIN((guint64)len, ch->data_left);
    ch->data_crc = mt_crc32_update(&ch->crc, ch->data_crc, p, n);
    g_byte_array_append(ch->data_piece, (const guint8 *)p, (guint)n);
    ch->data_left -= n;
    if (ch->data_left == 0) {
        if (ch->data_crc == ch->data_want_crc) {
            if (ch->data_fd >= 0) {
                write_fd_all(ch->data_fd, (const char *)ch->data_piece->data,
                             ch->data_piece->len);
            }
            ch->data_bytes += ch->data_piece->len;
            g_string_append(ch->to_send, MT_DATA_ACK_OK);
        } else {
            ch->data_bad++;
            g_string_append(ch->to_send, MT_DATA_ACK_BAD);
        }
        g_byte_array_set_size(ch->data_piece, 0);
    }
    return n;
}

/* Acknowledgements go out as soon as the piece is in (a few bytes: the
 * socket takes them without blocking). */
static void flush_acks(SerialChannel *ch)
{
    while (ch->to_send->len > 0 && ch->fd >= 0) {
        ssize_t w = send(ch->fd, ch->to_send->str, ch->to_send->len,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == ENOTSOCK) {
            w = write(ch->fd, ch->to_send->str, ch->to_send->len);
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;     /* tried again after the next read */
        }
        g_string_erase(ch->to_send, 0, w);
    }
}

void serial_channel_feed(SerialChannel *ch, const void *data, gsize len)
{
    const char *p = data;
    const char *end = p + len;

    ch->received += len;

    if (ch->log_fd >= 0 && len > 0) {
        const char *q = p;
        gsize left = len;
        while (left > 0) {
            ssize_t w = write(ch->log_fd, q, left);
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            q += w;
            left -= (gsize)w;
        }
    }

    while (p < end) {
        if (ch->data_left > 0) {
            p += take_data(ch, p, (gsize)(end - p));
            continue;
        }
        if (ch->pending->len == 0) {
            const char *fs = memchr(p, MT_FRAME_START, (size_t)(end - p));
            const char *stop = fs ? fs : end;
            g_string_append_len(ch->transcript, p, stop - p);
            p = stop;
            if (fs) {
                g_string_append_c(ch->pending, *p++);
            }
            continue;
        }
        char c = *p;
        if (ch->pending->len < MT_FRAME_PREFIX_LEN) {
            if (c == MT_FRAME_PREFIX[ch->pending->len]) {
                g_string_append_c(ch->pending, c);
                p++;
            } else {
                flush_pending(ch);      /* not a frame; re-examine c */
            }
            continue;
        }
        if (c == '\n') {
            p++;
            if (!take_frame(ch)) {
                flush_pending(ch);
                g_string_append_c(ch->transcript, '\n');
            }
            continue;
        }
        if (ch->pending->len >= MT_LINE_MAX) {
            flush_pending(ch);
            continue;
        }
        g_string_append_c(ch->pending, c);
        p++;
    }

    if (ch->pos > TRANSCRIPT_COMPACT && ch->pos > ch->transcript->len / 2) {
        g_string_erase(ch->transcript, 0, (gssize)ch->pos);
        ch->pos = 0;
    }
}

gboolean serial_pump(SerialChannel *ch, GError **err)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(ch->fd, buf, sizeof(buf));
        if (r > 0) {
            serial_channel_feed(ch, buf, (gsize)r);
            flush_acks(ch);
            if ((size_t)r < sizeof(buf)) {
                return TRUE;
            }
            continue;
        }
        if (r == 0) {
            ch->eof = TRUE;
            /* A partial frame at EOF was output after all. */
            flush_pending(ch);
            g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_CLOSED,
                        "the guest serial channel was closed (QEMU exited?)");
            return FALSE;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return TRUE;
        }
        if (errno == ECONNRESET) {
            ch->eof = TRUE;
            g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_CLOSED,
                        "the guest serial channel was reset (QEMU exited?)");
            return FALSE;
        }
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO,
                    "reading the guest serial channel: %s", g_strerror(errno));
        return FALSE;
    }
}

static gboolean timeout_error(GError **err, const char *what)
{
    g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT,
                "timed out waiting for %s on the guest serial channel", what);
    return FALSE;
}

static gboolean closed_error(GError **err, const char *what)
{
    g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_CLOSED,
                "the guest serial channel closed while waiting for %s "
                "(QEMU exited?)", what);
    return FALSE;
}

/*
 * Wait until the descriptor is readable (and read what is there), or, if
 * @out is not NULL, also writable (then *@writable is set).  @what names
 * the awaited thing for the timeout message.
 */
static gboolean wait_io(SerialChannel *ch, gint64 deadline, const char *what,
                        gboolean out, gboolean *writable, GError **err)
{
    if (ch->eof) {
        return closed_error(err, what);
    }
    for (;;) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline) {
            return timeout_error(err, what);
        }
        gint64 ms = (deadline - now + 999) / 1000;
        struct pollfd p = { .fd = ch->fd,
                            .events = POLLIN | (out ? POLLOUT : 0) };
        int r = poll(&p, 1, ms > G_MAXINT ? G_MAXINT : (int)ms);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO,
                        "poll on the guest serial channel: %s",
                        g_strerror(errno));
            return FALSE;
        }
        if (r == 0) {
            continue;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            g_autoptr(GError) perr = NULL;
            if (!serial_pump(ch, &perr)) {
                if (ch->eof) {
                    return closed_error(err, what);
                }
                g_propagate_error(err, g_steal_pointer(&perr));
                return FALSE;
            }
        }
        if (writable) {
            *writable = (p.revents & POLLOUT) != 0;
        }
        return TRUE;
    }
}

/* ---- sending ---- */

static gboolean send_all(SerialChannel *ch, const void *data, gsize len,
                         gint64 deadline, const char *what, GError **err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = send(ch->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == ENOTSOCK) {
            w = write(ch->fd, p, len);
        }
        if (w >= 0) {
            p += w;
            len -= (gsize)w;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* Keep reading while the guest drains us, so neither side
             * blocks on a full buffer. */
            gboolean writable = FALSE;
            if (!wait_io(ch, deadline, what, TRUE, &writable, err)) {
                return FALSE;
            }
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET) {
            ch->eof = TRUE;
            return closed_error(err, what);
        }
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_IO,
                    "writing the guest serial channel: %s", g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static MtFrame *take_queued(SerialChannel *ch, MtFrameKind a, MtFrameKind b)
{
    for (GList *l = ch->frames.head; l; l = l->next) {
        MtFrame *f = l->data;
        if (f->kind == a || f->kind == b) {
            g_queue_delete_link(&ch->frames, l);
            return f;
        }
    }
    return NULL;
}

gboolean serial_sync(SerialChannel *ch, gint64 deadline, GError **err)
{
    char line[MT_LINE_MAX];
    const char *what = "the guest helper's HELLO (is run_executables_from_"
                       "serial running in the snapshot?)";

    g_snprintf(ch->nonce, sizeof(ch->nonce), "%08x%08x", g_random_int(),
               g_random_int());
    ch->exited = FALSE;
    /* Frames of an earlier exchange must not answer this one. */
    g_queue_clear_full(&ch->frames, g_free);
    int n = mt_format_sync(line, sizeof(line), ch->nonce);
    if (!send_all(ch, line, (gsize)n, deadline, what, err)) {
        return FALSE;
    }
    for (;;) {
        g_autofree MtFrame *f = NULL;
        while ((f = take_queued(ch, MT_FRAME_HELLO, MT_FRAME_HELLO))) {
            if (strcmp(f->nonce, ch->nonce) != 0) {
                g_clear_pointer(&f, g_free);
                continue;   /* a stale hello */
            }
            if (f->version != MT_PROTOCOL_VERSION) {
                g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_PROTOCOL,
                            "the guest helper speaks protocol version %u, "
                            "we speak %u: rebuild the guest image",
                            f->version, MT_PROTOCOL_VERSION);
                return FALSE;
            }
            ch->free_bytes = f->free_bytes;
            return TRUE;
        }
        if (!wait_io(ch, deadline, what, FALSE, NULL, err)) {
            return FALSE;
        }
    }
}

void serial_channel_corrupt_next_crc(SerialChannel *ch)
{
    ch->corrupt_next_crc = TRUE;
}

gboolean serial_send_file(SerialChannel *ch, unsigned index,
                          const void *data, gsize len,
                          gint64 deadline, GError **err)
{
    char line[MT_LINE_MAX];
    static const char *const names[] = {
        "", "executable1", "executable2", "the workload's arguments",
        "the files to copy to the guest",
    };
    g_return_val_if_fail(index >= 1 && index <= MT_INDEX_MAX, FALSE);
    const char *name = names[index];
    g_autofree char *what = g_strdup_printf(
        "the guest's acknowledgement of %s (%" G_GSIZE_FORMAT " bytes)", name,
        len);
    guint64 limit = index == MT_INDEX_ARGS ? MT_MAX_ARGS_SIZE
                                           : MT_MAX_FILE_SIZE;
    if (len > limit) {
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_NAK,
                    "%s: %" G_GSIZE_FORMAT " bytes; the guest accepts at "
                    "most %llu", name, len, (unsigned long long)limit);
        return FALSE;
    }
    uint32_t crc = mt_crc32_update(&ch->crc, 0, data, len);
    uint32_t sent_crc = crc;
    if (ch->corrupt_next_crc) {
        sent_crc ^= 0x1;
        ch->corrupt_next_crc = FALSE;
    }
    int n = mt_format_file_header(line, sizeof(line), index, len, sent_crc);
    if (!send_all(ch, line, (gsize)n, deadline, what, err) ||
        !send_all(ch, data, len, deadline, what, err)) {
        return FALSE;
    }
    for (;;) {
        g_autofree MtFrame *f = take_queued(ch, MT_FRAME_ACK, MT_FRAME_NAK);
        if (f && f->kind == MT_FRAME_NAK) {
            const char *why = strcmp(f->reason, "checksum") == 0
                ? "checksum mismatch: the upload was corrupted on the way"
                : strcmp(f->reason, "bad-header") == 0
                ? "it could not parse the file header"
                : strcmp(f->reason, "too-large") == 0
                ? "the file is too large"
                : strcmp(f->reason, "write-error") == 0
                ? "it could not write the file (guest /tmp full?)"
                : strcmp(f->reason, "no-space") == 0
                ? "its working directory's file system is full"
                : strcmp(f->reason, "bad-archive") == 0
                ? "the archive was malformed or a path was unsafe"
                : f->reason;
            g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_NAK,
                        "the guest rejected %s (%" G_GSIZE_FORMAT
                        " bytes): %s", name, len, why);
            return FALSE;
        }
        if (f) {
            if (f->index != index || f->size != len || f->crc != sent_crc) {
                g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_PROTOCOL,
                            "the guest acknowledged payload %u with %llu "
                            "bytes, crc %08x; we sent %s (payload %u) with %"
                            G_GSIZE_FORMAT " bytes, crc %08x", f->index,
                            (unsigned long long)f->size, (unsigned)f->crc,
                            name, index, len, (unsigned)sent_crc);
                return FALSE;
            }
            return TRUE;
        }
        if (!wait_io(ch, deadline, what, FALSE, NULL, err)) {
            return FALSE;
        }
    }
}

gboolean serial_send_workload(SerialChannel *ch, const void *exe1,
                              gsize len1, const void *exe2, gsize len2,
                              char *const *args, const void *files,
                              gsize files_len, gint64 deadline, GError **err)
{
    g_autoptr(GByteArray) a = g_byte_array_new();
    for (char *const *p = args; p && *p; p++) {
        g_byte_array_append(a, (const guint8 *)*p, (guint)strlen(*p) + 1);
    }
    return serial_send_file(ch, MT_INDEX_EXECUTABLE1, exe1, len1, deadline,
                            err) &&
           serial_send_file(ch, MT_INDEX_EXECUTABLE2, exe2, len2, deadline,
                            err) &&
           serial_send_file(ch, MT_INDEX_ARGS, a->data, a->len, deadline,
                            err) &&
           serial_send_file(ch, MT_INDEX_FILES, files, files_len, deadline,
                            err);
}

gboolean serial_send_enter(SerialChannel *ch, GError **err)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    return send_all(ch, "\n", 1, deadline, "room to send Enter", err);
}

gboolean serial_expect(SerialChannel *ch, const char *text, gint64 deadline,
                       GString *before, GError **err)
{
    gsize tlen = strlen(text);
    g_autofree char *what = g_strdup_printf("\"%s\" from the workload", text);
    for (;;) {
        const char *base = ch->transcript->str + ch->pos;
        gsize avail = ch->transcript->len - ch->pos;
        const char *m = memmem(base, avail, text, tlen);
        if (m) {
            if (before) {
                g_string_append_len(before, base, m - base);
            }
            ch->pos += (gsize)(m - base) + tlen;
            return TRUE;
        }
        /* What cannot be the start of a match is passed on now: a
         * workload printing megabytes before a marker is searched once,
         * not again with every read. */
        if (avail >= tlen) {
            gsize done = avail - (tlen - 1);
            if (before) {
                g_string_append_len(before, base, (gssize)done);
            }
            ch->pos += done;
        }
        if (ch->exited) {
            g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_EXITED,
                        "the workload %s %d before printing \"%s\"",
                        ch->exit.signaled ? "was killed by signal"
                                          : "exited with status",
                        ch->exit.code, text);
            return FALSE;
        }
        if (!wait_io(ch, deadline, what, FALSE, NULL, err)) {
            return FALSE;
        }
    }
}

gboolean serial_wait_exit(SerialChannel *ch, gint64 deadline,
                          SerialExit *exit, GError **err)
{
    while (!ch->exited) {
        if (!wait_io(ch, deadline, "the workload to exit", FALSE, NULL,
                     err)) {
            return FALSE;
        }
    }
    if (exit) {
        *exit = ch->exit;
    }
    return TRUE;
}

gboolean serial_exit_status(SerialChannel *ch, SerialExit *exit)
{
    if (ch->exited && exit) {
        *exit = ch->exit;
    }
    return ch->exited;
}

const char *serial_transcript(SerialChannel *ch, gsize *len)
{
    if (len) {
        *len = ch->transcript->len - ch->pos;
    }
    return ch->transcript->str + ch->pos;
}

void serial_set_data_fd(SerialChannel *ch, int fd)
{
    ch->data_fd = fd;
}

guint64 serial_data_bytes(SerialChannel *ch, guint *bad)
{
    if (bad) {
        *bad = ch->data_bad;
    }
    return ch->data_bytes;
}

guint64 serial_bytes_received(SerialChannel *ch)
{
    return ch->received;
}

guint64 serial_guest_free_bytes(SerialChannel *ch)
{
    return ch->free_bytes;
}

const char *serial_take_transcript(SerialChannel *ch, gsize *len)
{
    const char *t = serial_transcript(ch, len);
    ch->pos = ch->transcript->len;
    return t;
}

int serial_fd(SerialChannel *ch)
{
    return ch->fd;
}
