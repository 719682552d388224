/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * options_validate(): the checks that look at the file system, in the
 * original's order and words, and the paths they resolve (the emulator,
 * its firmware, the embedded guest and a guest.conf beside a given image).
 */
#include "options.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_in.h"
#include "guestconf.h"
#include "vm.h"
#include "workload.h"

#define fail options_fail

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

/* --report_json: written at the end, so its directory must exist now. */
static bool check_report_json(char **path, OptionsError *e)
{
    char *abs = g_canonicalize_filename(*path, NULL);
    g_free(*path);
    *path = abs;
    g_autofree char *dir = g_path_get_dirname(abs);
    if (is_dir(abs) || !is_dir(dir) || access(dir, W_OK | X_OK) != 0) {
        fail(e, 1, "report_json must be a file path in a writable "
             "directory, but %s isn't.", abs);
        g_clear_pointer(path, g_free);      /* nowhere to write it */
        return false;
    }
    return true;
}

/* The errno of a path that may well exist but that we cannot reach (a
 * folder on the way we may not search, a loop, ...); 0 if stat() works or
 * the path does not exist, which the original's messages cover. */
static int unreachable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 || errno == ENOENT || errno == ENOTDIR) {
        return 0;
    }
    return errno;
}

/* Why the file @path, which we are about to use, cannot be: 0 if it can;
 * ENOENT if it is missing or not a regular file; else the errno of a path
 * we may not traverse to, or (if @need_read) not read. */
static int unusable(const char *path, bool need_read)
{
    int err = unreachable(path);
    if (err) {
        return err;
    }
    if (!is_file(path)) {
        return ENOENT;
    }
    return need_read && access(path, R_OK) != 0 ? errno : 0;
}

static bool fail_cannot_read(OptionsError *e, const char *path, int err)
{
    return fail(e, 1, "cannot read %s: %s", path, g_strerror(err));
}

static bool check_file(const char *arg_name, char **path, bool need_read,
                       OptionsError *e)
{
    char *abs = real_path(*path);
    g_free(*path);
    *path = abs;
    int err = unusable(abs, need_read);
    if (err == ENOENT) {
        return fail(e, 1, "%s must be a file path, but %s isn't.", arg_name,
                    abs);
    }
    if (err) {
        return fail_cannot_read(e, abs, err);
    }
    return true;
}

/* What kind of program @path is, for a workload that must run on x86-64
 * Linux: NULL if it can (an x86-64 ELF executable or a script with "#!"),
 * else why not. */
