/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The serial protocol's framing, CRC and parsers (the specification is in
 * include/memory_tracer/serial_protocol.h).  Plain C11 and libc only: it is
 * compiled into the static guest helper as well as the host library.
 */
#include "memory_tracer/serial_protocol.h"

#include <stdio.h>
#include <string.h>

void mt_crc32_table_init(MtCrc32Table *tab)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        tab->t[i] = c;
    }
}

uint32_t mt_crc32_update(const MtCrc32Table *tab, uint32_t crc,
                         const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (len--) {
        crc = tab->t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t mt_crc32(const void *data, size_t len)
{
    MtCrc32Table tab;
    mt_crc32_table_init(&tab);
    return mt_crc32_update(&tab, 0, data, len);
}

bool mt_is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool mt_parse_hex(const char *s, size_t n, uint64_t *out)
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

bool mt_parse_dec(const char **s, uint64_t *out)
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

bool mt_nonce_valid(const char *nonce)
{
    for (size_t i = 0; i < MT_NONCE_LEN; i++) {
        if (!mt_is_hex_lower(nonce[i])) {
            return false;
        }
    }
    return nonce[MT_NONCE_LEN] == '\0';
}

int mt_format_sync(char *buf, size_t size, const char *nonce)
{
    int n = snprintf(buf, size, MT_SYNC_PREFIX "%s\n", nonce);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int mt_format_file_header(char *buf, size_t size,
                          unsigned index, uint64_t file_size,
                          uint32_t crc)
{
    int n = snprintf(buf, size, MT_FILE_PREFIX "%u %llu %08x\n", index,
                     (unsigned long long)file_size, (unsigned)crc);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

bool mt_parse_file_header(const char *line, unsigned *index,
                          uint64_t *file_size, uint32_t *crc)
{
    const char *p = line;
    uint64_t idx, sz, c;
    if (strncmp(p, MT_FILE_PREFIX, strlen(MT_FILE_PREFIX)) != 0) {
        return false;
    }
    p += strlen(MT_FILE_PREFIX);
    if (!mt_parse_dec(&p, &idx) || *p++ != ' ' || idx < 1 ||
        idx > MT_INDEX_MAX) {
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

int mt_format_entry_header(char *buf, size_t size, const MtEntry *e)
{
    int n = snprintf(buf, size, MT_ENTRY_PREFIX "%c %04o %llu %08x %zu\n",
                     e->type, e->mode & 07777, (unsigned long long)e->size,
                     (unsigned)e->crc, e->path_len);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

bool mt_parse_entry_header(const char *line, MtEntry *e)
{
    const char *p = line;
    uint64_t sz, c, plen;
    unsigned mode = 0;
    if (strncmp(p, MT_ENTRY_PREFIX, strlen(MT_ENTRY_PREFIX)) != 0) {
        return false;
    }
    p += strlen(MT_ENTRY_PREFIX);
    char type = *p++;
    if ((type != 'f' && type != 'd' && type != 'l') || *p++ != ' ') {
        return false;
    }
    for (int i = 0; i < 4; i++, p++) {
        if (*p < '0' || *p > '7') {
            return false;
        }
        mode = mode << 3 | (unsigned)(*p - '0');
    }
    if (*p++ != ' ' || !mt_parse_dec(&p, &sz) || *p++ != ' ' ||
        !mt_parse_hex(p, 8, &c) || p[8] != ' ') {
        return false;
    }
    p += 9;
    if (!mt_parse_dec(&p, &plen) || *p != '\0' || plen == 0 ||
        plen > MT_ENTRY_PATH_MAX || (type == 'd' && sz != 0) ||
        (type == 'l' && sz > MT_ENTRY_PATH_MAX)) {
        return false;
    }
    e->type = type;
    e->mode = mode;
    e->size = sz;
    e->crc = (uint32_t)c;
    e->path_len = (size_t)plen;
    return true;
}

bool mt_entry_path_safe(const char *path, size_t len)
{
    if (len == 0 || len > MT_ENTRY_PATH_MAX || path[0] == '/' ||
        memchr(path, '\0', len) != NULL) {
        return false;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/') {
            continue;
        }
        size_t n = i - start;
        if (n == 0 || (n == 1 && path[start] == '.') ||
            (n == 2 && path[start] == '.' && path[start + 1] == '.')) {
            return false;
        }
        start = i + 1;
    }
    return true;
}

int mt_split_args(char *data, size_t len, char **argv, int max)
{
    int n = 0;
    size_t start = 0;
    if (len > 0 && data[len - 1] != '\0') {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\0') {
            if (argv && n < max) {
                argv[n] = data + start;
            }
            n++;
            start = i + 1;
        }
    }
    return n;
}

int mt_format_hello(char *buf, size_t size, const char *nonce,
                    uint64_t free_bytes)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "HELLO %s %u %llu\n", nonce,
                     MT_PROTOCOL_VERSION, (unsigned long long)free_bytes);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int mt_format_ack(char *buf, size_t size, unsigned index,
                  uint64_t file_size, uint32_t crc)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "ACK %u %llu %08x\n", index,
                     (unsigned long long)file_size, (unsigned)crc);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int mt_format_nak(char *buf, size_t size, unsigned index,
                  const char *reason)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "NAK %u %s\n", index, reason);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int mt_format_data(char *buf, size_t size, const char *nonce,
                   uint64_t data_size, uint32_t crc)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "DATA %s %llu %08x\n", nonce,
                     (unsigned long long)data_size, (unsigned)crc);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

int mt_format_exit(char *buf, size_t size, const char *nonce,
                   bool signaled, int status)
{
    int n = snprintf(buf, size, MT_FRAME_PREFIX "EXIT %s %s %d\n", nonce,
                     signaled ? "signal" : "exit", status);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static bool mt_parse_nonce_at(const char **s, char *nonce)
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

bool mt_parse_frame(const char *line, size_t len, MtFrame *f)
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
            !mt_parse_dec(&p, &v) || v > 0xffff) {
            return false;
        }
        f->version = (unsigned)v;
        /* Version 1 ends here; later ones say how much room there is. */
        if (*p == ' ') {
            p++;
            if (!mt_parse_dec(&p, &f->free_bytes)) {
                return false;
            }
        }
        return *p == '\0';
    }
    if (strncmp(p, "ACK ", 4) == 0) {
        p += 4;
        f->kind = MT_FRAME_ACK;
        if (!mt_parse_dec(&p, &v) || *p++ != ' ' || v < 1 ||
            v > MT_INDEX_MAX) {
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
        if (!mt_parse_dec(&p, &v) || *p++ != ' ' || v > MT_INDEX_MAX) {
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
    if (strncmp(p, "DATA ", 5) == 0) {
        p += 5;
        f->kind = MT_FRAME_DATA;
        if (!mt_parse_nonce_at(&p, f->nonce) || *p++ != ' ' ||
            !mt_parse_dec(&p, &f->size) || f->size > MT_DATA_CHUNK ||
            *p++ != ' ' || !mt_parse_hex(p, 8, &v) || p[8] != '\0') {
            return false;
        }
        f->crc = (uint32_t)v;
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
