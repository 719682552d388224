/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's steps on the trace side (see run.h): the FIFO and our probe of
 * it, GMBEOO on and off over QMP, the analysis tool's contract, draining
 * the FIFO before the result block is asked for.
 */
#include "run.h"

#include "gmbeoo/record.h"
#include "gmbeoo/rings.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"
#include "version.h"
#include "workload.h"

/* Wait for @text in the analysis tool's output. */
typedef struct ToolExpect {
    Session *s;
    const char *text;
    char **before;
} ToolExpect;

static WaitPoll poll_tool(Wait *w, void *data, GError **err)
{
    ToolExpect *x = data;
    AnalysisTool *t = &x->s->tool;
    (void)w;
    child_output_pump(&t->out);
    if (child_output_find(&t->out, x->text, x->before, NULL)) {
        return WAIT_DONE;
    }
    if (t->out.eof) {
        /* It closed stdout: it exited or is about to. */
        child_wait(&t->child, deadline_in(G_USEC_PER_SEC));
        g_autofree char *how = child_describe_exit(&t->child);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the analysis tool %s (closed its stdout) before "
                    "printing \"%s\"", how, x->text);
        return WAIT_FAILED;
    }
    return WAIT_PENDING;
}

static bool expect_from_tool(Session *s, const char *text, gint64 span_us,
                             char **before, GError **err)
{
    g_autofree char *what = g_strdup_printf("\"%s\" from the analysis tool",
                                            text);
    ToolExpect x = { .s = s, .text = text, .before = before };
    Wait w = {
        .what = what, .span_us = span_us, .step_us = SLICE_US,
        .wake_fd = s->tool.out.fd, .poll = poll_tool, .data = &x,
        .watch = session_watch, .watch_ctx = s, .recheck = true,
    };
    return wait_until(&w, err);
}

bool make_fifo(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    if (s->o->mode == TRACE_TO_FIFO) {
        s->fifo_path = g_strdup(s->o->trace_fifo_path);
    } else {
        s->fifo_path = g_build_filename(s->dir, "trace_fifo", NULL);
        if (mkfifo(s->fifo_path, 0600) != 0) {
            g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                        "cannot make the trace FIFO %s: %s", s->fifo_path,
                        g_strerror(errno));
            return false;
        }
    }
    /* Our own read end, kept open until the reader has drained the pipe:
     * FIONREAD on it tells how much is still unread.  It is a reader, so
     * it does not keep the analysis tool from seeing EOF. */
    s->fifo_probe = open(s->fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fifo_probe < 0 || fstat(s->fifo_probe, &s->fifo_st) != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot open the trace FIFO %s: %s", s->fifo_path,
                    g_strerror(errno));
        return false;
    }
    /* The shared rings (include/gmbeoo/rings.h), offered to a tool we
     * start and that alone reads the records: an empty memfd QEMU and the
     * tool inherit; the tool claims it if it can read rings. */
    if (s->o->mode == TRACE_TO_ANALYSIS_TOOL &&
        !s->o->analysis_transport_fifo) {
        s->rings_fd = memfd_create("memory_tracer-rings", MFD_CLOEXEC);
        if (s->rings_fd < 0) {
            debug_msg("no shared rings (memfd_create: %s): the FIFO it is",
                      g_strerror(errno));
        }
    }
    return true;
}

/* The bytes of records the tool has given back in all the rings (the sum
 * of their tails), read from the memfd; 0 before QEMU opened them. */
static guint64 rings_consumed(Session *s)
{
    GmbeooRingsHeader h;
    guint64 sum = 0;
    if (s->rings_fd < 0 ||
        pread(s->rings_fd, &h, sizeof(h), 0) != sizeof(h) ||
        h.magic != GMBEOO_RINGS_MAGIC) {
        return 0;
    }
    for (guint32 i = 0; i < h.nr_rings; i++) {
        guint64 tail;
        off_t at = GMBEOO_RINGS_PAGE + (off_t)i * (off_t)h.ring_stride +
                   (off_t)offsetof(GmbeooRingControl, tail);
        if (pread(s->rings_fd, &tail, sizeof(tail), at) == sizeof(tail)) {
            sum += tail;
        }
    }
    return sum;
}

/* Did the tool claim the shared rings (step 2 of rings.h)? */
static bool rings_claimed(Session *s)
{
    guint32 claim[2] = { 0, 0 };
    if (s->rings_fd < 0 ||
        pread(s->rings_fd, claim, sizeof(claim), 0) != sizeof(claim)) {
        return false;
    }
    return claim[0] != 0 && claim[1] == GMBEOO_RINGS_VERSION;
}

