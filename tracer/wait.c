/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wait.h"

#include <gio/gio.h>
#include <poll.h>
#include <stdarg.h>

#include "runtime.h"

void wait_progress(Wait *w)
{
    w->deadline = g_get_monotonic_time() + w->span_us;
}

void wait_detail(Wait *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(w->detail);
    w->detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static void step(Wait *w)
{
    if (w->idle) {
        w->idle(w->data);
    }
    if (w->step_us <= 0) {
        return;
    }
    if (w->wake_fd < 0) {
        g_usleep(w->step_us);
        return;
    }
    struct pollfd p[2] = {
        { .fd = w->wake_fd, .events = POLLIN },
        { .fd = runtime_signal_fd(), .events = POLLIN },
    };
    poll(p, 2, (int)(w->step_us / 1000));
}

static bool wait_loop(Wait *w, GError **err)
{
    wait_progress(w);
    for (;;) {
        WaitPoll r = w->poll(w, w->data, err);
        if (r != WAIT_PENDING) {
            return r == WAIT_DONE;
        }
        if (w->watch && !w->watch(w->watch_ctx, w->what, err)) {
            if (w->recheck && w->poll(w, w->data, NULL) == WAIT_DONE) {
                g_clear_error(err);
                return true;
            }
            return false;
        }
        if (g_get_monotonic_time() >= w->deadline) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "timed out after %.0f s waiting for %s",
                        (double)w->span_us / G_USEC_PER_SEC,
                        w->detail ? w->detail : w->what);
            return false;
        }
        step(w);
    }
}

bool wait_until(Wait *w, GError **err)
{
    bool ok = wait_loop(w, err);
    g_clear_pointer(&w->detail, g_free);
    return ok;
}
