/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run, as a sequence of steps (session_run() lists them in order).
 * Each step either succeeds or fails with one GError whose message says
 * what was being waited for and where to look; session_run() then prints
 * that one line, stops every child and removes the runtime directory.
 *
 * Waits are sliced (SLICE_US) so that each slice can notice a stop signal,
 * QEMU dying or the analysis tool dying, and every wait has a deadline:
 * MEMORY_TRACER_STARTUP_DEADLINE seconds (default 300) for QEMU to restore
 * the snapshot, MEMORY_TRACER_PROTOCOL_DEADLINE seconds (default 60) for
 * protocol steps,
 * MEMORY_TRACER_WORKLOAD_DEADLINE seconds (default 24 h) for the workload
 * getting ready and for the traced region.
 */
#include "session.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "child.h"
#include "guestconf.h"
#include "monitor.h"
#include "msg.h"
#include "qmp.h"
#include "report.h"
#include "runtime.h"
#include "serial.h"
#include "workload.h"

#define SLICE_US (200 * 1000)
#define QMP_STEP_US (30 * G_USEC_PER_SEC)

typedef struct Session {
    Options *o;
    bool tracing;               /* GMBEOO will be enabled */
    gint64 startup_us;          /* QEMU restoring the snapshot */
    gint64 protocol_us;         /* length of a protocol step's deadline */
    gint64 workload_us;         /* length of the workload's deadlines */

    char *dir;                  /* the runtime directory */
    char *qmp_path;
    char *serial_path;
    char *fifo_path;            /* ours or the user's; NULL: no tracing */
    char *console_log;
    char *qemu_log;
    char *image_copy;           /* the throw-away image QEMU runs on */
    char *executable1;
    char *kept_console_log;     /* copy kept after a failure */

    Child qemu;
    QmpClient *qmp;
    SerialChannel *serial;
    AnalysisTool tool;
    bool tool_started;
    int fifo_probe;             /* O_RDONLY|O_NONBLOCK on the FIFO */
    struct stat fifo_st;

    gint64 clock_start;
    RunResult result;
} Session;

static gint64 env_seconds(const char *name, double fallback)
{
    const char *v = g_getenv(name);
    double secs = fallback;
    if (v && *v) {
        char *end;
        double d = g_ascii_strtod(v, &end);
        if (*end == '\0' && d > 0) {
            secs = d;
        }
    }
    return (gint64)(secs * G_USEC_PER_SEC);
}

static gint64 deadline_in(gint64 us)
{
    return g_get_monotonic_time() + us;
}

/* The last non-empty line QEMU wrote to its stderr, for error messages. */
static char *qemu_last_words(Session *s)
{
    g_autofree char *text = NULL;
    if (!s->qemu_log || !g_file_get_contents(s->qemu_log, &text, NULL, NULL)) {
        return g_strdup("");
    }
    g_strchomp(text);
    char *nl = strrchr(text, '\n');
    const char *last = nl ? nl + 1 : text;
    return *last ? g_strdup_printf(": %s", last) : g_strdup("");
}

/*
 * Called between wait slices: fails when a stop signal arrived, QEMU died
 * or (once started) the analysis tool died.
 */
static bool watch(Session *s, const char *what, GError **err)
{
    int sig = runtime_interrupted();
    if (sig) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                    "interrupted by %s while waiting for %s",
                    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
                                                              : "SIGHUP",
                    what);
        return false;
    }
    if (s->qemu.pid && !child_alive(&s->qemu)) {
        g_autofree char *how = child_describe_exit(&s->qemu);
        g_autofree char *last = qemu_last_words(s);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "QEMU %s while waiting for %s%s", how, what, last);
        return false;
    }
    if (s->tool_started && !child_alive(&s->tool.child)) {
        g_autofree char *how = child_describe_exit(&s->tool.child);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the analysis tool %s while waiting for %s", how, what);
        return false;
    }
    return true;
}

static bool timed_out(GError **err, gint64 span_us, const char *what)
{
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "timed out after %.0f s waiting for %s",
                (double)span_us / G_USEC_PER_SEC, what);
    return false;
}