/* query-gmbeoo says 'transport' where gmbeoo-enable takes it. */
static bool qemu_has_shared_rings(Session *s)
{
    g_autoptr(GError) e = NULL;
    JsonObject *q = query_gmbeoo(s, &e);
    bool has = q && json_object_has_member(q, "transport");
    if (q) {
        json_object_unref(q);
    }
    return has;
}

bool start_analysis_tool(Session *s, GError **err)
{
    if (s->o->mode != TRACE_TO_ANALYSIS_TOOL) {
        return true;
    }
    g_auto(GStrv) tokens = workload_info_tokens(s->result.workload_info);
    debug_msg("starting the analysis tool %s", s->o->analysis_tool_path);
    /* The run's settings, in the tool's environment only (libgmbeoo's
     * gmbeoo_meta() reads them; the format was the first and the original
     * tools' only one). */
    g_autofree char *b = g_strdup_printf("%ld", s->o->log_of_block_len);
    g_autofree char *r = g_strdup_printf("%ld", s->o->log_of_tracing_ratio);
    g_autofree char *v = g_strdup_printf("%ld", s->o->num_vcpus);
    const char *env[][2] = {
        { "GMBEOO_RECORD_FORMAT",
          gmbeoo_format_name((GmbeooRecordFormat)s->o->record_format) },
        { "GMBEOO_LOG_OF_GMBE_BLOCK_LEN", b },
        { "GMBEOO_LOG_OF_GMBE_TRACING_RATIO", r },
        { "GMBEOO_TRACE_ONLY_CPL3_CODE_GMBE", s->o->trace_only_cpl3 ? "1" : "0" },
        { "GMBEOO_GUEST_NUM_OF_VCPUS", v },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(env); i++) {
        g_setenv(env[i][0], env[i][1], TRUE);
    }
    if (s->rings_fd >= 0 && !qemu_has_shared_rings(s)) {
        debug_msg("no shared rings: this QEMU does not offer them");
        close(s->rings_fd);
        s->rings_fd = -1;
    }
    g_autofree char *rings = g_strdup_printf("%d", s->rings_fd);
    if (s->rings_fd >= 0) {
        g_setenv("GMBEOO_RINGS_FD", rings, TRUE);
    }
    bool started = analysis_start(&s->tool, s->o->analysis_tool_path,
                                  s->fifo_path, tokens, s->rings_fd, err);
    for (gsize i = 0; i < G_N_ELEMENTS(env); i++) {
        g_unsetenv(env[i][0]);
    }
    g_unsetenv("GMBEOO_RINGS_FD");
    if (!started) {
        return false;
    }
    s->tool_started = true;
    debug_msg("expecting \"" MARKER_READY_TO_ANALYZE "\"");
    if (!expect_from_tool(s, MARKER_READY_TO_ANALYZE, s->protocol_us, NULL,
                          err)) {
        return false;
    }
    /* It claims the rings before it says ready, or never. */
    s->shared_rings = rings_claimed(s);
    s->result.analysis_transport = s->shared_rings ? "shared-rings" : "fifo";
    debug_msg("analysis transport: %s", s->shared_rings
              ? "shared rings (the tool claimed them)"
              : s->rings_fd >= 0 ? "the FIFO (the tool did not claim the "
                                   "shared rings)"
                                 : "the FIFO");
    if (!s->shared_rings && s->rings_fd >= 0) {
        close(s->rings_fd);
        s->rings_fd = -1;
    }
    return true;
}

/* Poll query-gmbeoo until output-state is @want ('error' fails). */
typedef struct OutputState {
    Session *s;
    const char *want;
    guint64 last_written;
    guint64 last_consumed;      /* shared rings: what the tool read */
} OutputState;

