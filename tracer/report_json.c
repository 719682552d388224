/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report_json.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "guestconf.h"
#include "msg.h"
#include "version.h"

static char **command_line;
static GDateTime *start_time;

void report_json_start(int argc, char **argv)
{
    g_strfreev(command_line);
    command_line = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++) {
        command_line[i] = g_strdup(argv[i]);
    }
    if (start_time) {
        g_date_time_unref(start_time);
    }
    start_time = g_date_time_new_now_utc();
}

JsonNode *report_json_qemu_version(QmpClient *qmp)
{
    g_autoptr(GError) e = NULL;
    return qmp_execute(qmp, "query-version", NULL,
                       g_get_monotonic_time() + 30 * G_USEC_PER_SEC, &e);
}

/* ---- the workload's end and the exit status ---- */

void run_result_set_workload_exit(RunResult *r, const Options *o,
                                  bool signaled, int code, bool wrapped)
{
    /* A shell hands a killed child on as 128 + N (POSIX: "greater than
     * 128"; every shell here uses 128 + N). */
    if (!signaled && wrapped && code > 128 && code < 128 + 65) {
        signaled = true;
        code -= 128;
    }
    r->workload_code = code;
    if (signaled) {
        /* busybox timeout kills with SIGTERM, coreutils exits 124. */
        r->workload_end = o->has_timeout && code == SIGTERM
                          ? WORKLOAD_END_TIMEOUT : WORKLOAD_END_SIGNAL;
    } else if (o->has_timeout && code == 124) {
        r->workload_end = WORKLOAD_END_TIMEOUT;
    } else if (code == 127) {
        r->workload_end = WORKLOAD_END_NOT_FOUND;
    } else if (code == 126) {
        r->workload_end = WORKLOAD_END_NOT_EXECUTABLE;
    } else {
        r->workload_end = WORKLOAD_END_EXITED;
    }
}

int run_result_exit_status(const RunResult *r)
{
    switch (r->workload_end) {
    case WORKLOAD_END_EXITED:
        return r->workload_code & 0xff;
    case WORKLOAD_END_SIGNAL:
        return 128 + r->workload_code;
    case WORKLOAD_END_NOT_FOUND:
        return 127;
    case WORKLOAD_END_NOT_EXECUTABLE:
        return 126;
    case WORKLOAD_END_TIMEOUT:      /* the end the user asked for */
    case WORKLOAD_END_RUNNING:      /* past "Stop tracing": its business */
    case WORKLOAD_END_UNKNOWN:
        return 0;
    }
    return 0;
}

char *run_result_not_run_message(const RunResult *r, const Options *o)
{
    if (r->workload_end != WORKLOAD_END_NOT_FOUND &&
        r->workload_end != WORKLOAD_END_NOT_EXECUTABLE) {
        return NULL;
    }
    const char *path = o->workload_path_on_guest ? o->workload_path_on_guest
                                                 : o->workload_path_on_host;
    bool not_found = r->workload_end == WORKLOAD_END_NOT_FOUND;
    return g_strdup_printf("the guest could not run the workload %s (exit "
                           "status %d: %s)", path, not_found ? 127 : 126,
                           not_found ? "not found" : "not executable");
}

static const char *workload_end_name(WorkloadEnd end)
{
    switch (end) {
    case WORKLOAD_END_UNKNOWN:
        return "unknown";
    case WORKLOAD_END_RUNNING:
        return "still_running";
    case WORKLOAD_END_EXITED:
        return "exited";
    case WORKLOAD_END_SIGNAL:
        return "signal";
    case WORKLOAD_END_NOT_FOUND:
        return "not_found";
    case WORKLOAD_END_NOT_EXECUTABLE:
        return "not_executable";
    case WORKLOAD_END_TIMEOUT:
        return "timeout";
    }
    return "unknown";
}

/* ---- pieces of the report ---- */

static void set_string_or_null(JsonBuilder *b, const char *name,
                               const char *value)
{
    json_builder_set_member_name(b, name);
    if (value) {
        json_builder_add_string_value(b, value);
    } else {
        json_builder_add_null_value(b);
    }
}