/* Short QMP command with the standard deadline; @ret may be NULL. */
static bool qmp_do(Session *s, const char *cmd, JsonObject *args,
                   JsonNode **ret, GError **err)
{
    JsonNode *r = qmp_execute(s->qmp, cmd, args, deadline_in(QMP_STEP_US),
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

static JsonObject *query_gmbeoo(Session *s, GError **err)
{
    JsonNode *r;
    if (!qmp_do(s, "query-gmbeoo", NULL, &r, err)) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(r)) {
        json_node_unref(r);
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "QMP query-gmbeoo did not return an object");
        return NULL;
    }
    JsonObject *obj = json_object_ref(json_node_get_object(r));
    json_node_unref(r);
    return obj;
}

/* ---- the progress line (TTY only) ---- */

typedef struct Progress {
    bool on;
    gint64 next;
    guint64 last_records;
    gint64 last_time;
    bool shown;
} Progress;

static void progress_tick(Session *s, Progress *p)
{
    gint64 now = g_get_monotonic_time();
    if (!p->on || now < p->next) {
        return;
    }
    p->next = now + G_USEC_PER_SEC;
    g_autoptr(GError) err = NULL;
    JsonObject *q = query_gmbeoo(s, &err);
    if (!q) {
        return;
    }
    guint64 records = json_object_get_int_member_with_default(
        q, "written-to-output", 0);
    json_object_unref(q);
    /* The rate since the last look, or since tracing began. */
    gint64 since = p->last_time ? p->last_time : s->clock_start;
    double rate = (double)(records - p->last_records) * G_USEC_PER_SEC /
                  (double)MAX(now - since, 1);
    p->last_records = records;
    p->last_time = now;
    fprintf(stderr, "\r\033[K%s: tracing for %" G_GINT64_FORMAT
            " s, %" G_GUINT64_FORMAT " records so far (%.3g %srecords/s)",
            msg_program(), (now - s->clock_start) / G_USEC_PER_SEC, records,
            rate >= 1e6 ? rate / 1e6 : rate >= 1e3 ? rate / 1e3 : rate,
            rate >= 1e6 ? "M " : rate >= 1e3 ? "k " : "");
    p->shown = true;
}

static void progress_end(Progress *p)
{
    if (p->shown) {
        fprintf(stderr, "\r\033[K");
    }
}

/* ---- waiting for the workload's markers ---- */

static bool expect_marker(Session *s, const char *text, gint64 span_us,
                          GString *before, Progress *progress,
                          GError **err)
{
    g_autofree char *what = g_strdup_printf("\"%s\" from the workload", text);
    gint64 deadline = deadline_in(span_us);
    for (;;) {
        g_autoptr(GError) e = NULL;
        gint64 slice = MIN(deadline, deadline_in(SLICE_US));
        if (serial_expect(s->serial, text, slice, before, &e)) {
            return true;
        }
        if (!g_error_matches(e, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT)) {
            g_propagate_error(err, g_steal_pointer(&e));
            return false;
        }
        if (!watch(s, what, err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            return timed_out(err, span_us, what);
        }
        if (progress) {
            progress_tick(s, progress);
        }
    }
}

/* Wait for @text in the analysis tool's output. */
static bool expect_from_tool(Session *s, const char *text, gint64 span_us,
                             char **before, GError **err)
{
    g_autofree char *what = g_strdup_printf("\"%s\" from the analysis tool",
                                            text);
    gint64 deadline = deadline_in(span_us);
    for (;;) {
        analysis_pump(&s->tool);
        if (analysis_find(&s->tool, text, before)) {
            return true;
        }
        if (s->tool.eof) {
            /* It closed stdout: it exited or is about to. */
            child_wait(&s->tool.child, deadline_in(G_USEC_PER_SEC));
            g_autofree char *how = child_describe_exit(&s->tool.child);
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "the analysis tool %s (closed its stdout) before "
                        "printing \"%s\"", how, text);
            return false;
        }
        if (!watch(s, what, err)) {
            analysis_pump(&s->tool);
            if (analysis_find(&s->tool, text, before)) {
                g_clear_error(err);
                return true;
            }
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            return timed_out(err, span_us, what);
        }
        struct pollfd p[2] = {
            { .fd = s->tool.out_fd, .events = POLLIN },
            { .fd = runtime_signal_fd(), .events = POLLIN },
        };
        poll(p, 2, SLICE_US / 1000);
    }
}