static WaitPoll poll_output_state(Wait *w, void *data, GError **err)
{
    OutputState *os = data;
    JsonObject *q = query_gmbeoo(os->s, err);
    if (!q) {
        return WAIT_FAILED;
    }
    const char *state = json_object_get_string_member_with_default(
        q, "output-state", "");
    guint64 written = json_object_get_int_member_with_default(
        q, "written-to-output", 0);
    guint64 waiting = json_object_get_int_member_with_default(q, "waiting", 0);
    guint64 dropped = json_object_get_int_member_with_default(q, "dropped", 0);
    if (strcmp(state, "error") == 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "QEMU could not write the trace to %s: %s (while "
                    "waiting for %s)", os->s->fifo_path,
                    json_object_get_string_member_with_default(
                        q, "output-error", "unknown error"), w->what);
        json_object_unref(q);
        return WAIT_FAILED;
    }
    bool done = strcmp(state, os->want) == 0;
    json_object_unref(q);
    if (done) {
        return WAIT_DONE;
    }
    /* Draining a big ring into a slow reader is progress, not a hang. */
    if (written != os->last_written) {
        os->last_written = written;
        wait_progress(w);
    }
    if (os->s->shared_rings) {
        /* The tool reads the rings itself: its tails move. */
        guint64 consumed = rings_consumed(os->s);
        if (consumed != os->last_consumed) {
            os->last_consumed = consumed;
            wait_progress(w);
        }
        wait_detail(w, "%s (no progress: %" G_GUINT64_FORMAT " records "
                    "published, %" G_GUINT64_FORMAT " bytes of records read "
                    "by the tool, %" G_GUINT64_FORMAT " dropped; is the tool "
                    "still reading?)", w->what, written, consumed, dropped);
        return WAIT_PENDING;
    }
    /* Say what the counters say: a stalled reader shows as records waiting
     * in the ring and, usually, dropped events. */
    wait_detail(w, "%s (no progress: %" G_GUINT64_FORMAT " records written "
                "to the output, %" G_GUINT64_FORMAT " still waiting in the "
                "ring, %" G_GUINT64_FORMAT " dropped; is the reader still "
                "reading?)", w->what, written, waiting, dropped);
    return WAIT_PENDING;
}

static bool wait_output_state(Session *s, const char *want, const char *what,
                              GError **err)
{
    OutputState os = { .s = s, .want = want };
    return session_wait(s, what, s->protocol_us, 10 * 1000,
                        poll_output_state, &os, err);
}

/* --trace_fifo_path: the user's reader must be there, or every record
 * would sit in the pipe.  Processes we may not inspect make the check
 * inconclusive; then we go on. */
static WaitPoll poll_user_reader(Wait *w, void *data, GError **err)
{
    Session *s = data;
    bool denied = false;
    (void)err;
    if (fifo_has_reader(&s->fifo_st, 0, &denied) || denied) {
        return WAIT_DONE;
    }
    wait_detail(w, "%s (%s)", w->what, s->fifo_path);
    return WAIT_PENDING;
}

/* QEMU's open succeeded at once (our probe is a reader); make sure the
 * tool really reads the FIFO before the workload runs. */
static WaitPoll poll_tool_opened(Wait *w, void *data, GError **err)
{
    Session *s = data;
    (void)w, (void)err;
    return analysis_has_open(&s->tool, &s->fifo_st) ? WAIT_DONE
                                                    : WAIT_PENDING;
}

/* "7.2.0 (Debian 1:7.2+dfsg-7)" from QMP query-version (asked once, when
 * QMP came up), or NULL. */
static char *qemu_version(Session *s)
{
    JsonNode *r = s->result.qemu_version;
    char *text = NULL;
    if (!r) {
        return NULL;
    }
    if (JSON_NODE_HOLDS_OBJECT(r)) {
        JsonObject *o = json_node_get_object(r);
        JsonObject *q = json_object_get_object_member(o, "qemu");
        g_autofree char *pkg = g_strstrip(g_strdup(
            json_object_get_string_member_with_default(o, "package", "")));
        if (q) {
            text = g_strdup_printf(
                "%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT
                "%s%s%s", json_object_get_int_member(q, "major"),
                json_object_get_int_member(q, "minor"),
                json_object_get_int_member(q, "micro"), *pkg ? " (" : "",
                pkg, *pkg ? ")" : "");
        }
    }
    return text;
}

/* --trace_file_path: the writer thread takes the FIFO's read side. */
static bool start_trace_file(Session *s, GError **err)
{
    const Options *o = s->o;
    g_autofree char *qemu = qemu_version(s);
    TraceMeta meta = {
        .format = (GmbeooRecordFormat)o->record_format,
        .block_len_log = (unsigned)o->log_of_block_len,
        .tracing_ratio_log = (unsigned)o->log_of_tracing_ratio,
        .cpl3_only = o->trace_only_cpl3,
        .guest_image = o->guest_image_path,
        .snapshot = o->snapshot_name,
        .memory_tracer_version = MEMORY_TRACER_VERSION,
        .qemu_version = qemu,
        .workload = o->workload_path_on_host ? o->workload_path_on_host
                                             : o->workload_path_on_guest,
        .codec = o->trace_file_codec,
    };
    debug_msg("writing the trace to %s", o->trace_file_path);
    s->sink = trace_sink_start(s->fifo_path, o->trace_file_path, &meta, err);
    return s->sink != NULL;
}

