/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option parsing and validation.  A small table-driven parser rather than
 * GOptionContext: the original's names contain underscores and need dashed
 * aliases, its groups are mutually exclusive, and argparse's behaviour
 * (negative numbers as values, `--name=value`, `--`) is easy to match here.
 */
#include "options.h"

#include "gmbeoo/record.h"
#include "trace_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define fail options_fail

typedef enum {
    OPT_WORKLOAD_GUEST, OPT_WORKLOAD_HOST,
    OPT_ANALYSIS_TOOL, OPT_TRACE_FIFO, OPT_TRACE_FILE, OPT_DONT_TRACE, OPT_DONT_USE_QEMU,
    OPT_TIMEOUT, OPT_DONT_ADD_COMMS,
    OPT_CPL3, OPT_BLOCK_LEN, OPT_TRACING_RATIO, OPT_PRINT_TRACE_INFO,
    OPT_DONT_USE_NOGRAPHIC, OPT_DONT_EXIT, OPT_GUEST_RAM, OPT_GUEST_VCPUS,
    OPT_VERBOSE, OPT_REPORT_JSON, OPT_RECORD_FORMAT, OPT_TRACE_FILE_CODEC,
    OPT_COPY_TO_GUEST, OPT_WORKLOAD_OUTPUT, OPT_ANALYSIS_TRANSPORT, OPT_HELP, OPT_VERSION,
    OPT_COUNT
} OptionId;

typedef struct OptionSpec {
    const char *name;           /* without the leading "--" */
    OptionId id;
    bool takes_value;
    char group;                 /* 'A', 'B', 'C' or 0 */
} OptionSpec;

static const OptionSpec specs[] = {
    { "workload_path_on_guest", OPT_WORKLOAD_GUEST, true, 'A' },
    { "workload_path_on_host", OPT_WORKLOAD_HOST, true, 'A' },
    { "analysis_tool_path", OPT_ANALYSIS_TOOL, true, 'B' },
    { "trace_fifo_path", OPT_TRACE_FIFO, true, 'B' },
    { "trace_file_path", OPT_TRACE_FILE, true, 'B' },
    { "dont_trace", OPT_DONT_TRACE, false, 'B' },
    { "dont_use_qemu", OPT_DONT_USE_QEMU, false, 'B' },
    { "timeout", OPT_TIMEOUT, true, 'C' },
    { "dont_add_communications_with_host_to_workload", OPT_DONT_ADD_COMMS,
      false, 'C' },
    { "trace_only_CPL3_code_GMBE", OPT_CPL3, false, 0 },
    { "log_of_GMBE_block_len", OPT_BLOCK_LEN, true, 0 },
    { "log_of_GMBE_tracing_ratio", OPT_TRACING_RATIO, true, 0 },
    { "print_trace_info", OPT_PRINT_TRACE_INFO, false, 0 },
    { "dont_use_nographic", OPT_DONT_USE_NOGRAPHIC, false, 0 },
    { "dont_exit_qemu_when_done", OPT_DONT_EXIT, false, 0 },
    { "guest_RAM_in_MBs", OPT_GUEST_RAM, true, 0 },
    { "guest_num_of_vCPUs", OPT_GUEST_VCPUS, true, 0 },
    { "trace_record_format", OPT_RECORD_FORMAT, true, 0 },
    { "trace_file_codec", OPT_TRACE_FILE_CODEC, true, 0 },
    { "analysis_transport", OPT_ANALYSIS_TRANSPORT, true, 0 },
    { "verbose", OPT_VERBOSE, false, 0 },
    { "report_json", OPT_REPORT_JSON, true, 0 },
    { "copy_to_guest", OPT_COPY_TO_GUEST, true, 0 },
    { "workload_output_path", OPT_WORKLOAD_OUTPUT, true, 0 },
    { "help", OPT_HELP, false, 0 },
    { "version", OPT_VERSION, false, 0 },
};

bool options_fail(OptionsError *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->exit_code = code;
    e->message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return false;
}

