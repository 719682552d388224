/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

UnixConnectResult unix_socket_connect(const char *path, gint64 deadline,
                                      int *fd, int *error_number)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    *fd = -1;
    *error_number = 0;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        *error_number = ENAMETOOLONG;
        return UNIX_CONNECT_TOO_LONG;
    }
    strcpy(addr.sun_path, path);
    for (;;) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            *error_number = errno;
            return UNIX_CONNECT_SOCKET;
        }
        if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            *fd = s;
            return UNIX_CONNECT_OK;
        }
        int e = errno;
        close(s);
        *error_number = e;
        /* Not there yet, or not listening yet: the server is starting. */
        if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN) {
            return UNIX_CONNECT_FAILED;
        }
        if (g_get_monotonic_time() >= deadline) {
            return UNIX_CONNECT_TIMED_OUT;
        }
        g_usleep(20 * 1000);
    }
}
