/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: lib/qmp.c's receive path end to end -- a fake
 * QEMU on a unix socket sends the input (greeting, replies, events, split
 * lines, junk) and closes; the client connects, negotiates, runs a
 * command, waits for an event and runs an HMP command, as the session
 * does.  Every call must come back (EOF ends every wait) without a crash.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int listen_fd = -1;
static char sock_path[108];

typedef struct { const uint8_t *data; size_t size; } Feed;

static void *serve(void *arg)
{
    Feed *f = arg;
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    size_t off = 0;
    while (off < f->size) {
        ssize_t w = send(fd, f->data + off, f->size - off, MSG_NOSIGNAL);
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    /* Wait for the client to close, so it reads everything first. */
    char buf[4096];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
    return NULL;
}

static char *sock_dir;

static void cleanup(void)
{
    unlink(sock_path);
    rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sock_dir = g_dir_make_tmp("mt-fuzz-qmp.XXXXXX", NULL);
    snprintf(sock_path, sizeof(sock_path), "%s/qmp.sock", sock_dir);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, sock_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(listen_fd, 4) != 0) {
        perror("fuzz_qmp_client: listen");
        exit(1);
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Feed f = { data, size };
    pthread_t t;
    if (pthread_create(&t, NULL, serve, &f) != 0) {
        return 0;
    }
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    GError *err = NULL;
    QmpClient *c = qmp_connect(sock_path, deadline, &err);
    if (c) {
        JsonNode *r = qmp_execute(c, "query-status", NULL, deadline, &err);
        if (r) {
            json_node_unref(r);
        }
        g_clear_error(&err);
        JsonObject *ev = NULL;
        if (qmp_wait_event(c, "STOP", deadline, &ev, &err) && ev) {
            json_object_unref(ev);
        }
        g_clear_error(&err);
        char *out = NULL;
        if (qmp_hmp(c, "info status", deadline, &out, &err)) {
            g_free(out);
        }
        g_clear_error(&err);
        qmp_close(c);
    } else {
        g_clear_error(&err);
    }
    pthread_join(t, NULL);
    return 0;
}