static WaitPoll poll_sink_done(Wait *w, void *data, GError **err)
{
    Session *s = data;
    (void)w, (void)err;
    return trace_sink_done(s->sink) ? WAIT_DONE : WAIT_PENDING;
}

bool finish_trace_file(Session *s, GError **err)
{
    if (!s->sink) {
        return true;
    }
    if (!session_wait(s, "the trace file writer to read the end of the "
                      "trace FIFO", s->protocol_us, 2 * 1000, poll_sink_done,
                      s, err)) {
        return false;
    }
    guint64 in;
    bool ok = trace_sink_finish(s->sink, &in, err);
    s->sink = NULL;
    struct stat st;
    if (ok && stat(s->o->trace_file_path, &st) == 0) {
        debug_msg("trace file %s: %" G_GUINT64_FORMAT " bytes of records in "
                  "%lld bytes (%.1fx)", s->o->trace_file_path, in,
                  (long long)st.st_size,
                  (double)in / (double)MAX(st.st_size, 1));
    }
    return ok;
}

/* The settings gmbeoo-arm and gmbeoo-enable share. */
static JsonObject *gmbeoo_settings(const Session *s)
{
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "log-of-block-len",
                               s->o->log_of_block_len);
    json_object_set_int_member(args, "log-of-tracing-ratio",
                               s->o->log_of_tracing_ratio);
    json_object_set_boolean_member(args, "trace-only-cpl3",
                                   s->o->trace_only_cpl3);
    if (s->o->record_format != GMBEOO_FORMAT_GMBEOO16) {
        json_object_set_string_member(args, "record-format",
            gmbeoo_format_name((GmbeooRecordFormat)s->o->record_format));
    }
    return args;
}

/*
 * Sampled tracing: arm GMBEOO as soon as QEMU answers, so that the code the
 * guest translates from then on (the workload's start-up, the kernel's
 * paths) is already the code the enable needs, and the traced region does
 * not begin with a flush of the translated code and its retranslation.
 * Armed sampled code costs a countdown check per TB before the region.
 * Full rate is not armed: its armed code would write (and throw away) a
 * record per access during the upload and the workload's start-up, for a
 * gain that is small against a full-rate region's own time.
 */
bool arm_tracing(Session *s, GError **err)
{
    if (!s->tracing ||
        !gmbeoo_sampling_mask((unsigned)s->o->log_of_block_len,
                              (unsigned)s->o->log_of_tracing_ratio)) {
        return true;
    }
    debug_msg("arming GMBEOO (sampled: no flush at the region's start)");
    g_autoptr(JsonObject) args = gmbeoo_settings(s);
    return qmp_do(s, "gmbeoo-arm", args, NULL, err);
}

bool enable_tracing(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    g_autoptr(JsonObject) args = gmbeoo_settings(s);
    if (s->shared_rings) {
        /* QEMU inherited the memfd under the same number. */
        g_autofree char *path = g_strdup_printf("/proc/self/fd/%d",
                                                s->rings_fd);
        debug_msg("enabling GMBEOO, output the shared rings (%s in QEMU)",
                  path);
        json_object_set_string_member(args, "path", path);
        json_object_set_string_member(args, "transport", "shared-rings");
        json_object_set_int_member(args, "ring-size",
            GMBEOO_RINGS_RING_BYTES /
            gmbeoo_format_size((GmbeooRecordFormat)s->o->record_format));
        return qmp_do(s, "gmbeoo-enable", args, NULL, err) &&
               wait_output_state(s, "open", "QEMU to open the shared rings",
                                 err);
    }
    debug_msg("enabling GMBEOO, output %s", s->fifo_path);
    json_object_set_string_member(args, "path", s->fifo_path);
    if (!qmp_do(s, "gmbeoo-enable", args, NULL, err) ||
        !wait_output_state(s, "open", "QEMU to open the trace FIFO", err)) {
        return false;
    }
    if (s->o->mode == TRACE_TO_FIFO) {
        return session_wait(s, "a reader of trace_fifo_path to open it",
                            s->protocol_us, 20 * 1000, poll_user_reader, s,
                            err);
    }
    if (s->o->mode == TRACE_TO_FILE) {
        return start_trace_file(s, err);
    }
    debug_msg("waiting for the analysis tool to open the trace FIFO");
    return session_wait(s, "the analysis tool to open the trace FIFO",
                        s->protocol_us, 5 * 1000, poll_tool_opened, s, err);
}

