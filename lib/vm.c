/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "qemu_argv.h"

bool vm_init(Vm *vm, const char *dir, const char *tmp_template, GError **err)
{
    memset(vm, 0, sizeof(*vm));
    if (dir) {
        vm->dir = g_strdup(dir);
    } else {
        vm->dir = g_dir_make_tmp(tmp_template, err);
        if (!vm->dir) {
            return false;
        }
        vm->own_dir = true;
    }
    vm->image = g_build_filename(vm->dir, "guest.qcow2", NULL);
    vm->qmp_path = g_build_filename(vm->dir, "qmp.sock", NULL);
    vm->serial_path = g_build_filename(vm->dir, "serial.sock", NULL);
    vm->console_log = g_build_filename(vm->dir, "console.log", NULL);
    vm->qemu_log = g_build_filename(vm->dir, "qemu.log", NULL);
    return true;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *vm_find_firmware(const char *qemu)
{
    g_autofree char *bindir = g_path_get_dirname(qemu);
    const char *const candidates[] = {
        "../share/qemu", "../../share/memory_tracer/qemu", "pc-bios",
        "../pc-bios", "../../pc-bios",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        g_autofree char *p = g_build_filename(bindir, candidates[i], NULL);
        g_autofree char *bios = g_build_filename(p, "bios-256k.bin", NULL);
        if (is_file(bios)) {
            char *r = realpath(p, NULL);
            char *found = r ? g_strdup(r) : g_canonicalize_filename(p, NULL);
            free(r);
            return found;
        }
    }
    return NULL;
}

bool vm_spawn(Vm *vm, const VmSetup *setup, GError **err)
{
    const char *image = setup->image ? setup->image : setup->conf->image;
    if (setup->copy_image) {
        /* The run works on a throw-away copy, so the image never changes
         * and concurrent runs on one image do not meet. */
        debug_msg("copying %s to %s", image, vm->image);
        if (!guest_image_copy(image, vm->image, err)) {
            return false;
        }
        image = vm->image;
    }
    g_autofree char *found_fw = setup->firmware_dir
                                ? NULL : vm_find_firmware(setup->qemu);
    GuestQemuSetup qs = {
        .qemu = setup->qemu,
        .firmware_dir = setup->firmware_dir ? setup->firmware_dir : found_fw,
        .image = image,
        .qmp_socket = vm->qmp_path,
        .serial_socket = vm->serial_path,
        .console_log = vm->console_log,
        .loadvm = setup->loadvm,
        .start_paused = setup->start_paused,
        .plain_smp = setup->plain_smp,
    };
    g_auto(GStrv) base = setup->conf
        ? guest_conf_qemu_argv(setup->conf, &qs)
        : plain_image_qemu_argv(&qs, setup->plain_memory_mb,
                                setup->plain_snapshot);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_addv(b, (const char **)base);
    if (setup->extra_args) {
        g_strv_builder_addv(b, (const char **)setup->extra_args);
    }
    GStrv argv = vm->argv = g_strv_builder_end(b);
    if (msg_debug()) {
        g_autofree char *line = qemu_argv_text(argv);
        debug_msg("starting qemu by executing:");
        fprintf(stderr, "%s\n", line);
        debug_msg("guest console log: %s", vm->console_log);
    }
    int log = open(vm->qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0600);
    if (log < 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create %s: %s", vm->qemu_log, g_strerror(errno));
        return false;
    }
    bool ok = child_spawn_keep(&vm->qemu, "QEMU", argv, -1, log, log,
                               setup->keep_fd ? *setup->keep_fd : -1, err);
    close(log);
    return ok;
}

bool vm_connect(Vm *vm, gint64 deadline, const char *serial_log,
                GError **err)
{
    vm->qmp = qmp_connect(vm->qmp_path, deadline, err);
    if (!vm->qmp) {
        return false;
    }
    int fd = serial_connect_unix(vm->serial_path, deadline, err);
    if (fd < 0) {
        return false;
    }
    vm->serial = serial_channel_new(fd, serial_log);
    return true;
}

bool vm_wait_console(Vm *vm, const char *text, gint64 deadline,
                     char **console)
{
    for (;;) {
        g_autofree char *con = NULL;
        g_file_get_contents(vm->console_log, &con, NULL, NULL);
        bool seen = con && strstr(con, text);
        if (seen || !child_alive(&vm->qemu) ||
            g_get_monotonic_time() >= deadline) {
            if (console) {
                *console = g_steal_pointer(&con);
            }
            return seen;
        }
        g_usleep(50 * 1000);
    }
}

bool vm_quit(Vm *vm, gint64 grace_us)
{
    bool quit = true;
    if (vm->qmp && child_alive(&vm->qemu)) {
        g_autoptr(GError) err = NULL;
        JsonNode *r = qmp_execute(vm->qmp, "quit", NULL,
                                  g_get_monotonic_time() +
                                  MIN(grace_us, 5 * G_USEC_PER_SEC), &err);
        if (r) {
            json_node_unref(r);
        }
    }
    if (!child_wait(&vm->qemu, g_get_monotonic_time() + grace_us)) {
        quit = false;
        child_stop(&vm->qemu, SIGKILL, 5 * G_USEC_PER_SEC);
    }
    g_clear_pointer(&vm->qmp, qmp_close);
    g_clear_pointer(&vm->serial, serial_channel_free);
    return quit;
}

static void remove_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, n, NULL);
            g_unlink(p);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
}

void vm_clear(Vm *vm)
{
    vm_quit(vm, 5 * G_USEC_PER_SEC);
    if (vm->own_dir && vm->dir) {
        remove_dir(vm->dir);
    }
    g_free(vm->dir);
    g_free(vm->image);
    g_free(vm->qmp_path);
    g_free(vm->serial_path);
    g_free(vm->console_log);
    g_free(vm->qemu_log);
    g_strfreev(vm->argv);
    memset(vm, 0, sizeof(*vm));
}

char *vm_qemu_last_words(const Vm *vm)
{
    g_autofree char *text = NULL;
    if (!vm->qemu_log || !g_file_get_contents(vm->qemu_log, &text, NULL,
                                              NULL)) {
        return g_strdup("");
    }
    g_strchomp(text);
    char *nl = strrchr(text, '\n');
    const char *last = nl ? nl + 1 : text;
    return *last ? g_strdup_printf(": %s", last) : g_strdup("");
}