/* ---- the steps ---- */

static bool make_runtime_dir(Session *s, GError **err)
{
    s->dir = runtime_dir_create(err);
    if (!s->dir) {
        return false;
    }
    s->qmp_path = g_build_filename(s->dir, "qmp.sock", NULL);
    s->serial_path = g_build_filename(s->dir, "serial.sock", NULL);
    s->console_log = g_build_filename(s->dir, "console.log", NULL);
    s->qemu_log = g_build_filename(s->dir, "qemu.log", NULL);
    s->executable1 = g_build_filename(s->dir, "executable1", NULL);
    debug_msg("runtime directory: %s", s->dir);
    return true;
}

static bool make_fifo(Session *s, GError **err)
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
    return true;
}

static bool write_executable1(Session *s, GError **err)
{
    g_autofree char *script = workload_script(s->o, false);
    if (!g_file_set_contents_full(s->executable1, script, -1,
                                  G_FILE_SET_CONTENTS_NONE, 0500, err)) {
        return false;
    }
    return true;
}

/* QEMU's command line for an image the user brought: the original's
 * `-m RAM -hda IMAGE -loadvm SNAPSHOT` with its one serial port (ttyS0,
 * where the helper waits), headless, plus QMP.  No second serial port for
 * a console log: the snapshot's machine had none. */
static void add_printf(GStrvBuilder *b, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void add_printf(GStrvBuilder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strv_builder_add(b, text);
}

/* QEMU option values double their commas. */
static char *escape_commas(const char *text)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    return g_strjoinv(",,", parts);
}

static GStrv user_image_argv(Session *s)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autofree char *image = escape_commas(s->image_copy);
    g_autofree char *serial = escape_commas(s->serial_path);
    g_autofree char *qmp = escape_commas(s->qmp_path);
    g_strv_builder_add(b, s->o->qemu_binary);
    if (s->o->firmware_dir) {
        g_strv_builder_add_many(b, "-L", s->o->firmware_dir, NULL);
    }
    g_strv_builder_add(b, "-m");
    add_printf(b, "%ld", s->o->guest_ram_mb);
    g_strv_builder_add(b, "-drive");
    add_printf(b, "file=%s,if=ide,index=0,media=disk", image);
    g_strv_builder_add_many(b, "-display", "none", "-monitor", "none", NULL);
    g_strv_builder_add(b, "-chardev");
    add_printf(b, "socket,id=mtserial,path=%s,server=on,wait=off", serial);
    g_strv_builder_add_many(b, "-serial", "chardev:mtserial", NULL);
    g_strv_builder_add(b, "-chardev");
    add_printf(b, "socket,id=mtqmp,path=%s,server=on,wait=off", qmp);
    g_strv_builder_add_many(b, "-mon", "chardev=mtqmp,mode=control",
                            "-loadvm", s->o->snapshot_name, NULL);
    return g_strv_builder_end(b);
}

/* argv as a shell would need it typed, for --verbose. */
static char *command_line_text(char **argv)
{
    GString *text = g_string_new(NULL);
    for (char **a = argv; *a; a++) {
        if (text->len) {
            g_string_append_c(text, ' ');
        }
        bool plain = **a != '\0';
        for (const char *c = *a; *c && plain; c++) {
            plain = g_ascii_isalnum(*c) || strchr("-_./=,:+@%", *c);
        }
        if (plain) {
            g_string_append(text, *a);
        } else {
            g_autofree char *q = g_shell_quote(*a);
            g_string_append(text, q);
        }
    }
    return g_string_free(text, FALSE);
}