bool close_trace_output(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    debug_msg("closing the trace output");
    if (s->shared_rings) {
        /* 'closing' until the tool has read every record, then 'closed':
         * the drain of the rings. */
        return qmp_do(s, "gmbeoo-close-output", NULL, NULL, err) &&
               wait_output_state(s, "closed", "the analysis tool to read the "
                                 "rest of the shared rings", err);
    }
    return qmp_do(s, "gmbeoo-close-output", NULL, NULL, err) &&
           wait_output_state(s, "closed",
                             "QEMU to write out the ring and close the trace "
                             "output", err);
}

typedef struct Drain {
    Session *s;
    int last;
} Drain;

static WaitPoll poll_drained(Wait *w, void *data, GError **err)
{
    Drain *d = data;
    int unread = 0;
    (void)err;
    if (ioctl(d->s->fifo_probe, FIONREAD, &unread) != 0) {
        unread = 0;
    }
    if (unread == 0) {
        return WAIT_DONE;
    }
    if (unread != d->last) {
        d->last = unread;
        wait_progress(w);
    }
    wait_detail(w, "%s (%d bytes left unread)", w->what, unread);
    return WAIT_PENDING;
}

/* The pipe is empty; a tool may still be counting its last read. */
static WaitPoll poll_tool_closed(Wait *w, void *data, GError **err)
{
    Session *s = data;
    (void)w, (void)err;
    return analysis_has_open(&s->tool, &s->fifo_st) &&
           child_alive(&s->tool.child) ? WAIT_PENDING : WAIT_DONE;
}

bool wait_reader_drained(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    if (s->shared_rings) {
        /* Drained already (close_trace_output()); the FIFO was unused. */
        close(s->fifo_probe);
        s->fifo_probe = -1;
        return true;
    }
    debug_msg("waiting for the reader to drain the trace FIFO");
    Drain d = { .s = s, .last = -1 };
    if (!session_wait(s, "the trace reader to read the rest of the FIFO",
                      s->protocol_us, 2 * 1000, poll_drained, &d, err)) {
        return false;
    }
    close(s->fifo_probe);
    s->fifo_probe = -1;
    /* Give it until it closes the FIFO (it saw EOF), at most a moment: not
     * closing is not an error. */
    if (s->tool_started) {
        Wait w = {
            .what = "the analysis tool to close the trace FIFO",
            .span_us = G_USEC_PER_SEC / 2, .step_us = 5 * 1000,
            .wake_fd = -1, .poll = poll_tool_closed, .data = s,
        };
        g_autoptr(GError) e = NULL;
        wait_until(&w, &e);
    }
    return true;
}

bool collect_analysis_output(Session *s, GError **err)
{
    if (!s->tool_started) {
        return true;
    }
    debug_msg("sending SIGUSR1 to the analysis tool");
    if (!child_alive(&s->tool.child)) {
        /* It may have printed its block already; look before failing. */
        child_output_pump(&s->tool.out);
    } else {
        kill(s->tool.child.pid, SIGUSR1);
    }
    g_autofree char *junk = NULL;
    if (!expect_from_tool(s, MARKER_OUTPUT_BEGIN, s->protocol_us, &junk,
                          err) ||
        !expect_from_tool(s, MARKER_OUTPUT_END, s->protocol_us,
                          &s->result.analysis_output, err)) {
        return false;
    }
    s->tool_started = false;    /* its exit is expected from now on */
    analysis_finish(&s->tool, 5 * G_USEC_PER_SEC);
    return true;
}

bool query_trace_info(Session *s, GError **err)
{
    if (!s->tracing || !(s->o->print_trace_info || s->o->report_json)) {
        return true;
    }
    s->result.counters = query_gmbeoo(s, err);
    if (s->result.counters && s->o->print_trace_info) {
        s->result.trace_info = json_object_ref(s->result.counters);
    }
    return s->result.counters != NULL;
}

