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
 * This header is plain C11 with no dependencies beyond libc: the static
 * (musl) guest helper and the GLib host code both include it.
 */
#ifndef MEMORY_TRACER_SERIAL_PROTOCOL_H
#define MEMORY_TRACER_SERIAL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

static inline void mt_crc32_table_init(MtCrc32Table *tab)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        tab->t[i] = c;
    }
}

/* Continue a CRC: start with crc = 0, feed the data in any number of
 * pieces; the result equals zlib's crc32(0, data, len). */
static inline uint32_t mt_crc32_update(const MtCrc32Table *tab, uint32_t crc,
                                       const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (len--) {
        crc = tab->t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

/* One-shot convenience (builds the table each call: for small inputs). */
static inline uint32_t mt_crc32(const void *data, size_t len)
{
    MtCrc32Table tab;
    mt_crc32_table_init(&tab);
    return mt_crc32_update(&tab, 0, data, len);
}

/* ---- small parsing helpers ---- */

static inline bool mt_is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Parse exactly @n lowercase hex digits at @s into *@out. */
static inline bool mt_parse_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!mt_is_hex_lower(c)) {
            return false;
        }
        v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    *out = v;
    return true;
}

/* Parse a decimal number (1..20 digits, no sign, no leading junk) at *@s,
 * advancing *@s past it.  Rejects overflow. */
static inline bool mt_parse_dec(const char **s, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    size_t n = 0;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        p++;
        n++;
    }
    if (n == 0 || n > 20) {
        return false;
    }
    *s = p;
    *out = v;
    return true;
}

static inline bool mt_nonce_valid(const char *nonce)
{
    for (size_t i = 0; i < MT_NONCE_LEN; i++) {
        if (!mt_is_hex_lower(nonce[i])) {
            return false;
        }
    }
    return nonce[MT_NONCE_LEN] == '\0';
}

/* ---- host -> guest lines ---- */

/* "MTSYNC <nonce>\n".  Returns the length, or -1 if @buf is too small. */
static inline int mt_format_sync(char *buf, size_t size, const char *nonce)
{
    int n = snprintf(buf, size, MT_SYNC_PREFIX "%s\n", nonce);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* "MTFILE <index> <size> <crc>\n" */
static inline int mt_format_file_header(char *buf, size_t size,
                                        unsigned index, uint64_t file_size,
                                        uint32_t crc)
{
    int n = snprintf(buf, size, MT_FILE_PREFIX "%u %llu %08x\n", index,
                     (unsigned long long)file_size, (unsigned)crc);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* Parse a file header line (without its '\n'). */
static inline bool mt_parse_file_header(const char *line, unsigned *index,
                                        uint64_t *file_size, uint32_t *crc)
{
    const char *p = line;
    uint64_t idx, sz, c;
    if (strncmp(p, MT_FILE_PREFIX, strlen(MT_FILE_PREFIX)) != 0) {
        return false;
    }
    p += strlen(MT_FILE_PREFIX);
    if (!mt_parse_dec(&p, &idx) || *p++ != ' ' || idx < 1 || idx > 2) {
        return false;
    }
    if (!mt_parse_dec(&p, &sz) || *p++ != ' ') {
        return false;
    }
    if (!mt_parse_hex(p, 8, &c) || p[8] != '\0') {
        return false;
    }
    *index = (unsigned)idx;
    *file_size = sz;
    *crc = (uint32_t)c;
    return true;
}

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

static inline int mt_format_hello(char *buf, size_t size, const char *nonce)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "HELLO %s %u\n", nonce,
                     MT_PROTOCOL_VERSION);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static inline int mt_format_ack(char *buf, size_t size, unsigned index,
                                uint64_t file_size, uint32_t crc)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "ACK %u %llu %08x\n", index,
                     (unsigned long long)file_size, (unsigned)crc);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static inline int mt_format_nak(char *buf, size_t size, unsigned index,
                                const char *reason)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "NAK %u %s\n", index, reason);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static inline int mt_format_exit(char *buf, size_t size, const char *nonce,
                                 bool signaled, int status)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "EXIT %s %s %d\n", nonce,
                     signaled ? "signal" : "exit", status);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static inline bool mt_parse_nonce_at(const char **s, char *nonce)
{
    uint64_t dummy;
    if (!mt_parse_hex(*s, MT_NONCE_LEN, &dummy)) {
        return false;
    }
    memcpy(nonce, *s, MT_NONCE_LEN);
    nonce[MT_NONCE_LEN] = '\0';
    *s += MT_NONCE_LEN;
    return true;
}

/*
 * Parse one frame: @line points at the 0x1E and has @len bytes, without the
 * trailing '\n' (it must not contain one).  Returns false for anything not
 * well formed, which the host then treats as workload output.
 */
static inline bool mt_parse_frame(const char *line, size_t len, MtFrame *f)
{
    char buf[MT_LINE_MAX + 1];
    const char *p;
    uint64_t v;

    if (len < MT_FRAME_PREFIX_LEN || len > MT_LINE_MAX ||
        memcmp(line, MT_FRAME_PREFIX, MT_FRAME_PREFIX_LEN) != 0 ||
        memchr(line, '\0', len) != NULL) {
        return false;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    p = buf + MT_FRAME_PREFIX_LEN;
    memset(f, 0, sizeof(*f));

    if (strncmp(p, "HELLO ", 6) == 0) {
        p += 6;
        f->kind = MT_FRAME_HELLO;
        if (!mt_parse_nonce_at(&p, f->nonce) || *p++ != ' ' ||
            !mt_parse_dec(&p, &v) || *p != '\0' || v > 0xffff) {
            return false;
        }
        f->version = (unsigned)v;
        return true;
    }
    if (strncmp(p, "ACK ", 4) == 0) {
        p += 4;
        f->kind = MT_FRAME_ACK;
        if (!mt_parse_dec(&p, &v) || *p++ != ' ' || v < 1 || v > 2) {
            return false;
        }
        f->index = (unsigned)v;
        if (!mt_parse_dec(&p, &f->size) || *p++ != ' ' ||
            !mt_parse_hex(p, 8, &v) || p[8] != '\0') {
            return false;
        }
        f->crc = (uint32_t)v;
        return true;
    }
    if (strncmp(p, "NAK ", 4) == 0) {
        p += 4;
        f->kind = MT_FRAME_NAK;
        if (!mt_parse_dec(&p, &v) || *p++ != ' ' || v > 2) {
            return false;
        }
        f->index = (unsigned)v;
        size_t rl = strlen(p);
        if (rl == 0 || rl >= sizeof(f->reason)) {
            return false;
        }
        for (size_t i = 0; i < rl; i++) {
            if (!((p[i] >= 'a' && p[i] <= 'z') || p[i] == '-')) {
                return false;
            }
        }
        memcpy(f->reason, p, rl + 1);
        return true;
    }
    if (strncmp(p, "EXIT ", 5) == 0) {
        p += 5;
        f->kind = MT_FRAME_EXIT;
        if (!mt_parse_nonce_at(&p, f->nonce) || *p++ != ' ') {
            return false;
        }
        if (strncmp(p, "exit ", 5) == 0) {
            f->signaled = false;
            p += 5;
        } else if (strncmp(p, "signal ", 7) == 0) {
            f->signaled = true;
            p += 7;
        } else {
            return false;
        }
        if (!mt_parse_dec(&p, &v) || *p != '\0' || v > 255) {
            return false;
        }
        f->status = (int)v;
        return true;
    }
    return false;
}

#endif /* MEMORY_TRACER_SERIAL_PROTOCOL_H */
