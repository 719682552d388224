/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every step of a run shares, below both the state machine
 * (session.c) and the steps (run_guest.c, run_trace.c): the run's watch,
 * waiting with a deadline under it, and QMP calls with the standard
 * deadline.  Nothing here calls a step or the state machine.
 *
 * The watch fails a wait when a stop signal arrived, QEMU died, the guest
 * died (reset, power-off or panic: QEMU pauses it, see connect_qmp()),
 * the analysis tool died (once started) or the trace file writer failed.
 */
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "run.h"
#include "runtime.h"

gint64 deadline_in(gint64 us)
{
    return g_get_monotonic_time() + us;
}

/* The last line of the guest console holding @needle, or NULL. */
static char *console_line(Session *s, const char *needle)
{
    g_autofree char *text = NULL;
    if (!s->vm.console_log ||
        !g_file_get_contents(s->vm.console_log, &text, NULL, NULL)) {
        return NULL;
    }
    char *hit = g_strrstr(text, needle);
    if (!hit) {
        return NULL;
    }
    char *end = strchr(hit, '\n');
    return g_strstrip(g_strndup(hit, end ? (gsize)(end - hit)
                                         : strlen(hit)));
}

/* --verbose: the guest console's last lines, for a guest that died. */
static void show_console_tail(Session *s)
{
    g_autofree char *text = NULL;
    if (!msg_debug() || !s->vm.console_log ||
        !g_file_get_contents(s->vm.console_log, &text, NULL, NULL)) {
        return;
    }
    g_strchomp(text);
    const char *from = text + strlen(text);
    for (int n = 0; from > text && n < 20; n++) {
        from--;
        while (from > text && from[-1] != '\n') {
            from--;
        }
    }
    debug_msg("the guest console's last lines (%s):", s->vm.console_log);
    fprintf(stderr, "%s\n", from);
}

/*
 * The guest reset itself (a reboot, a kernel panic: the helper makes the
 * kernel reboot at once on one, a triple fault), powered off or reported
 * a panic: QEMU paused it (set-action in connect_qmp()), and its event is
 * all that is left of the workload.
 */
static bool guest_alive(Session *s, const char *what, GError **err)
{
    g_autoptr(JsonObject) d = NULL;
    const char *how = NULL;
    if (!s->vm.qmp) {
        return true;
    }
    if (qmp_poll_event(s->vm.qmp, "GUEST_PANICKED", &d)) {
        how = "the guest kernel panicked";
    } else if (qmp_poll_event(s->vm.qmp, "SHUTDOWN", &d) && d &&
               json_object_get_boolean_member_with_default(d, "guest",
                                                           FALSE)) {
        const char *reason = json_object_get_string_member_with_default(
            d, "reason", "");
        how = strcmp(reason, "guest-shutdown") == 0
              ? "the guest powered itself off"
              : strcmp(reason, "guest-panic") == 0
              ? "the guest kernel panicked"
              : "the guest reset itself (a reboot, a kernel panic or a "
                "triple fault)";
    }
    if (!how) {
        return true;
    }
    g_autofree char *panic = console_line(s, "Kernel panic");
    if (panic && strcmp(how, "the guest powered itself off") != 0) {
        how = "the guest kernel panicked";
    }
    show_console_tail(s);
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                "%s while waiting for %s%s%s", how, what,
                panic ? "; its console says: " : "", panic ? panic : "");
    return false;
}

/*
 * The watch of every wait: fails when a stop signal arrived, QEMU died,
 * the guest died, (once started) the analysis tool died or the trace file
 * writer failed.
 */
bool session_watch(void *ctx, const char *what, GError **err)
{
    Session *s = ctx;
    int sig = runtime_interrupted();
    if (sig) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                    "interrupted by %s while waiting for %s",
                    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
                                                              : "SIGHUP",
                    what);
        return false;
    }
    if (s->vm.qemu.pid && !child_alive(&s->vm.qemu)) {
        g_autofree char *how = child_describe_exit(&s->vm.qemu);
        g_autofree char *last = vm_qemu_last_words(&s->vm);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "QEMU %s while waiting for %s%s", how, what, last);
        return false;
    }
    if (!guest_alive(s, what, err)) {
        return false;
    }
    if (s->tool_started && !child_alive(&s->tool.child)) {
        g_autofree char *how = child_describe_exit(&s->tool.child);
        s->tool_died = true;
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the analysis tool %s while waiting for %s", how, what);
        return false;
    }
    if (s->sink && !trace_sink_check(s->sink, err)) {
        return false;               /* the trace file cannot be written */
    }
    return true;
}

bool session_wait(Session *s, const char *what, gint64 span_us,
                  gint64 step_us, WaitPoll (*poll)(Wait *, void *, GError **),
                  void *data, GError **err)
{
    Wait w = {
        .what = what, .span_us = span_us, .step_us = step_us, .wake_fd = -1,
        .poll = poll, .data = data, .watch = session_watch, .watch_ctx = s,
    };
    return wait_until(&w, err);
}

bool qmp_do(Session *s, const char *cmd, JsonObject *args, JsonNode **ret,
            GError **err)
{
    JsonNode *r = qmp_execute(s->vm.qmp, cmd, args, deadline_in(QMP_STEP_US),
                              err);
    if (!r) {
        return false;
    }
    if (ret) {
        *ret = r;
    } else {
        json_node_unref(r);
    }
    return true;
}

JsonObject *query_gmbeoo(Session *s, GError **err)
{
    return qmp_query_object(s->vm.qmp, "query-gmbeoo",
                            deadline_in(QMP_STEP_US), err);
}