static void set_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static void set_bool(JsonBuilder *b, const char *name, bool value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

static guint64 counter(JsonObject *q, const char *name)
{
    return (guint64)json_object_get_int_member_with_default(q, name, 0);
}

/* The trace-info block's numbers under the original's names (report.c
 * prints the same ones; the ATTENTION lines are here with 0 when absent). */
static void add_trace_info(JsonBuilder *b, JsonObject *q)
{
    guint64 events = counter(q, "events");
    guint64 written = counter(q, "written-to-ring");
    json_builder_set_member_name(b, "trace_info");
    json_builder_begin_object(b);
    set_int(b, "num_of_GMBE_events_since_enabling_GMBEOO", (gint64)events);
    set_int(b, "num_of_events_written_to_trace_buf", (gint64)written);
    set_int(b, "num_of_events_written_to_trace_file",
            (gint64)counter(q, "written-to-output"));
    json_builder_set_member_name(b, "actual_tracing_ratio");
    if (written) {
        json_builder_add_int_value(b, (gint64)(events / written));
    } else {
        json_builder_add_null_value(b);
    }
    set_int(b, "num_of_events_waiting_in_trace_buf",
            (gint64)counter(q, "waiting"));
    set_int(b, "num_of_missing_events", (gint64)counter(q, "missing"));
    set_int(b, "num_of_dropped_events", (gint64)counter(q, "dropped"));
    set_string_or_null(b, "trace_output_error",
                       json_object_get_string_member_with_default(
                           q, "output-error", NULL));
    json_builder_end_object(b);
}

/* "name:   value" lines of the analysis block as members (numbers as
 * numbers), for collectors; the whole block stays in analysis_output. */
static void add_analysis_fields(JsonBuilder *b, const char *text)
{
    json_builder_set_member_name(b, "analysis_output_fields");
    json_builder_begin_object(b);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (char **l = lines; *l; l++) {
        char *colon = strchr(*l, ':');
        if (!colon || colon == *l) {
            continue;
        }
        g_autofree char *name = g_strndup(*l, colon - *l);
        bool ident = true;
        for (const char *c = name; *c && ident; c++) {
            ident = g_ascii_isalnum(*c) || *c == '_';
        }
        g_autofree char *value = g_strstrip(g_strdup(colon + 1));
        if (!ident || !*value || g_hash_table_contains(seen, name)) {
            continue;
        }
        g_hash_table_add(seen, (gpointer)g_intern_string(name));
        json_builder_set_member_name(b, name);
        char *end;
        errno = 0;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (*end == '\0' && errno == 0) {
            json_builder_add_int_value(b, v);
        } else {
            json_builder_add_string_value(b, value);
        }
    }
    json_builder_end_object(b);
}

/* The release in a bzImage's setup header (x86 boot protocol: "HdrS" at
 * 0x202, the version string's offset - 0x200 at 0x20e), e.g.
 * "6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP ...". */
static char *kernel_version_of(const char *path)
{
    g_autoptr(GMappedFile) f = g_mapped_file_new(path, FALSE, NULL);
    if (!f) {
        return NULL;
    }
    const guint8 *d = (const guint8 *)g_mapped_file_get_contents(f);
    gsize len = g_mapped_file_get_length(f);
    if (len < 0x210 || memcmp(d + 0x202, "HdrS", 4) != 0) {
        return NULL;
    }
    gsize off = 0x200 + (d[0x20e] | (gsize)d[0x20f] << 8);
    if (off >= len) {
        return NULL;
    }
    gsize n = 0;
    while (off + n < len && n < 256 && d[off + n] && g_ascii_isprint(d[off + n])) {
        n++;
    }
    return n ? g_strndup((const char *)d + off, n) : NULL;
}

static void add_guest(JsonBuilder *b, const Options *o)
{
    g_autoptr(GuestConf) conf = NULL;
    if (o->guest_conf_path) {
        conf = guest_conf_load(o->guest_conf_path, NULL);
    }
    json_builder_set_member_name(b, "guest");
    json_builder_begin_object(b);
    set_bool(b, "embedded", o->embedded_guest);
    const char *image = o->guest_image_path;
    const char *snapshot = o->snapshot_name;
    if (conf && o->embedded_guest) {
        image = conf->image;
        snapshot = conf->snapshot;
    }
    set_string_or_null(b, "image", image);
    set_string_or_null(b, "snapshot", snapshot);
    set_string_or_null(b, "guest_conf", o->guest_conf_path);
    set_string_or_null(b, "kernel", conf ? conf->kernel : NULL);
    g_autofree char *version = conf && conf->kernel
                               ? kernel_version_of(conf->kernel) : NULL;
    g_autofree char *release = NULL;
    if (version) {
        const char *sp = strchr(version, ' ');
        release = sp ? g_strndup(version, sp - version) : g_strdup(version);
    }
    set_string_or_null(b, "kernel_release", release);
    set_string_or_null(b, "kernel_version", version);
    set_string_or_null(b, "machine", conf ? conf->machine : NULL);
    json_builder_set_member_name(b, "ram_mb");
    if (o->guest_ram_mb > 0) {
        json_builder_add_int_value(b, o->guest_ram_mb);
    } else if (conf) {
        json_builder_add_int_value(b, conf->memory_mb);
    } else {
        json_builder_add_null_value(b);
    }
    set_int(b, "vcpus", o->num_vcpus > 0 ? o->num_vcpus
                        : conf ? (gint64)conf->smp : 1);
    json_builder_end_object(b);
}

static const char *mode_name(TraceMode m)
{
    switch (m) {
    case TRACE_TO_ANALYSIS_TOOL:
        return "analysis_tool";
    case TRACE_TO_FIFO:
        return "trace_fifo";
    case TRACE_TO_FILE:
        return "trace_file";
    case TRACE_NONE:
        return "dont_trace";
    case TRACE_NATIVE:
        return "dont_use_qemu";
    }
    return "unknown";
}

/* @a as JSON strings (bytes that are not UTF-8 become U+FFFD). */
static void add_strings(JsonBuilder *b, const char *name, char *const *a)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (; a && *a; a++) {
        g_autofree char *valid = g_utf8_make_valid(*a, -1);
        json_builder_add_string_value(b, valid);
    }
    json_builder_end_array(b);
}