static bool start_qemu(Session *s, GError **err)
{
    g_autoptr(GuestConf) conf = NULL;
    const char *image = s->o->guest_image_path;
    if (s->o->guest_conf_path) {
        /* The embedded guest, or an image with our guest.conf beside it. */
        conf = guest_conf_load(s->o->guest_conf_path, err);
        if (!conf) {
            return false;
        }
        if (s->o->guest_ram_mb > 0) {
            conf->memory_mb = (guint)s->o->guest_ram_mb;
        }
        if (!s->o->embedded_guest) {
            g_free(conf->snapshot);
            conf->snapshot = g_strdup(s->o->snapshot_name);
        } else {
            image = conf->image;
        }
    }
    /* The run works on a throw-away copy, so the image never changes and
     * concurrent runs on one image do not meet. */
    s->image_copy = g_build_filename(s->dir, "guest.qcow2", NULL);
    debug_msg("copying %s to %s", image, s->image_copy);
    if (!guest_image_copy(image, s->image_copy, err)) {
        return false;
    }
    g_auto(GStrv) argv = NULL;
    if (conf) {
        GuestQemuSetup setup = {
            .qemu = s->o->qemu_binary,
            .firmware_dir = s->o->firmware_dir,
            .image = s->image_copy,
            .qmp_socket = s->qmp_path,
            .serial_socket = s->serial_path,
            .console_log = s->console_log,
            .loadvm = TRUE,
        };
        argv = guest_conf_qemu_argv(conf, &setup);
    } else {
        argv = user_image_argv(s);
    }
    if (msg_debug()) {
        g_autofree char *line = command_line_text(argv);
        debug_msg("starting qemu by executing:");
        fprintf(stderr, "%s\n", line);
        debug_msg("guest console log: %s", s->console_log);
    }
    int log = open(s->qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0600);
    if (log < 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create %s: %s", s->qemu_log, g_strerror(errno));
        return false;
    }
    bool ok = child_spawn(&s->qemu, "QEMU", argv, -1, log, log, err);
    close(log);
    return ok;
}

static bool connect_qmp(Session *s, GError **err)
{
    /* QEMU greets once the snapshot is restored, which takes longer with
     * more guest RAM and a loaded host: this step has its own deadline. */
    debug_msg("waiting for the QMP greeting");
    gint64 deadline = deadline_in(s->startup_us);
    for (;;) {
        g_autoptr(GError) e = NULL;
        s->qmp = qmp_connect(s->qmp_path, MIN(deadline, deadline_in(SLICE_US)),
                             &e);
        if (s->qmp) {
            return true;
        }
        if (!watch(s, "QEMU's QMP greeting", err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *last = qemu_last_words(s);
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "timed out after %.0f s waiting for QEMU's QMP "
                        "greeting on %s (%s)%s",
                        (double)s->startup_us / G_USEC_PER_SEC, s->qmp_path,
                        e ? e->message : "", last);
            return false;
        }
    }
}

static bool upload_workload(Session *s, GError **err)
{
    debug_msg("connecting to the guest serial port");
    gint64 deadline = deadline_in(s->protocol_us);
    int fd = serial_connect_unix(s->serial_path, deadline, err);
    if (fd < 0) {
        return false;
    }
    s->serial = serial_channel_new(fd, NULL);
    debug_msg("synchronising with the guest helper");
    if (!serial_sync(s->serial, deadline, err)) {
        g_prefix_error(err, "no answer from the guest helper "
                       "run_executables_from_serial (is the snapshot right?): ");
        return false;
    }
    g_autofree char *exe1 = NULL;
    gsize exe1_len = 0;
    if (!g_file_get_contents(s->executable1, &exe1, &exe1_len, err)) {
        return false;
    }
    g_autofree char *exe2 = NULL;
    gsize exe2_len = 0;
    if (s->o->workload_path_on_host &&
        !g_file_get_contents(s->o->workload_path_on_host, &exe2, &exe2_len,
                             err)) {
        return false;
    }
    debug_msg("uploading executable1 (%" G_GSIZE_FORMAT " bytes) and "
        "executable2 (%" G_GSIZE_FORMAT " bytes)", exe1_len, exe2_len);
    /* A large executable2 takes a while over a 16550 (about 20 KiB/s under
     * TCG; a virtio console is far faster): allow the protocol deadline
     * plus 1 s per 8 KiB. */
    gint64 upload_us = s->protocol_us +
                       (gint64)(exe2_len / 8192) * G_USEC_PER_SEC;
    if (!serial_send_file(s->serial, 1, exe1, exe1_len,
                          deadline_in(upload_us), err) ||
        !serial_send_file(s->serial, 2, exe2, exe2_len,
                          deadline_in(upload_us), err)) {
        g_prefix_error(err, "uploading the workload: ");
        return false;
    }
    return watch(s, "the upload", err);
}

