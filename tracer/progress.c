/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "progress.h"

#include <stdio.h>

#include "msg.h"

/* How long one query may take: the run's short QMP commands' limit. */
#define QUERY_US (30 * G_USEC_PER_SEC)

void progress_start(Progress *p, bool on, QmpClient *qmp, gint64 start)
{
    *p = (Progress) {
        .on = on,
        .qmp = qmp,
        .start = start,
        .next = g_get_monotonic_time() + 2 * G_USEC_PER_SEC,
    };
}

void progress_tick(Progress *p)
{
    gint64 now = g_get_monotonic_time();
    if (!p->on || now < p->next) {
        return;
    }
    p->next = now + G_USEC_PER_SEC;
    g_autoptr(GError) err = NULL;
    JsonObject *q = qmp_query_object(p->qmp, "query-gmbeoo",
                                     now + QUERY_US, &err);
    if (!q) {
        return;
    }
    guint64 records = json_object_get_int_member_with_default(
        q, "written-to-output", 0);
    json_object_unref(q);
    /* The rate since the last look, or since tracing began. */
    gint64 since = p->last_time ? p->last_time : p->start;
    double rate = (double)(records - p->last_records) * G_USEC_PER_SEC /
                  (double)MAX(now - since, 1);
    p->last_records = records;
    p->last_time = now;
    fprintf(stderr, "\r\033[K%s: tracing for %" G_GINT64_FORMAT
            " s, %" G_GUINT64_FORMAT " records so far (%.3g %srecords/s)",
            msg_program(), (now - p->start) / G_USEC_PER_SEC, records,
            rate >= 1e6 ? rate / 1e6 : rate >= 1e3 ? rate / 1e3 : rate,
            rate >= 1e6 ? "M " : rate >= 1e3 ? "k " : "");
    p->shown = true;
}

void progress_end(Progress *p)
{
    if (p->shown) {
        fprintf(stderr, "\r\033[K");
    }
}
