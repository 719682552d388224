/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The serial protocol between memory_tracer (host) and the guest helper
 * run_executables_from_serial, over one guest tty: /dev/ttyS0 (the first
 * 16550 UART, what user-made images use) or /dev/hvc0 (a virtio console,
 * what the embedded guest uses: ~200x faster under TCG).  On the host it is
 * always a unix-socket chardev of QEMU.
 *
 * The helper sits in the saved snapshot blocked on a read of the tty (raw
 * mode: no echo, no CR/LF translation, 8 bits clean).  The host uploads the
 * two executables, the helper runs executable1 with the tty as its stdin,
 * stdout and stderr, and then reports how it ended.  The channel carries
 * nothing else: the guest's console and the helper's own status lines are
 * on ttyS1.
 *
 * One exchange, in order:
 *
 *   host -> guest   "MTSYNC <nonce>\n"
 *                   nonce = 16 lowercase hex digits, fresh per run.  The
 *                   helper scans its input for "MTSYNC " and ignores any
 *                   bytes before it (line noise, a half-sent earlier run).
 *   guest -> host   "\x1eMT HELLO <nonce> <version>\n"
 *   for index 1 (executable1) then 2 (executable2):
 *     host -> guest "MTFILE <index> <size> <crc32>\n" then exactly <size>
 *                   raw bytes.  size is decimal (0 allowed: no file is
 *                   written), crc32 is 8 lowercase hex digits (IEEE CRC-32,
 *                   as zlib's crc32()).
 *     guest -> host "\x1eMT ACK <index> <size> <crc32>\n"   file written, or
 *                   "\x1eMT NAK <index> <reason>\n"          and the helper
 *                   goes back to waiting for MTSYNC.  Reasons: checksum,
 *                   bad-header, too-large, write-error.
 *                   An MTSYNC line in place of a header restarts the
 *                   exchange (the host may re-sync before any upload).
 *   guest -> host   the workload's own output, unframed
 *   guest -> host   "\x1eMT EXIT <nonce> exit <status>\n" or
 *                   "\x1eMT EXIT <nonce> signal <signo>\n"
 *                   after executable1 has exited.  It may follow workload
 *                   output that does not end in a newline, so it can start
 *                   mid-line; the nonce makes it unforgeable by accident.
 *
 * Guest-to-host messages are "frames": a line that starts with the record
 * separator byte 0x1E followed by "MT ".  Everything else is workload output
 * and goes to the run's transcript.  A 0x1E the workload prints that does
 * not start a well-formed frame is passed through as output.
 *
 * After the EXIT frame the helper waits for the next MTSYNC, so one booted
 * guest can run several workloads (memory_tracer restores the snapshot for
 * every run anyway).
 *
 * This header only defines: the constants, the frame type and the
 * prototypes.  The code is lib/serial_protocol.c, plain C11 with no
 * dependencies beyond libc, linked into both the static (musl) guest helper
 * and the host library.
 */
#ifndef MEMORY_TRACER_SERIAL_PROTOCOL_H
#define MEMORY_TRACER_SERIAL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_PROTOCOL_VERSION 1

#define MT_SYNC_PREFIX "MTSYNC "
#define MT_FILE_PREFIX "MTFILE "
#define MT_FRAME_START '\x1e'
#define MT_FRAME_PREFIX "\x1eMT "
#define MT_FRAME_PREFIX_LEN 4

#define MT_NONCE_LEN 16
/* Longest frame or header line, newline included. */
#define MT_LINE_MAX 128
/* Largest file the helper accepts (it lands in the guest's tmpfs). */
#define MT_MAX_FILE_SIZE (1024ull * 1024 * 1024)

/* Where the helper writes the files, and the device it talks over. */
#define MT_GUEST_TTY "/dev/ttyS0"
#define MT_GUEST_EXECUTABLE1 "/tmp/executable1"
#define MT_GUEST_EXECUTABLE2 "/tmp/executable2"

/* ---- CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), table-driven ---- */

typedef struct MtCrc32Table {
    uint32_t t[256];
} MtCrc32Table;

void mt_crc32_table_init(MtCrc32Table *tab);

/* Continue a CRC: start with crc = 0, feed the data in any number of
 * pieces; the result equals zlib's crc32(0, data, len). */
uint32_t mt_crc32_update(const MtCrc32Table *tab, uint32_t crc,
                         const void *data, size_t len);

/* One-shot convenience (builds the table each call: for small inputs). */
uint32_t mt_crc32(const void *data, size_t len);

/* ---- small parsing helpers ---- */

bool mt_is_hex_lower(char c);

/* Parse exactly @n lowercase hex digits at @s into *@out. */
bool mt_parse_hex(const char *s, size_t n, uint64_t *out);

/* Parse a decimal number (1..20 digits, no sign, no leading junk) at *@s,
 * advancing *@s past it.  Rejects overflow. */
bool mt_parse_dec(const char **s, uint64_t *out);

bool mt_nonce_valid(const char *nonce);

/* ---- host -> guest lines ---- */

/* "MTSYNC <nonce>\n".  Returns the length, or -1 if @buf is too small. */
int mt_format_sync(char *buf, size_t size, const char *nonce);

/* "MTFILE <index> <size> <crc>\n" */
int mt_format_file_header(char *buf, size_t size,
                          unsigned index, uint64_t file_size,
                          uint32_t crc);

/* Parse a file header line (without its '\n'). */
bool mt_parse_file_header(const char *line, unsigned *index,
                          uint64_t *file_size, uint32_t *crc);

/* ---- guest -> host frames ---- */

typedef enum MtFrameKind {
    MT_FRAME_HELLO,
    MT_FRAME_ACK,
    MT_FRAME_NAK,
    MT_FRAME_EXIT,
} MtFrameKind;

typedef struct MtFrame {
    MtFrameKind kind;
    char nonce[MT_NONCE_LEN + 1];   /* HELLO, EXIT */
    unsigned version;               /* HELLO */
    unsigned index;                 /* ACK, NAK */
    uint64_t size;                  /* ACK */
    uint32_t crc;                   /* ACK */
    char reason[32];                /* NAK */
    bool signaled;                  /* EXIT: killed by signal @status */
    int status;                     /* EXIT: exit status or signal number */
} MtFrame;

int mt_format_hello(char *buf, size_t size, const char *nonce);

int mt_format_ack(char *buf, size_t size, unsigned index,
                  uint64_t file_size, uint32_t crc);

int mt_format_nak(char *buf, size_t size, unsigned index,
                  const char *reason);

int mt_format_exit(char *buf, size_t size, const char *nonce,
                   bool signaled, int status);

/*
 * Parse one frame: @line points at the 0x1E and has @len bytes, without the
 * trailing '\n' (it must not contain one).  Returns false for anything not
 * well formed, which the host then treats as workload output.
 */
bool mt_parse_frame(const char *line, size_t len, MtFrame *f);

#endif /* MEMORY_TRACER_SERIAL_PROTOCOL_H */
