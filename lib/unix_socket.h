/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connecting to a unix socket that a starting server (QEMU's QMP monitor
 * and its serial chardev) has not created yet: retry while the path is
 * missing or refuses, until a deadline.  The callers word the errors in
 * their own domain; this only says which step failed and errno's value.
 */
#ifndef MEMORY_TRACER_UNIX_SOCKET_H
#define MEMORY_TRACER_UNIX_SOCKET_H

#include <glib.h>

typedef enum {
    UNIX_CONNECT_OK,
    UNIX_CONNECT_TOO_LONG,      /* @path does not fit a sockaddr_un */
    UNIX_CONNECT_SOCKET,        /* socket() failed */
    UNIX_CONNECT_FAILED,        /* connect() failed for good */
    UNIX_CONNECT_TIMED_OUT,     /* still missing or refusing at @deadline */
} UnixConnectResult;

/*
 * Connect a stream socket (close-on-exec) to @path, retrying every 20 ms
 * until @deadline (g_get_monotonic_time()'s clock).  On success *@fd is
 * the descriptor; otherwise *@error_number is the failed call's errno
 * (for a time-out, the last connect()'s).
 */
UnixConnectResult unix_socket_connect(const char *path, gint64 deadline,
                                      int *fd, int *error_number);

#endif /* MEMORY_TRACER_UNIX_SOCKET_H */
