/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one wait loop of a run: look (poll), and until it is done, check the
 * watch (a stop signal, a dead child), the deadline, then take one step
 * (sleep, or poll a descriptor).  Every wait has a deadline and a name:
 *
 *   "timed out after N s waiting for <what>"
 *
 * where a poll may replace <what> with a more precise text (wait_detail():
 * counters, the last error).  wait_progress() restarts the deadline for a
 * wait that is slow but moving (a big ring draining into a slow reader).
 */
#ifndef MEMORY_TRACER_WAIT_H
#define MEMORY_TRACER_WAIT_H

#include <glib.h>
#include <stdbool.h>

typedef enum {
    WAIT_FAILED = -1,           /* give up; the poll set the error */
    WAIT_PENDING = 0,           /* look again after a step */
    WAIT_DONE = 1,
} WaitPoll;

typedef struct Wait Wait;
struct Wait {
    const char *what;           /* what is awaited, for messages */
    gint64 span_us;             /* deadline, from the start or the last
                                 * wait_progress() */
    gint64 step_us;             /* between looks; 0: the poll itself blocks */
    int wake_fd;                /* a step ends early when it is readable (a
                                 * stop signal always ends it); -1: none */
    WaitPoll (*poll)(Wait *w, void *data, GError **err);
    void *data;
    /* Between looks, instead of sleeping: may be NULL. */
    void (*idle)(void *data);
    /* Fails the wait when something else went wrong (signal, dead child);
     * NULL: nothing to watch.  @recheck: a result that arrived with the
     * failure still counts (look once more). */
    bool (*watch)(void *ctx, const char *what, GError **err);
    void *watch_ctx;
    bool recheck;

    /* Kept by wait_until(). */
    gint64 deadline;
    char *detail;
};

/* Wait as @w says; false with @err on failure, time-out or watch. */
bool wait_until(Wait *w, GError **err);

/* The wait is moving: its deadline starts again from now. */
void wait_progress(Wait *w);

/* The time-out message names this instead of @what. */
void wait_detail(Wait *w, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif /* MEMORY_TRACER_WAIT_H */
