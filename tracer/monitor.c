/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "monitor.h"

#include <gio/gio.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "runtime.h"

bool monitor_interact(QmpClient *qmp, Child *qemu, GError **err)
{
    bool tty = isatty(STDIN_FILENO);
    error_msg("QEMU is still running (the guest is paused; `cont` resumes "
              "it).  Type HMP monitor commands; `quit` or end of input "
              "finishes.");
    char *line = NULL;
    size_t cap = 0;
    bool ok = true;
    for (;;) {
        if (tty) {
            fputs("(qemu) ", stderr);
            fflush(stderr);
        }
        errno = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (runtime_interrupted()) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                clearerr(stdin);
                continue;
            }
            break;
        }
        g_strstrip(line);
        if (line[0] == '\0') {
            continue;
        }
        if (strcmp(line, "quit") == 0 || strcmp(line, "q") == 0) {
            break;
        }
        if (!child_alive(qemu)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "QEMU exited during the monitor session");
            ok = false;
            break;
        }
        g_autofree char *out = NULL;
        g_autoptr(GError) e = NULL;
        if (!qmp_hmp(qmp, line, g_get_monotonic_time() + 60 * G_USEC_PER_SEC,
                     &out, &e)) {
            error_msg("%s", e->message);
            continue;
        }
        for (char *p = out; *p; p++) {
            if (*p != '\r') {
                fputc(*p, stdout);
            }
        }
        fflush(stdout);
    }
    free(line);
    return ok;
}
