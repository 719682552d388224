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
 * One exchange, in order (protocol version 2):
 *
 *   host -> guest   "MTSYNC <nonce>\n"
 *                   nonce = 16 lowercase hex digits, fresh per run.  The
 *                   helper scans its input for "MTSYNC " and ignores any
 *                   bytes before it (line noise, a half-sent earlier run).
 *                   The helper makes a fresh working directory for the run
 *                   (DIR/mt-work-XXXXXX, DIR = /tmp in the guest).
 *   guest -> host   "\x1eMT HELLO <nonce> <version> <free>\n"
 *                   free = bytes free in the working directory's file
 *                   system (the guest's tmpfs), decimal.
 *   for index 1, 2, 3, 4 in this order:
 *     host -> guest "MTFILE <index> <size> <crc32>\n" then exactly <size>
 *                   raw bytes.  size is decimal (0 allowed), crc32 is 8
 *                   lowercase hex digits (IEEE CRC-32, as zlib's crc32())
 *                   of the payload.  The payloads:
 *                   1  executable1, written to DIR/executable1 (mode 0755)
 *                   2  executable2, written to WORKDIR/executable2 (0755;
 *                      size 0: no file)
 *                   3  the workload's arguments (argv[1...]): each one
 *                      followed by a NUL byte; at most MT_MAX_ARGS_SIZE
 *                   4  files for the working directory: an archive stream
 *                      of entries (below), unpacked into WORKDIR
 *     guest -> host "\x1eMT ACK <index> <size> <crc32>\n"   payload taken, or
 *                   "\x1eMT NAK <index> <reason>\n"          and the helper
 *                   goes back to waiting for MTSYNC.  Reasons: checksum,
 *                   bad-header, too-large, write-error, bad-archive,
 *                   no-space.
 *                   An MTSYNC line in place of a header restarts the
 *                   exchange (the host may re-sync before any upload).
 *   the helper runs DIR/executable1 ARG... in WORKDIR, with the tty as its
 *   stdin, stdout and stderr and descriptor 3 open on a spool file in DIR
 *   (unlinked): the communications wrapper sends the workload's stdout and
 *   stderr there, so that a workload's output costs neither channel time
 *   nor traced tty work inside the traced region.
 *   guest -> host   the workload's own output on the tty, unframed
 *   guest -> host   after executable1 has exited, the spool's contents, in
 *                   pieces of at most MT_DATA_CHUNK bytes:
 *                   "\x1eMT DATA <nonce> <size> <crc32>\n" + <size> bytes
 *   host -> guest   "MTDACK ok\n" (piece taken) or "MTDACK bad\n" (CRC
 *                   mismatch: the helper sends the same piece again, a few
 *                   times at most).  The helper sends a piece only once the
 *                   previous one is acknowledged: QEMU's virtio console
 *                   drops what the host does not read in time, so no more
 *                   than one piece may be in flight.  Lines other than
 *                   MTDACK (an Enter the workload left unread) are skipped.
 *   guest -> host   "\x1eMT EXIT <nonce> exit <status>\n" or
 *                   "\x1eMT EXIT <nonce> signal <signo>\n"
 *                   DATA and EXIT may follow workload output that does not
 *                   end in a newline, so they can start mid-line; the nonce
 *                   makes them unforgeable by accident.
 *
 * The archive (payload 4) is a sequence of entries, parents before their
 * contents, each
 *   "MTENTRY <type> <mode> <size> <crc32> <pathlen>\n" <path> <data>
 * type: f (regular file: data = its bytes), d (directory: size 0), l
 * (symbolic link: data = its target); mode: 4 octal digits (permission
 * bits); path: <pathlen> bytes, relative to WORKDIR, '/'-separated, no
 * empty, "." or ".." component, no NUL, not absolute; crc32 of the data.
 * An existing entry of the same path is replaced.
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

#define MT_PROTOCOL_VERSION 2

#define MT_SYNC_PREFIX "MTSYNC "
#define MT_FILE_PREFIX "MTFILE "
#define MT_FRAME_START '\x1e'
#define MT_FRAME_PREFIX "\x1eMT "
#define MT_FRAME_PREFIX_LEN 4

#define MT_NONCE_LEN 16
/* Longest frame or header line, newline included. */
#define MT_LINE_MAX 128
/* Largest payload the helper accepts (it lands in the guest's tmpfs). */
#define MT_MAX_FILE_SIZE (1024ull * 1024 * 1024)
/* Largest argument payload (Linux's ARG_MAX is 2 MiB with the
 * environment). */
#define MT_MAX_ARGS_SIZE (1024u * 1024)
/* Largest DATA frame payload: well below a unix socket's buffer, which
 * is all QEMU can hold for a host that is slow to read. */
#define MT_DATA_CHUNK (64u * 1024)
#define MT_DATA_ACK_OK "MTDACK ok\n"
#define MT_DATA_ACK_BAD "MTDACK bad\n"
/* Payload indexes of MTFILE. */
#define MT_INDEX_EXECUTABLE1 1
#define MT_INDEX_EXECUTABLE2 2
#define MT_INDEX_ARGS 3
#define MT_INDEX_FILES 4
#define MT_INDEX_MAX 4
/* Longest archive entry path. */
#define MT_ENTRY_PATH_MAX 4096
#define MT_ENTRY_PREFIX "MTENTRY "

/* Where the helper writes the files, and the device it talks over. */
#define MT_GUEST_TTY "/dev/ttyS0"
#define MT_GUEST_EXECUTABLE1 "/tmp/executable1"
#define MT_GUEST_EXECUTABLE2 "/tmp/executable2"   /* protocol 1 */
#define MT_WORKDIR_PREFIX "mt-work-"

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

/* ---- the archive of payload 4 ---- */

typedef struct MtEntry {
    char type;                  /* 'f', 'd' or 'l' */
    unsigned mode;              /* permission bits, 07777 at most */
    uint64_t size;
    uint32_t crc;
    size_t path_len;
} MtEntry;

/* "MTENTRY <type> <mode> <size> <crc> <pathlen>\n" (the path follows). */
int mt_format_entry_header(char *buf, size_t size, const MtEntry *e);

/* Parse an entry header line (without its '\n'). */
bool mt_parse_entry_header(const char *line, MtEntry *e);

/* A relative path that stays inside the directory: not empty, not
 * absolute, no empty, "." or ".." component, no NUL, at most
 * MT_ENTRY_PATH_MAX bytes. */
bool mt_entry_path_safe(const char *path, size_t len);

/* ---- guest -> host frames ---- */

typedef enum MtFrameKind {
    MT_FRAME_HELLO,
    MT_FRAME_ACK,
    MT_FRAME_NAK,
    MT_FRAME_EXIT,
    MT_FRAME_DATA,
} MtFrameKind;

typedef struct MtFrame {
    MtFrameKind kind;
    char nonce[MT_NONCE_LEN + 1];   /* HELLO, EXIT, DATA */
    unsigned version;               /* HELLO */
    uint64_t free_bytes;            /* HELLO (version 2) */
    unsigned index;                 /* ACK, NAK */
    uint64_t size;                  /* ACK, DATA */
    uint32_t crc;                   /* ACK, DATA */
    char reason[32];                /* NAK */
    bool signaled;                  /* EXIT: killed by signal @status */
    int status;                     /* EXIT: exit status or signal number */
} MtFrame;

int mt_format_hello(char *buf, size_t size, const char *nonce,
                    uint64_t free_bytes);

int mt_format_ack(char *buf, size_t size, unsigned index,
                  uint64_t file_size, uint32_t crc);

int mt_format_nak(char *buf, size_t size, unsigned index,
                  const char *reason);

int mt_format_exit(char *buf, size_t size, const char *nonce,
                   bool signaled, int status);

int mt_format_data(char *buf, size_t size, const char *nonce,
                   uint64_t data_size, uint32_t crc);

/* ---- the arguments of payload 3 ---- */

/* Split @len bytes of NUL-terminated arguments; returns the count, or -1
 * if the payload does not end in a NUL.  @argv (may be NULL) receives
 * pointers into @data, at most @max of them. */
int mt_split_args(char *data, size_t len, char **argv, int max);

/*
 * Parse one frame: @line points at the 0x1E and has @len bytes, without the
 * trailing '\n' (it must not contain one).  Returns false for anything not
 * well formed, which the host then treats as workload output.
 */
bool mt_parse_frame(const char *line, size_t len, MtFrame *f);

#endif /* MEMORY_TRACER_SERIAL_PROTOCOL_H */