/* Every option under its name, with the value the run used. */
static void add_options(JsonBuilder *b, const Options *o)
{
    json_builder_set_member_name(b, "options");
    json_builder_begin_object(b);
    set_string_or_null(b, "guest_image_path", o->guest_image_path);
    set_string_or_null(b, "snapshot_name", o->snapshot_name);
    set_string_or_null(b, "qemu_with_GMBEOO_path", o->qemu_with_GMBEOO_path);
    set_string_or_null(b, "workload_path_on_guest", o->workload_path_on_guest);
    set_string_or_null(b, "workload_path_on_host", o->workload_path_on_host);
    set_string_or_null(b, "mode", mode_name(o->mode));
    set_string_or_null(b, "analysis_tool_path", o->analysis_tool_path);
    set_string_or_null(b, "trace_fifo_path", o->trace_fifo_path);
    set_string_or_null(b, "trace_file_path", o->trace_file_path);
    set_string_or_null(b, "analysis_transport",
                       o->mode != TRACE_TO_ANALYSIS_TOOL ? NULL
                       : o->analysis_transport_fifo ? "fifo" : "auto");
    set_bool(b, "dont_trace", o->mode == TRACE_NONE);
    set_bool(b, "dont_use_qemu", o->mode == TRACE_NATIVE);
    json_builder_set_member_name(b, "timeout");
    if (o->has_timeout) {
        json_builder_add_double_value(b, o->timeout);
    } else {
        json_builder_add_null_value(b);
    }
    set_bool(b, "dont_add_communications_with_host_to_workload",
             o->dont_add_communications);
    set_bool(b, "trace_only_CPL3_code_GMBE", o->trace_only_cpl3);
    set_int(b, "log_of_GMBE_block_len", o->log_of_block_len);
    set_int(b, "log_of_GMBE_tracing_ratio", o->log_of_tracing_ratio);
    set_bool(b, "print_trace_info", o->print_trace_info);
    set_bool(b, "dont_use_nographic", o->dont_use_nographic);
    set_bool(b, "dont_exit_qemu_when_done", o->dont_exit_qemu_when_done);
    json_builder_set_member_name(b, "guest_RAM_in_MBs");
    if (o->guest_ram_mb > 0) {
        json_builder_add_int_value(b, o->guest_ram_mb);
    } else {
        json_builder_add_null_value(b);     /* the guest.conf's */
    }
    json_builder_set_member_name(b, "guest_num_of_vCPUs");
    if (o->has_num_vcpus) {
        json_builder_add_int_value(b, o->num_vcpus);
    } else {
        json_builder_add_null_value(b);     /* the snapshot's */
    }
    set_bool(b, "verbose", o->verbose);
    set_string_or_null(b, "report_json", o->report_json);
    /* The workload's argv[1...] (after "--"), and exactly, byte for byte,
     * as lowercase hex. */
    add_strings(b, "workload_args", o->workload_args);
    json_builder_set_member_name(b, "workload_args_hex");
    json_builder_begin_array(b);
    for (char **a = o->workload_args; a && *a; a++) {
        GString *hex = g_string_new(NULL);
        for (const unsigned char *c = (const unsigned char *)*a; *c; c++) {
            g_string_append_printf(hex, "%02x", *c);
        }
        json_builder_add_string_value(b, hex->str);
        g_string_free(hex, TRUE);
    }
    json_builder_end_array(b);
    add_strings(b, "copy_to_guest", o->copy_to_guest);
    set_string_or_null(b, "workload_output_path", o->workload_output_path);
    set_string_or_null(b, "qemu_binary", o->qemu_binary);
    set_string_or_null(b, "firmware_dir", o->firmware_dir);
    static const char *const env[] = {
        "MEMORY_TRACER_STARTUP_DEADLINE", "MEMORY_TRACER_PROTOCOL_DEADLINE",
        "MEMORY_TRACER_WORKLOAD_DEADLINE",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(env); i++) {
        set_string_or_null(b, env[i], g_getenv(env[i]));
    }
    json_builder_end_object(b);
}