static char *not_x86_64_program(const char *path)
{
    unsigned char h[64] = { 0 };
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof(h), f) : 0;
    if (f) {
        fclose(f);
    }
    if (n >= 2 && h[0] == '#' && h[1] == '!') {
        return NULL;
    }
    if (n < 4 || memcmp(h, "\177ELF", 4) != 0) {
        return g_strdup(n == 0 ? "it is empty"
                               : "it is neither an ELF executable nor a "
                                 "script starting with #!");
    }
    if (n < 20) {
        return g_strdup("it is a truncated ELF file");
    }
    unsigned machine = h[5] == 2 ? (unsigned)h[18] << 8 | h[19]
                                 : (unsigned)h[19] << 8 | h[18];
    unsigned type = h[5] == 2 ? (unsigned)h[16] << 8 | h[17]
                              : (unsigned)h[17] << 8 | h[16];
    static const struct { unsigned id; const char *name; } machines[] = {
        { 3, "i386" }, { 8, "MIPS" }, { 20, "PowerPC" }, { 21, "PowerPC64" },
        { 22, "s390" }, { 40, "ARM" }, { 62, "x86-64" }, { 183, "aarch64" },
        { 243, "RISC-V" }, { 258, "LoongArch" },
    };
    const char *name = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(machines); i++) {
        if (machines[i].id == machine) {
            name = machines[i].name;
        }
    }
    if (machine != 62 || h[4] != 2 || h[5] != 1) {
        return name ? g_strdup_printf("it is an ELF file for %s%s", name,
                                      h[4] == 1 ? " (32-bit)" : "")
                    : g_strdup_printf("it is an ELF file for machine %u",
                                      machine);
    }
    if (type != 2 && type != 3) {
        return g_strdup("it is an ELF file but not an executable (an object "
                        "file or a core dump?)");
    }
    return NULL;
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
        int err = unusable(abs, true);
        if (err && err != ENOENT) {
            fail_cannot_read(e, abs, err);
        } else {
            fail(e, 1, "guest_image_path must be a file path, but %s isn't. "
                 "(No positional arguments were given, so the embedded guest "
                 "is used; build it with `make`.)", abs);
        }
        g_free(abs);
        return false;
    }
    /* One snapshot per vCPU count (guest_embedded_file()). */
    unsigned smp = o->has_num_vcpus ? (unsigned)o->num_vcpus : 1;
    g_autofree char *conf_name = guest_embedded_file("guest.conf", smp);
    o->guest_conf_path = g_build_filename(guest_dir, conf_name, NULL);
    g_autofree char *image_name = guest_embedded_file("guest.qcow2", smp);
    o->guest_image_path = g_build_filename(guest_dir, image_name, NULL);
    /* An image that is there but cannot be read says so first. */
    int err = unusable(o->guest_image_path, true);
    if (err && err != ENOENT) {
        g_free(guest_dir);
        return fail_cannot_read(e, o->guest_image_path, err);
    }
    if (!is_file(o->guest_conf_path)) {
        static const unsigned counts[] = GUEST_EMBEDDED_VCPU_COUNTS;
        g_autoptr(GString) have = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
            g_autofree char *n = guest_embedded_file("guest.conf", counts[i]);
            g_autofree char *p = g_build_filename(guest_dir, n, NULL);
            if (is_file(p)) {
                g_string_append_printf(have, "%s%u", have->len ? ", " : "",
                                       counts[i]);
            }
        }
        fail(e, 1, "guest_num_of_vCPUs is %u, but the embedded guest in %s "
             "has no snapshot for %u vCPUs (%s%s); it offers 1, 2 and 4 "
             "once built with `make`.", smp, guest_dir, smp,
             have->len ? "it has snapshots for " : "no snapshot is built",
             have->str);
        g_free(guest_dir);
        return false;
    }
    g_free(guest_dir);
    if (err) {
        return fail_cannot_read(e, o->guest_image_path, err);
    }
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

    /* First, so that any later failure is in the report. */
    if (o->report_json && !check_report_json(&o->report_json, e)) {
        return false;
    }
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
        if (o->has_num_vcpus &&
            (o->num_vcpus < 1 || o->num_vcpus > GUEST_MAX_VCPUS)) {
            return fail(e, 1, "guest_num_of_vCPUs must be in range [1, %d], "
                        "but %ld isn't.", GUEST_MAX_VCPUS, o->num_vcpus);
        }
    }

    if (use_qemu) {
        if (!o->guest_image_path) {
            if (!locate_embedded(o, e)) {
                return false;
            }
        } else {
            if (!check_file("guest_image_path", &o->guest_image_path, true,
                            e)) {
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
            int err = unreachable(abs);
            if (err) {
                return fail_cannot_read(e, abs, err);
            }
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
        !check_file("workload_path_on_host", &o->workload_path_on_host, true,
                    e)) {
        return false;
    }
    if (o->workload_path_on_host) {
        g_autofree char *why = not_x86_64_program(o->workload_path_on_host);
        if (why) {
            return fail(e, 1, "workload_path_on_host must be an executable "
                        "for x86-64 Linux, but %s isn't: %s.",
                        o->workload_path_on_host, why);
        }
    }
    if (o->workload_output_path) {
        char *abs = g_canonicalize_filename(o->workload_output_path, NULL);
        g_free(o->workload_output_path);
        o->workload_output_path = abs;
        g_autofree char *dir = g_path_get_dirname(abs);
        if (is_dir(abs) || !is_dir(dir) || access(dir, W_OK | X_OK) != 0 ||
            (access(abs, F_OK) == 0 && access(abs, W_OK) != 0)) {
            return fail(e, 1, "workload_output_path must be a file path in "
                        "a writable dir, but %s isn't.", abs);
        }
    }
    if (o->copy_to_guest) {
        g_autoptr(GError) err = NULL;
        g_autoptr(CopyIn) c = copy_in_scan(o->copy_to_guest,
            o->workload_path_on_host && use_qemu ? GUEST_EXECUTABLE2_NAME
                                                 : NULL, &err);
        if (!c) {
            return fail(e, 1, "%s", err->message);
        }
    }
    if (o->workload_path_on_guest && o->workload_path_on_guest[0] == '\0') {
        return fail(e, 1, "workload_path_on_guest must be a file path, but "
                    "the empty string isn't.");
    }
    if (o->mode == TRACE_TO_ANALYSIS_TOOL) {
        if (!check_file("analysis_tool_path", &o->analysis_tool_path, false,
                        e)) {
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
        int err = unreachable(abs);
        if (err) {
            return fail_cannot_read(e, abs, err);
        }
        struct stat st;
        if (stat(abs, &st) != 0 || !S_ISFIFO(st.st_mode)) {
            return fail(e, 1, "trace_fifo_path must be a fifo path, but %s "
                        "isn't.", abs);
        }
    }
    if (o->mode == TRACE_TO_FILE) {
        /* Written to a temporary name in the same directory, then renamed:
         * the directory must take new files. */
        char *abs = real_path(o->trace_file_path);
        g_free(o->trace_file_path);
        o->trace_file_path = abs;
        g_autofree char *dir = g_path_get_dirname(abs);
        struct stat st;
        if (abs[strlen(abs) - 1] == '/' ||
            (stat(abs, &st) == 0 && !S_ISREG(st.st_mode)) ||
            access(dir, W_OK | X_OK) != 0) {
            return fail(e, 1, "trace_file_path must be a file path in a "
                        "writable dir, but %s isn't.", abs);
        }
    }
    if (o->has_trace_file_codec && o->mode != TRACE_TO_FILE) {
        return fail(e, 1, "trace_file_codec applies to --trace_file_path "
                    "only.");
    }
    if (o->has_analysis_transport && o->mode != TRACE_TO_ANALYSIS_TOOL) {
        return fail(e, 1, "analysis_transport applies to --analysis_tool_path "
                    "only.");
    }
    if (o->has_timeout && !(o->timeout > 0)) {
        return fail(e, 1, "timeout must be a positive number of seconds, but "
                    "%g isn't.", o->timeout);
    }
    return true;
}
