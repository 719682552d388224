/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option parsing and validation.  A small table-driven parser rather than
 * GOptionContext: the original's names contain underscores and need dashed
 * aliases, its groups are mutually exclusive, and argparse's behaviour
 * (negative numbers as values, `--name=value`, `--`) is easy to match here.
 */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestconf.h"
#include "version.h"
#include "vm.h"

typedef enum {
    OPT_WORKLOAD_GUEST, OPT_WORKLOAD_HOST,
    OPT_ANALYSIS_TOOL, OPT_TRACE_FIFO, OPT_DONT_TRACE, OPT_DONT_USE_QEMU,
    OPT_TIMEOUT, OPT_DONT_ADD_COMMS,
    OPT_CPL3, OPT_BLOCK_LEN, OPT_TRACING_RATIO, OPT_PRINT_TRACE_INFO,
    OPT_DONT_USE_NOGRAPHIC, OPT_DONT_EXIT, OPT_GUEST_RAM, OPT_VERBOSE,
    OPT_HELP, OPT_VERSION,
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
    { "verbose", OPT_VERBOSE, false, 0 },
    { "help", OPT_HELP, false, 0 },
    { "version", OPT_VERSION, false, 0 },
};

static bool fail(OptionsError *e, int code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static bool fail(OptionsError *e, int code, const char *fmt, ...)
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
    case OPT_VERBOSE:
        o->verbose = true;
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
        { 'B', true, "--analysis_tool_path --trace_fifo_path --dont_trace "
                     "--dont_use_qemu" },
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
    OptionId seen[64];
    int nseen = 0;
    GPtrArray *positional = g_ptr_array_new();
    bool only_positional = false;
    bool ok = true;

    for (int i = 1; i < argc && ok; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            g_ptr_array_add(positional, (gpointer)arg);
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
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

/* ---- validation ---- */

/* Like Python's os.path.realpath: resolve what exists, else make absolute. */
static char *real_path(const char *path)
{
    char *r = realpath(path, NULL);
    if (r) {
        char *copy = g_strdup(r);
        free(r);
        return copy;
    }
    return g_canonicalize_filename(path, NULL);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_executable_file(const char *path)
{
    return is_file(path) && access(path, X_OK) == 0;
}

static bool check_file(const char *arg_name, char **path, OptionsError *e)
{
    char *abs = real_path(*path);
    g_free(*path);
    *path = abs;
    if (!is_file(abs)) {
        return fail(e, 1, "%s must be a file path, but %s isn't.", arg_name,
                    abs);
    }
    return true;
}

char *options_self_dir(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe) {
        return NULL;
    }
    char *dir = g_path_get_dirname(exe);
    g_free(exe);
    return dir;
}

/* The emulator inside a user-given QEMU path: the binary itself, or a
 * build/install tree holding it. */
static char *find_emulator(const char *path)
{
    static const char *const subdirs[] = {
        ".", "bin", "build", "x86_64-softmmu", "build/x86_64-softmmu",
        "build/bin",
    };
    if (is_executable_file(path)) {
        return g_strdup(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(subdirs); i++) {
        char *p = g_build_filename(path, subdirs[i], "qemu-system-x86_64",
                                   NULL);
        if (is_executable_file(p)) {
            char *abs = real_path(p);
            g_free(p);
            return abs;
        }
        g_free(p);
    }
    return NULL;
}

/* The embedded guest: build/guest beside build/bin, or an installed
 * PREFIX/share/memory_tracer/guest beside PREFIX/bin. */
static bool locate_embedded(Options *o, OptionsError *e)
{
    g_autofree char *self = options_self_dir();
    if (!self) {
        return fail(e, 1, "cannot find memory_tracer's own location "
                    "(/proc/self/exe), so the embedded guest cannot be "
                    "located; give the three positional arguments.");
    }
    const char *const guest_dirs[] = {
        "../guest", "../share/memory_tracer/guest",
    };
    const char *const qemu_dirs[] = {
        ".", "../libexec/memory_tracer",
    };
    char *guest_dir = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(guest_dirs) && !guest_dir; i++) {
        char *d = g_build_filename(self, guest_dirs[i], NULL);
        char *img = g_build_filename(d, "guest.qcow2", NULL);
        if (is_file(img)) {
            guest_dir = real_path(d);
        }
        g_free(img);
        g_free(d);
    }
    if (!guest_dir) {
        char *d = g_build_filename(self, "../guest/guest.qcow2", NULL);
        char *abs = real_path(d);
        g_free(d);
        fail(e, 1, "guest_image_path must be a file path, but %s isn't. "
             "(No positional arguments were given, so the embedded guest is "
             "used; build it with `make`.)", abs);
        g_free(abs);
        return false;
    }
    o->guest_image_path = g_build_filename(guest_dir, "guest.qcow2", NULL);
    o->guest_conf_path = g_build_filename(guest_dir, "guest.conf", NULL);
    g_free(guest_dir);
    o->snapshot_name = g_strdup(GUEST_DEFAULT_SNAPSHOT);
    for (size_t i = 0; i < G_N_ELEMENTS(qemu_dirs) && !o->qemu_binary; i++) {
        char *p = g_build_filename(self, qemu_dirs[i], "qemu-system-x86_64",
                                   NULL);
        if (is_executable_file(p)) {
            o->qemu_binary = real_path(p);
        }
        g_free(p);
    }
    if (!o->qemu_binary) {
        char *abs = real_path(self);
        fail(e, 1, "qemu_with_GMBEOO_path must be a dir path, but %s isn't "
             "a dir holding qemu-system-x86_64. (No positional arguments "
             "were given, so the built emulator is used; build it with "
             "`make`.)", abs);
        g_free(abs);
        return false;
    }
    o->qemu_with_GMBEOO_path = g_path_get_dirname(o->qemu_binary);
    o->embedded_guest = true;
    return true;
}

bool options_validate(Options *o, OptionsError *e)
{
    memset(e, 0, sizeof(*e));
    bool use_qemu = o->mode != TRACE_NATIVE;

    /* Pure argument checks first, then the file system. */
    if (use_qemu) {
        if (o->log_of_block_len < 0 || o->log_of_block_len > 64) {
            return fail(e, 1, "log_of_GMBE_block_len must be in range "
                        "[0, 64], but %ld isn't.", o->log_of_block_len);
        }
        if (o->log_of_tracing_ratio < 0 || o->log_of_tracing_ratio > 64) {
            return fail(e, 1, "log_of_GMBE_tracing_ratio must be in range "
                        "[0, 64], but %ld isn't.", o->log_of_tracing_ratio);
        }
        long sum = o->log_of_block_len + o->log_of_tracing_ratio;
        if (sum > 64) {
            return fail(e, 1, "log_of_GMBE_block_len + "
                        "log_of_GMBE_tracing_ratio must be in range [0, 64], "
                        "but %ld + %ld = %ld isn't.", o->log_of_block_len,
                        o->log_of_tracing_ratio, sum);
        }
        if (o->has_guest_ram &&
            (o->guest_ram_mb <= 0 || o->guest_ram_mb > 1024 * 1024)) {
            return fail(e, 1, "guest_RAM_in_MBs must be a positive number of "
                        "MiB, but %ld isn't.", o->guest_ram_mb);
        }
    }

    if (use_qemu) {
        if (!o->guest_image_path) {
            if (!locate_embedded(o, e)) {
                return false;
            }
        } else {
            if (!check_file("guest_image_path", &o->guest_image_path, e)) {
                return false;
            }
            /* An image made by our builder has its guest.conf beside it:
             * the snapshot only restores with that machine setup. */
            g_autofree char *dir = g_path_get_dirname(o->guest_image_path);
            char *conf = g_build_filename(dir, "guest.conf", NULL);
            if (is_file(conf)) {
                o->guest_conf_path = conf;
            } else {
                g_free(conf);
            }
            char *abs = real_path(o->qemu_with_GMBEOO_path);
            g_free(o->qemu_with_GMBEOO_path);
            o->qemu_with_GMBEOO_path = abs;
            if (!is_dir(abs) && !is_executable_file(abs)) {
                return fail(e, 1, "qemu_with_GMBEOO_path must be a dir path, "
                            "but %s isn't.", abs);
            }
            o->qemu_binary = find_emulator(abs);
            if (!o->qemu_binary) {
                return fail(e, 1, "qemu_with_GMBEOO_path must be a dir path, "
                            "but %s isn't a dir holding qemu-system-x86_64 "
                            "(looked in it and in its bin/, build/ and "
                            "x86_64-softmmu/).", abs);
            }
        }
        if (!o->firmware_dir) {
            o->firmware_dir = vm_find_firmware(o->qemu_binary);
        }
        if (!o->has_guest_ram && !o->guest_conf_path) {
            o->guest_ram_mb = GUEST_DEFAULT_MEMORY_MB;
        }
        if (o->snapshot_name[0] == '\0') {
            return fail(e, 1, "snapshot_name must not be empty.");
        }
    }
    if (o->workload_path_on_host &&
        !check_file("workload_path_on_host", &o->workload_path_on_host, e)) {
        return false;
    }
    if (o->workload_path_on_guest && o->workload_path_on_guest[0] == '\0') {
        return fail(e, 1, "workload_path_on_guest must be a file path, but "
                    "the empty string isn't.");
    }
    if (o->mode == TRACE_TO_ANALYSIS_TOOL) {
        if (!check_file("analysis_tool_path", &o->analysis_tool_path, e)) {
            return false;
        }
        if (access(o->analysis_tool_path, X_OK) != 0) {
            return fail(e, 1, "analysis_tool_path must be an executable file, "
                        "but %s isn't executable.", o->analysis_tool_path);
        }
    }
    if (o->mode == TRACE_TO_FIFO) {
        char *abs = real_path(o->trace_fifo_path);
        g_free(o->trace_fifo_path);
        o->trace_fifo_path = abs;
        struct stat st;
        if (stat(abs, &st) != 0 || !S_ISFIFO(st.st_mode)) {
            return fail(e, 1, "trace_fifo_path must be a fifo path, but %s "
                        "isn't.", abs);
        }
    }
    if (o->has_timeout && !(o->timeout > 0)) {
        return fail(e, 1, "timeout must be a positive number of seconds, but "
                    "%g isn't.", o->timeout);
    }
    return true;
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
    g_free(o->qemu_binary);
    g_free(o->firmware_dir);
    g_free(o->guest_conf_path);
    memset(o, 0, sizeof(*o));
}

void options_error_clear(OptionsError *e)
{
    g_free(e->message);
    memset(e, 0, sizeof(*e));
}

const char *options_usage_line(void)
{
    return
"usage: memory_tracer [-h] [--version]\n"
"                     (--workload_path_on_guest PATH | --workload_path_on_host PATH)\n"
"                     (--analysis_tool_path PATH | --trace_fifo_path PATH |\n"
"                      --dont_trace | --dont_use_qemu)\n"
"                     [--trace_only_CPL3_code_GMBE]\n"
"                     [--log_of_GMBE_block_len N] [--log_of_GMBE_tracing_ratio N]\n"
"                     [--timeout SECONDS | --dont_add_communications_with_host_to_workload]\n"
"                     [--print_trace_info] [--dont_use_nographic]\n"
"                     [--dont_exit_qemu_when_done] [--guest_RAM_in_MBs MB]\n"
"                     [--verbose]\n"
"                     [guest_image_path snapshot_name qemu_with_GMBEOO_path]\n";
}

const char *options_help_text(void)
{
    return
"\n"
"Run a workload on a QEMU guest while the patched QEMU (qemu_with_GMBEOO)\n"
"writes one 16-byte record per guest data access (a GMBE event, short for\n"
"guest_mem_before_exec) into a FIFO, and hand that stream to an analysis tool.\n"
"\n"
"With no positional arguments the embedded guest is used: the guest image and\n"
"emulator that `make` builds (build/guest/guest.qcow2, snapshot\n"
"ready_for_memory_tracer, build/bin/qemu-system-x86_64), found relative to this\n"
"program.  Otherwise give all three: a qcow2 image, the name of a snapshot made\n"
"for memory_tracer with `savevm`, and the emulator binary or a directory\n"
"holding it.  The image is never modified by a run.\n"
"\n"
"On success memory_tracer prints on stdout, in order:\n"
"  workload info:                       (only if the workload printed any)\n"
"  tracing_duration_in_milliseconds: N\n"
"  analysis output:                     (with --analysis_tool_path)\n"
"  trace info:                          (with --print_trace_info)\n"
"Exit status: 0 on success, 2 for usage errors, 1 for other failures, 130/143\n"
"when interrupted by SIGINT/SIGTERM.\n"
"\n"
"The trace record (include/gmbeoo/record.h): word0 (little-endian u64) =\n"
"size_shift (bits 0-2) | sign_extend (3) | big_endian (4) | store (5) |\n"
"cpl (6-7) | valid (63); word1 = the guest virtual address.\n"
"\n"
"The analysis tool contract (--analysis_tool_path TOOL):\n"
"  TOOL is run as `TOOL FIFO_PATH INFO_TOKEN...` (the workload info split on\n"
"  whitespace, no shell), stdout a pipe to memory_tracer, stderr inherited.\n"
"  1. Do not open FIFO_PATH yet.\n"
"  2. Handle SIGUSR1: print \"-----begin analysis output-----\", the results,\n"
"     \"-----end analysis output-----\", and flush (then you may exit).\n"
"  3. Print \"Ready to analyze\" (flushed) when tracing may start.\n"
"  4. Open FIFO_PATH and read records as fast as you can; EOF arrives when\n"
"     tracing has ended and every record has been written.  SIGUSR1 follows\n"
"     once you have read everything, and SIGTERM after the block.\n"
"\n"
"The workload contract (with --dont_add_communications_with_host_to_workload;\n"
"otherwise memory_tracer wraps the workload in a script that does it):\n"
"  1. print \"-----begin workload info-----\"\n"
"  2. print runtime info, if any (passed on to the analysis tool as argv)\n"
"  3. print \"-----end workload info-----\"\n"
"  4. print \"Ready to trace. Press enter to continue\" and wait for Enter\n"
"  5. run the code to be traced\n"
"  6. print \"Stop tracing\"\n"
"  Flush stdout after each marker.\n"
"\n"
"Options:\n"
"  -h, --help            show this help message and exit\n"
"  --version             print the version and exit\n"
"  --workload_path_on_guest PATH\n"
"                        the workload, a path on the guest\n"
"  --workload_path_on_host PATH\n"
"                        the workload, a file on the host, sent to the guest\n"
"  --analysis_tool_path PATH\n"
"                        the analysis tool (see the contract above)\n"
"  --trace_fifo_path PATH\n"
"                        write records to this existing FIFO, whose reader\n"
"                        you started\n"
"  --dont_trace          run under QEMU without tracing (for timing)\n"
"  --dont_use_qemu       run the host workload natively (for timing); the\n"
"                        positional arguments are ignored\n"
"  --trace_only_CPL3_code_GMBE\n"
"                        trace only accesses made by user code (CPL 3)\n"
"  --log_of_GMBE_block_len B\n"
"                        events come in blocks of 2^B (default 0)\n"
"  --log_of_GMBE_tracing_ratio R\n"
"                        trace the first block of every 2^R (default 0);\n"
"                        B, R and B+R must be in [0, 64]\n"
"  --timeout SECONDS     stop the workload after SECONDS (a float); the run\n"
"                        still reports normally\n"
"  --dont_add_communications_with_host_to_workload\n"
"                        the workload prints the markers itself\n"
"  --print_trace_info    print QEMU's trace counters\n"
"  --dont_use_nographic  accepted for compatibility: QEMU always runs headless\n"
"                        here (monitor on a socket), so this changes nothing\n"
"  --dont_exit_qemu_when_done\n"
"                        afterwards, keep QEMU and give this terminal its HMP\n"
"                        monitor (`quit` or end of input to finish)\n"
"  --guest_RAM_in_MBs MB must match the snapshot (default: the embedded\n"
"                        guest's, 2560 for a given image)\n"
"  -v, --verbose         progress messages on stderr\n"
"Dashed spellings (--workload-path-on-host ...) are accepted as aliases.\n"
"\n"
"Environment (seconds): MEMORY_TRACER_STARTUP_DEADLINE (default 300) bounds\n"
"QEMU's snapshot restore, MEMORY_TRACER_PROTOCOL_DEADLINE (default 60) each\n"
"protocol step, MEMORY_TRACER_WORKLOAD_DEADLINE (default 86400) the\n"
"workload getting ready and the traced region.\n";
}
