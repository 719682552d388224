/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <stdio.h>
#include <string.h>

#define ATTENTION "- - - - - - - - - - ATTENTION - - - - - - - - - -: "

void run_result_clear(RunResult *r)
{
    g_free(r->workload_info);
    g_free(r->analysis_output);
    if (r->trace_info) {
        json_object_unref(r->trace_info);
    }
    if (r->counters) {
        json_object_unref(r->counters);
    }
    if (r->qemu_version) {
        json_node_unref(r->qemu_version);
    }
    memset(r, 0, sizeof(*r));
}

static guint64 counter(JsonObject *q, const char *name)
{
    if (!json_object_has_member(q, name)) {
        return 0;
    }
    gint64 v = json_object_get_int_member(q, name);
    return (guint64)v;
}

char *report_trace_info(JsonObject *q)
{
    GString *s = g_string_new(NULL);
    guint64 events = counter(q, "events");
    guint64 written = counter(q, "written-to-ring");
    guint64 output = counter(q, "written-to-output");
    guint64 waiting = counter(q, "waiting");
    guint64 missing = counter(q, "missing");
    guint64 dropped = counter(q, "dropped");

    if (waiting) {
        g_string_append_printf(s, ATTENTION "num_of_events_waiting_in_trace_buf"
                               ": %" G_GUINT64_FORMAT "\n", waiting);
    }
    g_string_append_printf(s, "num_of_GMBE_events_since_enabling_GMBEOO: %"
                           G_GUINT64_FORMAT "\n", events);
    g_string_append_printf(s, "num_of_events_written_to_trace_buf: %"
                           G_GUINT64_FORMAT "\n", written);
    g_string_append_printf(s, "num_of_events_written_to_trace_file: %"
                           G_GUINT64_FORMAT "\n", output);
    if (missing) {
        g_string_append_printf(s, ATTENTION "num_of_missing_events: %"
                               G_GUINT64_FORMAT "\n", missing);
    }
    if (written) {
        g_string_append_printf(s, "actual_tracing_ratio (i.e. "
                               "num_of_GMBE_events_since_enabling_GMBEOO / "
                               "num_of_events_written_to_trace_buf): %"
                               G_GUINT64_FORMAT "\n", events / written);
    }
    if (dropped) {
        g_string_append_printf(s, ATTENTION "num_of_dropped_events: %"
                               G_GUINT64_FORMAT "\n", dropped);
    }
    /* A line per vCPU when there are several; they add up to the above. */
    JsonArray *vcpus = json_object_has_member(q, "vcpus")
                       ? json_object_get_array_member(q, "vcpus") : NULL;
    guint n = vcpus ? json_array_get_length(vcpus) : 0;
    for (guint i = 0; n > 1 && i < n; i++) {
        JsonObject *v = json_array_get_object_element(vcpus, i);
        if (!v) {
            continue;
        }
        g_string_append_printf(s, "vCPU %" G_GUINT64_FORMAT ": events %"
                               G_GUINT64_FORMAT ", written_to_trace_buf %"
                               G_GUINT64_FORMAT ", written_to_trace_file %"
                               G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
                               "\n", counter(v, "cpu-index"),
                               counter(v, "events"),
                               counter(v, "written-to-ring"),
                               counter(v, "written-to-output"),
                               counter(v, "dropped"));
    }
    if (json_object_has_member(q, "output-error")) {
        g_string_append_printf(s, ATTENTION "trace_output_error: %s\n",
                               json_object_get_string_member(q,
                                                             "output-error"));
    }
    if (s->len && s->str[s->len - 1] == '\n') {
        g_string_truncate(s, s->len - 1);
    }
    return g_string_free(s, FALSE);
}

char *report_clean_block(const char *text)
{
    char *copy = g_strdup(text);
    char *w = copy;
    for (const char *p = copy; *p; p++) {
        if (*p != '\r') {
            *w++ = *p;
        }
    }
    *w = '\0';
    return g_strstrip(copy);
}

static void print_block(const char *label, const char *text)
{
    g_autofree char *clean = report_clean_block(text);
    printf("%s\n%s\n", label, clean);
}

void report_print(const RunResult *r)
{
    if (r->workload_info && r->workload_info[0]) {
        print_block("workload info:", r->workload_info);
    }
    printf("tracing_duration_in_milliseconds: %" G_GINT64_FORMAT "\n",
           r->duration_ms);
    if (r->analysis_output) {
        print_block("analysis output:", r->analysis_output);
    }
    if (r->trace_info) {
        g_autofree char *block = report_trace_info(r->trace_info);
        if (r->has_workload_cr3) {
            /* The address space (see wait_ready_to_trace()). */
            char *b = g_strdup_printf("%s\nworkload_CR3: 0x%" G_GINT64_MODIFIER
                                      "x", block, r->workload_cr3);
            g_free(block);
            block = b;
        }
        print_block("trace info:", block);
    }
    fflush(stdout);
}