static void add_time(JsonBuilder *b, const char *name, GDateTime *t)
{
    g_autofree char *text = t ? g_date_time_format_iso8601(t) : NULL;
    set_string_or_null(b, name, text);
}

JsonNode *report_json_build(const Options *o, const RunResult *r,
                            const char *error, int status)
{
    static const RunResult none;
    if (!r) {
        r = &none;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    set_string_or_null(b, "memory_tracer_version", MEMORY_TRACER_VERSION);
    add_time(b, "start_time", start_time);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    add_time(b, "end_time", now);
    set_string_or_null(b, "host", g_get_host_name());
    json_builder_set_member_name(b, "command_line");
    json_builder_begin_array(b);
    for (char **a = command_line; a && *a; a++) {
        g_autofree char *valid = g_utf8_make_valid(*a, -1);
        json_builder_add_string_value(b, valid);
    }
    json_builder_end_array(b);

    set_int(b, "exit_status", status);
    set_string_or_null(b, "memory_tracer_error", error);
    json_builder_set_member_name(b, "workload_exit_status");
    if (r->workload_end == WORKLOAD_END_UNKNOWN ||
        r->workload_end == WORKLOAD_END_RUNNING) {
        json_builder_add_null_value(b);
    } else if (r->workload_end == WORKLOAD_END_SIGNAL ||
               (r->workload_end == WORKLOAD_END_TIMEOUT &&
                r->workload_code == SIGTERM)) {
        json_builder_add_int_value(b, 128 + r->workload_code);
    } else {
        json_builder_add_int_value(b, r->workload_code);
    }
    set_string_or_null(b, "workload_end", workload_end_name(r->workload_end));
    json_builder_set_member_name(b, "workload_signal");
    if (r->workload_end == WORKLOAD_END_SIGNAL) {
        json_builder_add_int_value(b, r->workload_code);
    } else {
        json_builder_add_null_value(b);
    }

    set_string_or_null(b, "workload_info", r->workload_info);
    json_builder_set_member_name(b, "tracing_duration_in_milliseconds");
    if (r->has_duration) {
        json_builder_add_int_value(b, r->duration_ms);
    } else {
        json_builder_add_null_value(b);
    }
    g_autofree char *analysis = r->analysis_output
                                ? report_clean_block(r->analysis_output) : NULL;
    set_string_or_null(b, "analysis_output", analysis);
    set_string_or_null(b, "analysis_transport", r->analysis_transport);
    if (analysis) {
        add_analysis_fields(b, analysis);
    }
    g_autofree char *cr3 = r->has_workload_cr3
        ? g_strdup_printf("0x%" G_GINT64_MODIFIER "x", r->workload_cr3) : NULL;
    set_string_or_null(b, "workload_CR3", cr3);
    if (r->counters) {
        add_trace_info(b, r->counters);
        json_builder_set_member_name(b, "query_gmbeoo");
        JsonNode *raw = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(raw, r->counters);
        json_builder_add_value(b, raw);
    } else {
        json_builder_set_member_name(b, "trace_info");
        json_builder_add_null_value(b);
    }

    json_builder_set_member_name(b, "qemu_version");
    if (r->qemu_version) {
        json_builder_add_value(b, json_node_copy(r->qemu_version));
    } else {
        json_builder_add_null_value(b);
    }
    add_guest(b, o);
    add_options(b, o);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

int report_json_finish(const Options *o, const RunResult *r,
                       const char *error, int status)
{
    if (!o->report_json) {
        return status;
    }
    g_autoptr(JsonNode) root = report_json_build(o, r, error, status);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, root);
    gsize len;
    g_autofree char *text = json_generator_to_data(gen, &len);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    /* g_file_set_contents writes a temporary file beside PATH, fsyncs it
     * and renames it over PATH. */
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents_full(o->report_json, with_nl, len + 1,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, &e)) {
        error_msg("cannot write the JSON report: %s", e->message);
        return 1;
    }
    return status;
}
