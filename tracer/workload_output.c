/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "workload_output.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool workload_output_open(WorkloadOutput *w, const Options *o,
                          const char *dir, GError **err)
{
    w->fd = -1;
    w->path = o->workload_output_path
              ? g_strdup(o->workload_output_path)
              : g_build_filename(dir, "workload_output", NULL);
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 o->workload_output_path ? 0644 : 0600);
    if (w->fd < 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot write the workload's output to %s: %s", w->path,
                    g_strerror(errno));
        return false;
    }
    return true;
}

void workload_output_marker_seen(WorkloadOutput *w)
{
    w->after_marker = true;
}

void workload_output_write(WorkloadOutput *w, const char *data, gsize len)
{
    if (w->after_marker && len > 0) {
        w->after_marker = false;
        if (len >= 2 && data[0] == '\r' && data[1] == '\n') {
            data += 2, len -= 2;
        } else if (data[0] == '\n') {
            data++, len--;
        }
    }
    while (w->fd >= 0 && len > 0) {
        ssize_t n = write(w->fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        data += n;
        len -= (gsize)n;
    }
}

char *workload_output_tail(const WorkloadOutput *w, unsigned lines)
{
    if (!w->path) {
        return NULL;
    }
    int fd = open(w->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    char buf[65536];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
    ssize_t n = end > 0 ? pread(fd, buf, (size_t)(end - start), start) : 0;
    close(fd);
    if (n <= 0) {
        return NULL;
    }
    gsize len = (gsize)n;
    while (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (len == 0) {
        return NULL;
    }
    gsize from = len;
    unsigned seen = 0;
    while (from > 0) {
        if (buf[from - 1] == '\n' && ++seen == lines) {
            break;
        }
        from--;
    }
    return g_strndup(buf + from, len - from);
}

void workload_output_show_tail(const WorkloadOutput *w)
{
    g_autofree char *tail = workload_output_tail(w,
                                                 WORKLOAD_OUTPUT_TAIL_LINES);
    if (tail) {
        fprintf(stderr, "%s\n", tail);
        fflush(stderr);
    }
}

void workload_output_close(WorkloadOutput *w)
{
    if (w->fd >= 0) {
        close(w->fd);
    }
    w->fd = -1;
    g_clear_pointer(&w->path, g_free);
}