/* "--log-of-GMBE-block-len" and "--log_of_GMBE_block_len" are one option. */
static bool same_name(const char *given, size_t len, const char *name)
{
    if (strlen(name) != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char a = given[i] == '-' ? '_' : given[i];
        if (a != name[i]) {
            return false;
        }
    }
    return true;
}

static bool is_prefix(const char *given, size_t len, const char *name)
{
    if (strlen(name) < len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char a = given[i] == '-' ? '_' : given[i];
        if (a != name[i]) {
            return false;
        }
    }
    return true;
}

/* The option named @given (@len chars): an exact name, or, like argparse,
 * an unambiguous prefix of one.  *@ambiguous is set for a shared prefix. */
static const OptionSpec *find_spec(const char *given, size_t len,
                                   bool *ambiguous)
{
    const OptionSpec *prefix_match = NULL;
    int prefix_matches = 0;
    *ambiguous = false;
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
        if (same_name(given, len, specs[i].name)) {
            return &specs[i];
        }
        if (len > 0 && is_prefix(given, len, specs[i].name)) {
            prefix_match = &specs[i];
            prefix_matches++;
        }
    }
    *ambiguous = prefix_matches > 1;
    return prefix_matches == 1 ? prefix_match : NULL;
}

static const OptionSpec *spec_of(OptionId id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++) {
        if (specs[i].id == id) {
            return &specs[i];
        }
    }
    g_assert_not_reached();
}

static bool parse_long(const char *name, const char *s, long *out,
                       OptionsError *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t') {
        end++;
    }
    if (*s == '\0' || *end != '\0' || errno == ERANGE) {
        return fail(e, 2, "argument --%s: invalid int value: '%s'", name, s);
    }
    *out = v;
    return true;
}

static bool apply(Options *o, const OptionSpec *spec, const char *value,
                  OptionsError *e)
{
    switch (spec->id) {
    case OPT_WORKLOAD_GUEST:
        g_free(o->workload_path_on_guest);
        o->workload_path_on_guest = g_strdup(value);
        break;
    case OPT_WORKLOAD_HOST:
        g_free(o->workload_path_on_host);
        o->workload_path_on_host = g_strdup(value);
        break;
    case OPT_ANALYSIS_TOOL:
        o->mode = TRACE_TO_ANALYSIS_TOOL;
        g_free(o->analysis_tool_path);
        o->analysis_tool_path = g_strdup(value);
        break;
    case OPT_TRACE_FIFO:
        o->mode = TRACE_TO_FIFO;
        g_free(o->trace_fifo_path);
        o->trace_fifo_path = g_strdup(value);
        break;
    case OPT_TRACE_FILE:
        o->mode = TRACE_TO_FILE;
        g_free(o->trace_file_path);
        o->trace_file_path = g_strdup(value);
        break;
    case OPT_DONT_TRACE:
        o->mode = TRACE_NONE;
        break;
    case OPT_DONT_USE_QEMU:
        o->mode = TRACE_NATIVE;
        break;
    case OPT_TIMEOUT: {
        char *end;
        double t = g_ascii_strtod(value, &end);
        if (*value == '\0' || *end != '\0' || !isfinite(t)) {
            return fail(e, 2, "argument --timeout: invalid float value: '%s'",
                        value);
        }
        o->has_timeout = true;
        o->timeout = t;
        break;
    }
    case OPT_DONT_ADD_COMMS:
        o->dont_add_communications = true;
        break;
    case OPT_CPL3:
        o->trace_only_cpl3 = true;
        break;
    case OPT_BLOCK_LEN:
        return parse_long(spec->name, value, &o->log_of_block_len, e);
    case OPT_TRACING_RATIO:
        return parse_long(spec->name, value, &o->log_of_tracing_ratio, e);
    case OPT_PRINT_TRACE_INFO:
        o->print_trace_info = true;
        break;
    case OPT_DONT_USE_NOGRAPHIC:
        o->dont_use_nographic = true;
        break;
    case OPT_DONT_EXIT:
        o->dont_exit_qemu_when_done = true;
        break;
    case OPT_GUEST_RAM:
        o->has_guest_ram = true;
        return parse_long(spec->name, value, &o->guest_ram_mb, e);
    case OPT_GUEST_VCPUS:
        o->has_num_vcpus = true;
        return parse_long(spec->name, value, &o->num_vcpus, e);
    case OPT_VERBOSE:
        o->verbose = true;
        break;
    case OPT_REPORT_JSON:
        g_free(o->report_json);
        o->report_json = g_strdup(value);
        break;
    case OPT_RECORD_FORMAT: {
        int f = gmbeoo_format_from_name(value);
        if (f < 0) {
            return fail(e, 2, "argument --%s: invalid choice: '%s' (choose "
                        "from 'gmbeoo16', 'compact8', 'extended32')",
                        spec->name, value);
        }
        o->record_format = f;
        break;
    }
    case OPT_TRACE_FILE_CODEC: {
        g_autoptr(GError) err = NULL;
        if (!trace_codec_parse(value, &o->trace_file_codec, &err)) {
            return fail(e, 2, "argument --%s: %s", spec->name, err->message);
        }
        o->has_trace_file_codec = true;
        break;
    }
    case OPT_ANALYSIS_TRANSPORT:
        if (strcmp(value, "auto") != 0 && strcmp(value, "fifo") != 0) {
            return fail(e, 2, "argument --%s: invalid choice: '%s' (choose "
                        "from 'auto', 'fifo')", spec->name, value);
        }
        o->analysis_transport_fifo = strcmp(value, "fifo") == 0;
        o->has_analysis_transport = true;
        break;
    case OPT_COPY_TO_GUEST: {
        guint n = o->copy_to_guest ? g_strv_length(o->copy_to_guest) : 0;
        o->copy_to_guest = g_renew(char *, o->copy_to_guest, n + 2);
        o->copy_to_guest[n] = g_strdup(value);
        o->copy_to_guest[n + 1] = NULL;
        break;
    }
    case OPT_WORKLOAD_OUTPUT:
        g_free(o->workload_output_path);
        o->workload_output_path = g_strdup(value);
        break;
    case OPT_HELP:
        o->help = true;
        break;
    case OPT_VERSION:
        o->version = true;
        break;
    case OPT_COUNT:
        g_assert_not_reached();
    }
    return true;
}

