/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: QMP reply handling, qmp_message_parse() in
 * lib/qmp.c (one JSON object from QEMU: greeting, return, error, event).
 */
#include <assert.h>
#include <stdint.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QmpMessage msg = { 0 };
    GError *err = NULL;
    if (qmp_message_parse((const char *)data, (gssize)size, &msg, &err)) {
        assert(err == NULL);
        if (msg.kind == QMP_MSG_EVENT) {
            assert(msg.event != NULL);
        }
        qmp_message_clear(&msg);
    } else {
        assert(err != NULL);
        g_error_free(err);
    }
    return 0;
}
