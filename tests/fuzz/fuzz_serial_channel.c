/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: lib/serial.c's receive path -- bytes from the guest
 * (workload output mixed with 0x1E frames, split at arbitrary points) fed
 * through serial_channel_feed(), then the calls the session makes on them.
 * The first input byte chooses the chunk size.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        return 0;
    }
    SerialChannel *ch = serial_channel_new(sv[0], NULL);
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        serial_channel_feed(ch, data + off, n);
    }
    gsize len;
    (void)serial_transcript(ch, &len);
    SerialExit ex;
    (void)serial_exit_status(ch, &ex);
    /* The peer end is closed: the expect sees EOF (or an exit trailer, or
     * the marker in what was fed) at once instead of waiting. */
    close(sv[1]);
    GString *before = g_string_new(NULL);
    GError *err = NULL;
    (void)serial_expect(ch, "Stop tracing", g_get_monotonic_time(), before,
                        &err);
    g_clear_error(&err);
    g_string_free(before, TRUE);
    serial_channel_free(ch);
    return 0;
}