static bool read_workload_info(Session *s, GError **err)
{
    debug_msg("expecting workload info");
    g_autoptr(GString) info = g_string_new(NULL);
    if (!expect_marker(s, MARKER_INFO_BEGIN, s->workload_us, NULL, NULL,
                       err) ||
        !expect_marker(s, MARKER_INFO_END, s->workload_us, info, NULL,
                       err)) {
        return false;
    }
    s->result.workload_info = g_strdup(g_strstrip(info->str));
    return true;
}

static bool wait_ready_to_trace(Session *s, GError **err)
{
    debug_msg("expecting \"" MARKER_READY_TO_TRACE "\"");
    if (!expect_marker(s, MARKER_READY_TO_TRACE, s->workload_us, NULL, NULL,
                       err)) {
        return false;
    }
    return qmp_do(s, "stop", NULL, NULL, err);
}

static bool start_analysis_tool(Session *s, GError **err)
{
    if (s->o->mode != TRACE_TO_ANALYSIS_TOOL) {
        return true;
    }
    g_auto(GStrv) tokens = workload_info_tokens(s->result.workload_info);
    debug_msg("starting the analysis tool %s", s->o->analysis_tool_path);
    if (!analysis_start(&s->tool, s->o->analysis_tool_path, s->fifo_path,
                        tokens, err)) {
        return false;
    }
    s->tool_started = true;
    debug_msg("expecting \"" MARKER_READY_TO_ANALYZE "\"");
    return expect_from_tool(s, MARKER_READY_TO_ANALYZE, s->protocol_us, NULL,
                            err);
}

/* Poll query-gmbeoo until output-state is @want ('error' fails). */
static bool wait_output_state(Session *s, const char *want, const char *what,
                              GError **err)
{
    gint64 deadline = deadline_in(s->protocol_us);
    guint64 last_written = 0, waiting = 0, dropped = 0;
    for (;;) {
        JsonObject *q = query_gmbeoo(s, err);
        if (!q) {
            return false;
        }
        const char *state = json_object_get_string_member_with_default(
            q, "output-state", "");
        guint64 written = json_object_get_int_member_with_default(
            q, "written-to-output", 0);
        waiting = json_object_get_int_member_with_default(q, "waiting", 0);
        dropped = json_object_get_int_member_with_default(q, "dropped", 0);
        bool done = strcmp(state, want) == 0;
        if (strcmp(state, "error") == 0) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "QEMU could not write the trace to %s: %s (while "
                        "waiting for %s)", s->fifo_path,
                        json_object_get_string_member_with_default(
                            q, "output-error", "unknown error"), what);
            json_object_unref(q);
            return false;
        }
        json_object_unref(q);
        if (done) {
            return true;
        }
        /* Draining a big ring into a slow reader is progress, not a hang. */
        if (written != last_written) {
            last_written = written;
            deadline = deadline_in(s->protocol_us);
        }
        if (!watch(s, what, err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            /* Say what the counters say: a stalled reader shows as records
             * waiting in the ring and, usually, dropped events. */
            g_autofree char *w = g_strdup_printf(
                "%s (no progress: %" G_GUINT64_FORMAT " records written to "
                "the output, %" G_GUINT64_FORMAT " still waiting in the "
                "ring, %" G_GUINT64_FORMAT " dropped; is the reader still "
                "reading?)", what, written, waiting, dropped);
            return timed_out(err, s->protocol_us, w);
        }
        g_usleep(10 * 1000);
    }
}

/* --trace_fifo_path: the user's reader must be there, or every record
 * would sit in the pipe.  Processes we may not inspect make the check
 * inconclusive; then we go on. */
