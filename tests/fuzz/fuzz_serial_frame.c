/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: the serial protocol's frame parsers
 * (include/memory_tracer/serial_protocol.h), as both sides use them.
 * Whatever parses must survive a format/parse round trip.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory_tracer/serial_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MtFrame f;
    char line[MT_LINE_MAX + 64];

    if (mt_parse_frame((const char *)data, size, &f)) {
        int n = -1;
        switch (f.kind) {
        case MT_FRAME_ACK:
            assert(f.index >= 1 && f.index <= MT_INDEX_MAX);
            n = mt_format_ack(line, sizeof(line), f.index, f.size, f.crc);
            break;
        case MT_FRAME_HELLO:
            assert(mt_nonce_valid(f.nonce));
            n = mt_format_hello(line, sizeof(line), f.nonce, f.free_bytes);
            break;
        case MT_FRAME_DATA:
            n = mt_format_data(line, sizeof(line), f.nonce, f.size, f.crc);
            break;
        case MT_FRAME_EXIT:
            n = mt_format_exit(line, sizeof(line), f.nonce, f.signaled,
                               f.status);
            break;
        default:
            break;
        }
        if (n > 0) {
            /* The formatters end the line in '\n'; the parser wants it off. */
            size_t len = (size_t)n;
            if (len && line[len - 1] == '\n') {
                len--;
            }
            MtFrame g;
            assert(mt_parse_frame(line, len, &g));
            assert(g.kind == f.kind && g.index == f.index &&
                   g.size == f.size && g.crc == f.crc &&
                   g.signaled == f.signaled && g.status == f.status &&
                   strcmp(g.nonce, f.nonce) == 0);
        }
    }

    /* The guest side parses NUL-terminated header lines. */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    unsigned index;
    uint64_t fsize;
    uint32_t crc;
    (void)mt_parse_file_header(s, &index, &fsize, &crc);
    MtEntry e;
    if (mt_parse_entry_header(s, &e)) {
        assert(e.path_len >= 1 && e.path_len <= MT_ENTRY_PATH_MAX);
    }
    (void)mt_entry_path_safe(s, size);
    const char *p = s;
    uint64_t v;
    (void)mt_parse_dec(&p, &v);
    (void)mt_parse_hex(s, size < 16 ? size : 16, &v);
    free(s);
    return 0;
}
