/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "child_output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void child_output_init(ChildOutput *o, int fd)
{
    memset(o, 0, sizeof(*o));
    o->fd = fd;
    o->text = g_string_new(NULL);
    if (fd >= 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
}

void child_output_pump(ChildOutput *o)
{
    char buf[65536];
    while (o->fd >= 0 && !o->eof) {
        ssize_t n = read(o->fd, buf, sizeof(buf));
        if (n > 0) {
            g_string_append_len(o->text, buf, n);
        } else if (n == 0) {
            o->eof = true;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN) {
                o->eof = true;
            }
            break;
        }
    }
}

bool child_output_find(ChildOutput *o, const char *text, char **before,
                       gsize *before_len)
{
    /* memmem, not a string search: the output may hold NUL bytes (a
     * workload writing binary data), and what precedes the marker is
     * kept whole. */
    const char *start = o->text->str + o->pos;
    const char *hit = memmem(start, o->text->len - o->pos, text,
                             strlen(text));
    if (!hit) {
        return false;
    }
    if (before) {
        *before = g_memdup2(start, hit - start + 1);
        (*before)[hit - start] = '\0';
    }
    if (before_len) {
        *before_len = hit - start;
    }
    o->pos = (hit - o->text->str) + strlen(text);
    return true;
}

void child_output_clear(ChildOutput *o)
{
    if (o->fd >= 0) {
        close(o->fd);
    }
    if (o->text) {
        g_string_free(o->text, TRUE);
    }
    memset(o, 0, sizeof(*o));
    o->fd = -1;
}