static bool wait_user_reader(Session *s, GError **err)
{
    const char *what = "a reader of trace_fifo_path to open it";
    gint64 deadline = deadline_in(s->protocol_us);
    for (;;) {
        bool denied = false;
        if (fifo_has_reader(&s->fifo_st, 0, &denied) || denied) {
            return true;
        }
        if (!watch(s, what, err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *w = g_strdup_printf("%s (%s)", what,
                                                 s->fifo_path);
            return timed_out(err, s->protocol_us, w);
        }
        g_usleep(20 * 1000);
    }
}

static bool enable_tracing(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    debug_msg("enabling GMBEOO, output %s", s->fifo_path);
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", s->fifo_path);
    json_object_set_int_member(args, "log-of-block-len",
                               s->o->log_of_block_len);
    json_object_set_int_member(args, "log-of-tracing-ratio",
                               s->o->log_of_tracing_ratio);
    json_object_set_boolean_member(args, "trace-only-cpl3",
                                   s->o->trace_only_cpl3);
    if (!qmp_do(s, "gmbeoo-enable", args, NULL, err) ||
        !wait_output_state(s, "open", "QEMU to open the trace FIFO", err)) {
        return false;
    }
    if (s->o->mode == TRACE_TO_FIFO) {
        return wait_user_reader(s, err);
    }
    /* QEMU's open succeeded at once (our probe is a reader); make sure
     * the tool really reads the FIFO before the workload runs. */
    debug_msg("waiting for the analysis tool to open the trace FIFO");
    gint64 deadline = deadline_in(s->protocol_us);
    while (!analysis_has_open(&s->tool, &s->fifo_st)) {
        if (!watch(s, "the analysis tool to open the trace FIFO", err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            return timed_out(err, s->protocol_us,
                             "the analysis tool to open the trace FIFO");
        }
        g_usleep(5 * 1000);
    }
    return true;
}

static bool release_workload(Session *s, GError **err)
{
    debug_msg("cont and Enter: tracing starts");
    if (!qmp_do(s, "cont", NULL, NULL, err)) {
        return false;
    }
    if (!serial_send_enter(s->serial, err)) {
        g_prefix_error(err, "sending Enter to the workload: ");
        return false;
    }
    s->clock_start = g_get_monotonic_time();
    return true;
}

static bool wait_stop_tracing(Session *s, GError **err)
{
    debug_msg("expecting \"" MARKER_STOP_TRACING "\"");
    Progress progress = {
        .on = s->tracing && isatty(STDERR_FILENO),
        .next = g_get_monotonic_time() + 2 * G_USEC_PER_SEC,
    };
    bool ok = expect_marker(s, MARKER_STOP_TRACING, s->workload_us, NULL,
                            &progress, err);
    gint64 end = g_get_monotonic_time();
    progress_end(&progress);
    if (!ok) {
        return false;
    }
    s->result.duration_ms = (end - s->clock_start) / 1000;
    return qmp_do(s, "stop", NULL, NULL, err);
}

static bool close_trace_output(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    debug_msg("closing the trace output");
    return qmp_do(s, "gmbeoo-close-output", NULL, NULL, err) &&
           wait_output_state(s, "closed",
                             "QEMU to write out the ring and close the trace "
                             "output", err);
}

static bool wait_reader_drained(Session *s, GError **err)
{
    if (!s->tracing) {
        return true;
    }
    debug_msg("waiting for the reader to drain the trace FIFO");
    const char *what = "the trace reader to read the rest of the FIFO";
    gint64 deadline = deadline_in(s->protocol_us);
    int last = -1;
    for (;;) {
        int unread = 0;
        if (ioctl(s->fifo_probe, FIONREAD, &unread) != 0) {
            unread = 0;
        }
        if (unread == 0) {
            break;
        }
        if (unread != last) {
            last = unread;
            deadline = deadline_in(s->protocol_us);
        }
        if (!watch(s, what, err)) {
            return false;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *w = g_strdup_printf("%s (%d bytes left unread)",
                                                 what, unread);
            return timed_out(err, s->protocol_us, w);
        }
        g_usleep(2 * 1000);
    }
    close(s->fifo_probe);
    s->fifo_probe = -1;
    /* The pipe is empty; a tool may still be counting its last read.  Give
     * it until it closes the FIFO (it saw EOF), at most a moment. */
    if (s->tool_started) {
        gint64 settle = deadline_in(G_USEC_PER_SEC / 2);
        while (analysis_has_open(&s->tool, &s->fifo_st) &&
               g_get_monotonic_time() < settle && child_alive(&s->tool.child)) {
            g_usleep(5 * 1000);
        }
    }
    return true;
}

static bool collect_analysis_output(Session *s, GError **err)
{
    if (!s->tool_started) {
        return true;
    }
    debug_msg("sending SIGUSR1 to the analysis tool");
    if (!child_alive(&s->tool.child)) {
        /* It may have printed its block already; look before failing. */
        analysis_pump(&s->tool);
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

static bool query_trace_info(Session *s, GError **err)
{
    if (!s->tracing || !s->o->print_trace_info) {
        return true;
    }
    s->result.trace_info = query_gmbeoo(s, err);
    return s->result.trace_info != NULL;
}

/* Warn (stderr) when the wrapped workload itself failed. */
/*
 * The guest helper reports executable1's exit after "Stop tracing", when the
 * VM is already stopped: let it run a moment to collect that report (the
 * trace output is closed by now, so nothing more is recorded).  A status of
 * 126 or 127 is the shell saying the workload could not be run at all
 * (not executable, not found): that fails the run.  Other failures are the
 * workload's own business and only earn a note, as in the original.
 */
static bool check_workload_status(Session *s, GError **err)
{
    SerialExit ex;
    if (!s->serial) {
        return true;
    }
    if (!serial_exit_status(s->serial, &ex)) {
        g_autoptr(GError) e = NULL;
        if (!qmp_do(s, "cont", NULL, NULL, &e)) {
            return true;
        }
        bool exited = serial_wait_exit(s->serial,
                                       deadline_in(3 * G_USEC_PER_SEC),
                                       &ex, &e);
        /* Paused again, as --dont_exit_qemu_when_done promises. */
        g_autoptr(GError) e2 = NULL;
        qmp_do(s, "stop", NULL, NULL, &e2);
        if (!exited) {
            return true;    /* still running after Stop tracing: its call */
        }
    }
    if (!ex.signaled && (ex.code == 126 || ex.code == 127)) {
        const char *path = s->o->workload_path_on_guest
                           ? s->o->workload_path_on_guest
                           : s->o->workload_path_on_host;
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the guest could not run the workload %s (exit status "
                    "%d: %s)", path, ex.code,
                    ex.code == 127 ? "not found" : "not executable");
        return false;
    }
    if (ex.signaled || (ex.code != 0 && !s->o->has_timeout)) {
        error_msg("note: the workload %s %d",
                  ex.signaled ? "was killed by signal" : "exited with status",
                  ex.code);
    }
    return true;
}

static bool finish_qemu(Session *s, GError **err)
{
    if (!check_workload_status(s, err)) {
        return false;
    }
    if (s->o->dont_exit_qemu_when_done) {
        return true;
    }
    debug_msg("quitting QEMU");
    g_autoptr(GError) e = NULL;
    if (!qmp_do(s, "quit", NULL, NULL, &e) && child_alive(&s->qemu)) {
        g_propagate_error(err, g_steal_pointer(&e));
        return false;
    }
    if (!child_wait(&s->qemu, deadline_in(s->protocol_us))) {
        return timed_out(err, s->protocol_us, "QEMU to exit after quit");
    }
    return true;
}

/* With --dont_exit_qemu_when_done: after the report, the user's turn. */
static bool hand_over_monitor(Session *s, GError **err)
{
    if (!s->o->dont_exit_qemu_when_done) {
        return true;
    }
    if (s->tracing) {
        g_autoptr(GError) e = NULL;
        qmp_do(s, "gmbeoo-disable", NULL, NULL, &e);
    }
    bool ok = monitor_interact(s->qmp, &s->qemu, err);
    if (child_alive(&s->qemu)) {
        g_autoptr(GError) e = NULL;
        qmp_do(s, "quit", NULL, NULL, &e);
        child_wait(&s->qemu, deadline_in(s->protocol_us));
    }
    return ok;
}

/* ---- clean-up ---- */

/* Keep the guest console log of a failed run outside the runtime dir. */
static void keep_console_log(Session *s)
{
    struct stat st;
    if (!s->console_log || stat(s->console_log, &st) != 0 || st.st_size == 0) {
        return;
    }
    g_autofree char *name = g_strdup_printf("memory_tracer-console-%d.log",
                                            (int)getpid());
    char *dest = g_build_filename(g_get_tmp_dir(), name, NULL);
    g_autofree char *text = NULL;
    gsize len;
    if (g_file_get_contents(s->console_log, &text, &len, NULL) &&
        g_file_set_contents(dest, text, len, NULL)) {
        s->kept_console_log = dest;
    } else {
        g_free(dest);
    }
}

static void clean_up(Session *s)
{
    if (s->tool_started || s->tool.out) {
        analysis_finish(&s->tool, 3 * G_USEC_PER_SEC);
    }
    if (s->qemu.pid && child_alive(&s->qemu) && s->qmp) {
        g_autoptr(GError) e = NULL;
        JsonNode *r = qmp_execute(s->qmp, "quit", NULL,
                                  deadline_in(3 * G_USEC_PER_SEC), &e);
        if (r) {
            json_node_unref(r);
        }
        child_wait(&s->qemu, deadline_in(5 * G_USEC_PER_SEC));
    }
    child_stop(&s->qemu, SIGTERM, 5 * G_USEC_PER_SEC);
    if (s->qmp) {
        qmp_close(s->qmp);
        s->qmp = NULL;
    }
    if (s->serial) {
        serial_channel_free(s->serial);
        s->serial = NULL;
    }
    if (s->fifo_probe >= 0) {
        close(s->fifo_probe);
        s->fifo_probe = -1;
    }
    runtime_dir_remove(s->dir);
}

static void session_free(Session *s)
{
    g_free(s->dir);
    g_free(s->qmp_path);
    g_free(s->serial_path);
    g_free(s->fifo_path);
    g_free(s->console_log);
    g_free(s->qemu_log);
    g_free(s->image_copy);
    g_free(s->executable1);
    g_free(s->kept_console_log);
    run_result_clear(&s->result);
}

/* ---- the run ---- */

static bool run(Session *s, GError **err)
{
    return make_runtime_dir(s, err)
        && make_fifo(s, err)
        && write_executable1(s, err)
        && start_qemu(s, err)
        && connect_qmp(s, err)
        && upload_workload(s, err)
        && read_workload_info(s, err)
        && wait_ready_to_trace(s, err)      /* ... then QMP stop */
        && start_analysis_tool(s, err)      /* ... and its "Ready to analyze" */
        && enable_tracing(s, err)           /* ... until the reader has it */
        && release_workload(s, err)         /* cont, Enter, clock starts */
        && wait_stop_tracing(s, err)        /* clock stops, QMP stop */
        && close_trace_output(s, err)
        && wait_reader_drained(s, err)
        && collect_analysis_output(s, err)  /* SIGUSR1, result block */
        && query_trace_info(s, err)
        && finish_qemu(s, err);
}

int session_run(Options *o)
{
    Session s = {
        .o = o,
        .tracing = o->mode == TRACE_TO_ANALYSIS_TOOL ||
                   o->mode == TRACE_TO_FIFO,
        .startup_us = env_seconds("MEMORY_TRACER_STARTUP_DEADLINE", 300),
        .protocol_us = env_seconds("MEMORY_TRACER_PROTOCOL_DEADLINE", 60),
        .workload_us = env_seconds("MEMORY_TRACER_WORKLOAD_DEADLINE", 86400),
        .fifo_probe = -1,
    };
    debug_msg("start memory_tracer");
    g_autoptr(GError) err = NULL;
    bool ok = run(&s, &err);
    if (ok) {
        report_print(&s.result);
        ok = hand_over_monitor(&s, &err);
    }
    if (!ok && !runtime_interrupted()) {
        keep_console_log(&s);
    }
    clean_up(&s);
    int status = 0;
    if (!ok) {
        int sig = runtime_interrupted();
        if (s.kept_console_log) {
            error_msg("%s (guest console log: %s)", err->message,
                      s.kept_console_log);
        } else {
            error_msg("%s", err->message);
        }
        status = sig ? 128 + sig : 1;
    }
    debug_msg("end memory_tracer");
    session_free(&s);
    return status;
}
