/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host side of the serial channel to the guest helper
 * (guest/run_executables_from_serial.c).  The wire protocol is defined in
 * include/memory_tracer/serial_protocol.h.  The channel is a connected unix
 * socket to QEMU's chardev for the guest's channel tty (/dev/ttyS0, or the
 * virtio console /dev/hvc0 of the embedded guest: see guest.conf's
 * channel key).  serial_sync() may be called again before any upload; it
 * starts a new exchange with a new nonce.
 *
 * Everything the guest sends is kept in a transcript (the workload's own
 * output, minus the protocol's framed messages); serial_expect() searches
 * that transcript like expect(1) does.  Every call takes an absolute deadline
 * on g_get_monotonic_time()'s clock.
 */
#ifndef MEMORY_TRACER_SERIAL_H
#define MEMORY_TRACER_SERIAL_H

#include <glib.h>
#include <stdint.h>

#define SERIAL_ERROR serial_error_quark()
GQuark serial_error_quark(void);

typedef enum {
    SERIAL_ERROR_TIMEOUT,       /* deadline passed */
    SERIAL_ERROR_CLOSED,        /* EOF: QEMU went away */
    SERIAL_ERROR_NAK,           /* guest rejected a file (checksum, I/O) */
    SERIAL_ERROR_PROTOCOL,      /* unexpected or malformed framed message */
    SERIAL_ERROR_EXITED,        /* the workload exited before the match */
    SERIAL_ERROR_IO,
} SerialErrorCode;

typedef struct SerialChannel SerialChannel;

/* How the workload ended, from the guest's exit trailer. */
typedef struct SerialExit {
    gboolean signaled;          /* TRUE: killed by signal @code */
    int code;                   /* exit status or signal number */
} SerialExit;

/* Takes ownership of @fd.  If @log_path is not NULL, every byte received
 * is also appended there (raw). */
SerialChannel *serial_channel_new(int fd, const char *log_path);
void serial_channel_free(SerialChannel *ch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SerialChannel, serial_channel_free)

/* Open a unix-socket connection to @path, retrying until @deadline. */
int serial_connect_unix(const char *path, gint64 deadline, GError **err);

/* Synchronise with the helper (it answers with its hello). */
gboolean serial_sync(SerialChannel *ch, gint64 deadline, GError **err);

/* Send payload @index (MT_INDEX_*: 1 = executable1, 2 = executable2,
 * 3 = the arguments, 4 = the files archive; @len may be 0) and wait for the
 * guest's acknowledgement. */
gboolean serial_send_file(SerialChannel *ch, unsigned index,
                          const void *data, gsize len,
                          gint64 deadline, GError **err);

/* The four payloads of one run: executable1, executable2 (may be empty),
 * the arguments (@args: NULL-terminated, may be NULL) and the files archive
 * (@files, may be empty).  Test drivers use it; memory_tracer sends them
 * one by one. */
gboolean serial_send_workload(SerialChannel *ch, const void *exe1,
                              gsize len1, const void *exe2, gsize len2,
                              char *const *args, const void *files,
                              gsize files_len, gint64 deadline, GError **err);

/* One "Enter" key press: a single newline byte to the workload. */
gboolean serial_send_enter(SerialChannel *ch, GError **err);

/*
 * Wait until @text appears in the workload's output after the current read
 * position.  On success, if @before is not NULL, it receives the output
 * between the previous position and the match; the position moves past the
 * match.  Fails with SERIAL_ERROR_EXITED if the workload ends first (its
 * exit is then available from serial_exit_status()).
 */
gboolean serial_expect(SerialChannel *ch, const char *text, gint64 deadline,
                       GString *before, GError **err);

/* Wait for the exit trailer; fills @exit. */
gboolean serial_wait_exit(SerialChannel *ch, gint64 deadline,
                          SerialExit *exit, GError **err);

/* TRUE once the trailer was seen; fills @exit if not NULL. */
gboolean serial_exit_status(SerialChannel *ch, SerialExit *exit);

/* The workload's spooled output (DATA frames) is written to @fd (not
 * owned) as it arrives; -1 (the default): dropped. */
void serial_set_data_fd(SerialChannel *ch, int fd);

/* DATA payload bytes received whole so far; *@bad (may be NULL): how many
 * pieces failed their CRC (each is acknowledged "bad" and sent again). */
guint64 serial_data_bytes(SerialChannel *ch, guint *bad);

/* Every byte read from the guest so far (for progress-based deadlines). */
guint64 serial_bytes_received(SerialChannel *ch);

/* Free bytes in the guest's working directory, from its HELLO. */
guint64 serial_guest_free_bytes(SerialChannel *ch);

/* serial_transcript(), and the read position moves to its end. */
const char *serial_take_transcript(SerialChannel *ch, gsize *len);

/* The descriptor, for poll() by callers that multiplex. */
int serial_fd(SerialChannel *ch);

/* Read whatever is available now without blocking (call after poll()
 * reported the descriptor readable).  FALSE with @err on EOF/error. */
gboolean serial_pump(SerialChannel *ch, GError **err);

/* The workload output not yet consumed by serial_expect() (not
 * NUL-safe: use @len). */
const char *serial_transcript(SerialChannel *ch, gsize *len);

/* For tests: process @len received bytes as if read from the descriptor. */
void serial_channel_feed(SerialChannel *ch, const void *data, gsize len);

/* Test hook: the next serial_send_file() announces a wrong CRC, so the
 * guest must reject it (exercises the NAK path end to end). */
void serial_channel_corrupt_next_crc(SerialChannel *ch);

#endif /* MEMORY_TRACER_SERIAL_H */