/* The argparse-style group checks, once everything has been read. */
static bool check_groups(const OptionId *seen_in_order, int nseen,
                         OptionsError *e)
{
    static const struct {
        char group;
        bool required;
        const char *names;
    } groups[] = {
        { 'A', true, "--workload_path_on_guest --workload_path_on_host" },
        { 'B', true, "--analysis_tool_path --trace_fifo_path "
                     "--trace_file_path --dont_trace --dont_use_qemu" },
        { 'C', false, NULL },
    };
    for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
        const OptionSpec *first = NULL;
        for (int i = 0; i < nseen; i++) {
            const OptionSpec *s = spec_of(seen_in_order[i]);
            if (s->group != groups[g].group) {
                continue;
            }
            if (first && first->id != s->id) {
                return fail(e, 2, "argument --%s: not allowed with argument "
                            "--%s", s->name, first->name);
            }
            first = s;
        }
        if (!first && groups[g].required) {
            return fail(e, 2, "one of the arguments %s is required",
                        groups[g].names);
        }
    }
    return true;
}

bool options_parse(Options *o, int argc, char **argv, OptionsError *e)
{
    memset(o, 0, sizeof(*o));
    memset(e, 0, sizeof(*e));
    trace_codec_parse(TRACE_CODEC_DEFAULT, &o->trace_file_codec, NULL);
    OptionId seen[64];
    int nseen = 0;
    GPtrArray *positional = g_ptr_array_new();
    bool ok = true;

    for (int i = 1; i < argc && ok; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            g_ptr_array_add(positional, (gpointer)arg);
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            /* The rest is the workload's argv[1...], byte for byte. */
            o->workload_args = g_new0(char *, argc - i);
            for (int k = i + 1; k < argc; k++) {
                o->workload_args[k - i - 1] = g_strdup(argv[k]);
            }
            break;
        }
        const OptionSpec *spec;
        const char *value = NULL;
        if (arg[1] != '-') {
            /* Short options: -v and -h, possibly bundled ("-vh"). */
            for (const char *c = arg + 1; *c && ok; c++) {
                if (*c == 'v') {
                    ok = apply(o, spec_of(OPT_VERBOSE), NULL, e);
                } else if (*c == 'h') {
                    ok = apply(o, spec_of(OPT_HELP), NULL, e);
                } else {
                    ok = fail(e, 2, "unrecognized arguments: %s", arg);
                }
            }
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        bool ambiguous;
        spec = find_spec(name, len, &ambiguous);
        if (!spec) {
            if (ambiguous) {
                GString *m = g_string_new(NULL);
                for (size_t k = 0; k < G_N_ELEMENTS(specs); k++) {
                    if (is_prefix(name, len, specs[k].name)) {
                        g_string_append_printf(m, "%s--%s", m->len ? ", " : "",
                                               specs[k].name);
                    }
                }
                ok = fail(e, 2, "ambiguous option: --%.*s could match %s",
                          (int)len, name, m->str);
                g_string_free(m, TRUE);
            } else {
                ok = fail(e, 2, "unrecognized arguments: %s", arg);
            }
            break;
        }
        if (spec->takes_value) {
            if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc && strcmp(argv[i + 1], "--") != 0) {
                value = argv[++i];
            } else {
                ok = fail(e, 2, "argument --%s: expected one argument",
                          spec->name);
                break;
            }
        } else if (eq) {
            ok = fail(e, 2, "argument --%s: ignored explicit argument '%s'",
                      spec->name, eq + 1);
            break;
        }
        if (nseen < (int)G_N_ELEMENTS(seen)) {
            seen[nseen++] = spec->id;
        }
        ok = apply(o, spec, value, e);
    }

    if (ok && (o->help || o->version)) {
        g_ptr_array_free(positional, TRUE);
        return true;
    }
    if (ok) {
        switch (positional->len) {
        case 0:
            break;
        case 1:
            ok = fail(e, 2, "the following arguments are required: "
                      "snapshot_name, qemu_with_GMBEOO_path "
                      "(give all three positional arguments or none)");
            break;
        case 2:
            ok = fail(e, 2, "the following arguments are required: "
                      "qemu_with_GMBEOO_path "
                      "(give all three positional arguments or none)");
            break;
        case 3:
            o->guest_image_path = g_strdup(positional->pdata[0]);
            o->snapshot_name = g_strdup(positional->pdata[1]);
            o->qemu_with_GMBEOO_path = g_strdup(positional->pdata[2]);
            break;
        default:
            ok = fail(e, 2, "unrecognized arguments: %s",
                      (const char *)positional->pdata[3]);
            break;
        }
    }
    g_ptr_array_free(positional, TRUE);
    if (ok) {
        ok = check_groups(seen, nseen, e);
    }
    if (ok && o->mode == TRACE_NATIVE && o->workload_path_on_guest) {
        ok = fail(e, 2, "argument --dont_use_qemu: not allowed with argument "
                  "--workload_path_on_guest (a native run needs "
                  "--workload_path_on_host)");
    }
    return ok;
}

void options_clear(Options *o)
{
    g_free(o->guest_image_path);
    g_free(o->snapshot_name);
    g_free(o->qemu_with_GMBEOO_path);
    g_free(o->workload_path_on_guest);
    g_free(o->workload_path_on_host);
    g_free(o->analysis_tool_path);
    g_free(o->trace_fifo_path);
    g_free(o->trace_file_path);
    g_free(o->qemu_binary);
    g_free(o->firmware_dir);
    g_free(o->guest_conf_path);
    g_free(o->report_json);
    g_strfreev(o->workload_args);
    g_strfreev(o->copy_to_guest);
    g_free(o->workload_output_path);
    memset(o, 0, sizeof(*o));
}

void options_error_clear(OptionsError *e)
{
    g_free(e->message);
    memset(e, 0, sizeof(*e));
}
