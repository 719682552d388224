/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * make_snapshot: boot the embedded guest once under the patched QEMU, wait
 * until run_executables_from_serial says it has opened /dev/ttyS0, save the
 * snapshot over QMP, and publish image + kernel + initrd + guest.conf.
 *
 * usage: make_snapshot --qemu BIN --qemu-img BIN --firmware DIR
 *                      --kernel FILE --initrd FILE --out-dir DIR
 *                      [--append TEXT] [--memory MB] [--machine M] [--cpu C]
 *                      [--smp N] [--timeout SECONDS] [--rootfs FILE]
 *                      [--drive-if none|ide|virtio] [--nic DEVICE]
 *
 * Outputs in OUT_DIR (each replaced only when everything succeeded):
 * guest.qcow2, vmlinuz, initrd.img, guest.conf (written last); with --smp N
 * above 1 the image and configuration are guest-Ncpu.qcow2 and
 * guest-Ncpu.conf (guest_embedded_file()), beside the shared kernel and
 * initramfs, so builders for several counts can run at the same time.
 * The read-only root file system (--rootfs) is not copied: guest.conf
 * names it where it is, and every run shares it.
 */
#include <errno.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "guestconf.h"
#include "msg.h"
#include "vm.h"

/* The helper's "Opened /dev/ttyS0." or "Opened /dev/hvc0." */
#define READY_TEXT "Opened /dev/"

static char *opt_qemu, *opt_qemu_img, *opt_firmware, *opt_kernel,
    *opt_initrd, *opt_out, *opt_append, *opt_machine, *opt_cpu, *opt_channel,
    *opt_rootfs, *opt_drive_if, *opt_nic;
static int opt_memory, opt_smp = 1, opt_timeout = 300;

static GOptionEntry entries[] = {
    { "qemu", 0, 0, G_OPTION_ARG_FILENAME, &opt_qemu, "qemu-system-x86_64", "BIN" },
    { "qemu-img", 0, 0, G_OPTION_ARG_FILENAME, &opt_qemu_img, "qemu-img", "BIN" },
    { "firmware", 0, 0, G_OPTION_ARG_FILENAME, &opt_firmware, "firmware dir (-L)", "DIR" },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &opt_kernel, "guest kernel", "FILE" },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &opt_initrd, "guest initramfs", "FILE" },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_out, "output directory", "DIR" },
    { "append", 0, 0, G_OPTION_ARG_STRING, &opt_append, "kernel command line", "TEXT" },
    { "memory", 0, 0, G_OPTION_ARG_INT, &opt_memory, "guest RAM in MB", "MB" },
    { "machine", 0, 0, G_OPTION_ARG_STRING, &opt_machine, "machine type", "M" },
    { "cpu", 0, 0, G_OPTION_ARG_STRING, &opt_cpu, "CPU model", "C" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &opt_channel, "ttyS0 or virtconsole", "DEV" },
    { "smp", 0, 0, G_OPTION_ARG_INT, &opt_smp, "vCPUs of the snapshot", "N" },
    { "rootfs", 0, 0, G_OPTION_ARG_FILENAME, &opt_rootfs,
      "read-only root file system image (shared, not copied)", "FILE" },
    { "drive-if", 0, 0, G_OPTION_ARG_STRING, &opt_drive_if,
      "how the image is attached: none, ide or virtio", "IF" },
    { "nic", 0, 0, G_OPTION_ARG_STRING, &opt_nic,
      "network card: virtio-net-pci, e1000e or e1000", "DEVICE" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout, "overall deadline (s)", "S" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static Vm vm;

/* On every exit (error_msg_and_die() included): no QEMU, no run dir. */
static void clean_up(void)
{
    child_stop(&vm.qemu, SIGKILL, 5 * G_USEC_PER_SEC);
    vm_clear(&vm);
}

static void run_sync(char **argv)
{
    g_autoptr(GError) err = NULL;
    int status;
    g_autofree char *out = NULL, *errout = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                      &errout, &status, &err)) {
        error_msg_and_die("cannot run %s: %s", argv[0], err->message);
    }
    if (!g_spawn_check_wait_status(status, &err)) {
        error_msg_and_die("%s failed (%s): %s", argv[0], err->message, errout);
    }
}

static void copy_file(const char *src, const char *dest)
{
    g_autoptr(GError) err = NULL;
    g_unlink(dest);
    if (!guest_image_copy(src, dest, &err)) {
        error_msg_and_die("%s", err->message);
    }
    chmod(dest, 0644);
}

/* Has QEMU exited?  Then say so with its log. */
static void check_alive(void)
{
    if (!child_alive(&vm.qemu)) {
        g_autofree char *log = NULL;
        g_file_get_contents(vm.qemu_log, &log, NULL, NULL);
        error_msg_and_die("QEMU exited during the guest boot (status %d): %s",
                          vm.qemu.status, log ? log : "");
    }
}

int main(int argc, char **argv)
{
    msg_set_program("make_snapshot");
    atexit(clean_up);
    g_autoptr(GError) err = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new("- build the guest snapshot");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        error_msg_and_die("%s", err->message);
    }
    if (!opt_qemu || !opt_qemu_img || !opt_kernel || !opt_initrd || !opt_out) {
        error_msg_and_die("--qemu, --qemu-img, --kernel, --initrd and --out-dir are required");
    }
    if (opt_smp < 1 || opt_smp > GUEST_MAX_VCPUS) {
        error_msg_and_die("--smp must be in [1, %d]", GUEST_MAX_VCPUS);
    }
    gint64 t0 = g_get_monotonic_time();
    gint64 deadline = t0 + (gint64)opt_timeout * G_USEC_PER_SEC;

    g_autofree char *out = g_canonicalize_filename(opt_out, NULL);
    g_mkdir_with_parents(out, 0755);
    if (!vm_init(&vm, NULL, "mt-snapshot.XXXXXX", &err)) {
        error_msg_and_die("%s", err->message);
    }
    g_autofree char *kernel = g_build_filename(vm.dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(vm.dir, "initrd.img", NULL);

    /* Boot from the copies that will be published, so what the snapshot
     * was made with and what restores use are the same files. */
    copy_file(opt_kernel, kernel);
    copy_file(opt_initrd, initrd);
    /* The disk only holds the vmstate: guest RAM of mostly zeros. */
    char *img_argv[] = { opt_qemu_img, "create", "-q", "-f", "qcow2", vm.image,
                         "256M", NULL };
    run_sync(img_argv);

    g_autoptr(GuestConf) conf = guest_conf_new_default();
    g_free(conf->image);
    conf->image = g_strdup(vm.image);
    g_free(conf->kernel);
    conf->kernel = g_strdup(kernel);
    g_free(conf->initrd);
    conf->initrd = g_strdup(initrd);
    if (opt_append) {
        g_free(conf->append);
        conf->append = g_strdup(opt_append);
    }
    if (opt_machine) {
        g_free(conf->machine);
        conf->machine = g_strdup(opt_machine);
    }
    if (opt_cpu) {
        g_free(conf->cpu);
        conf->cpu = g_strdup(opt_cpu);
    }
    if (opt_channel) {
        if (strcmp(opt_channel, "ttyS0") != 0 &&
            strcmp(opt_channel, "virtconsole") != 0) {
            error_msg_and_die("--channel must be ttyS0 or virtconsole");
        }
        g_free(conf->channel);
        conf->channel = g_strdup(opt_channel);
    }
    if (opt_rootfs) {
        if (!g_file_test(opt_rootfs, G_FILE_TEST_IS_REGULAR)) {
            error_msg_and_die("--rootfs %s: no such file", opt_rootfs);
        }
        conf->rootfs = g_canonicalize_filename(opt_rootfs, NULL);
    }
    if (opt_drive_if) {
        if (strcmp(opt_drive_if, "none") != 0 &&
            strcmp(opt_drive_if, "ide") != 0 &&
            strcmp(opt_drive_if, "virtio") != 0) {
            error_msg_and_die("--drive-if must be none, ide or virtio");
        }
        g_free(conf->drive_if);
        conf->drive_if = g_strdup(opt_drive_if);
    }
    if (opt_nic) {
        if (strcmp(opt_nic, "virtio-net-pci") != 0 &&
            strcmp(opt_nic, "e1000e") != 0 && strcmp(opt_nic, "e1000") != 0) {
            error_msg_and_die("--nic must be virtio-net-pci, e1000e or e1000");
        }
        conf->nic = g_strdup(opt_nic);
    }
    if (opt_memory > 0) {
        conf->memory_mb = (guint)opt_memory;
    }
    conf->smp = (guint)opt_smp;

    VmSetup setup = {
        .qemu = opt_qemu,
        .firmware_dir = opt_firmware,
        .conf = conf,
    };
    /*
     * A boot that hangs gets one more try: seen once for 4 vCPUs (MTTCG
     * on two host cores under heavy load), nothing on the console after
     * 300 s, while the same boot takes 8-15 s otherwise.  The first try
     * has half of the time.
     */
    g_autofree char *con = NULL;
    for (int attempt = 1;; attempt++) {
        gint64 until = attempt == 1 ? t0 + (deadline - t0) / 2 : deadline;

        if (!vm_spawn(&vm, &setup, &err)) {
            error_msg_and_die("%s", err->message);
        }
        g_autofree char *cmd = g_strjoinv(" ", vm.argv);
        printf("guest: booting %s\n", cmd);
        fflush(stdout);

        vm.qmp = qmp_connect(vm.qmp_path, until, &err);
        if (!vm.qmp) {
            check_alive();
            error_msg_and_die("%s", err->message);
        }
        /* The helper prints READY_TEXT on the console right before it
         * blocks reading ttyS0; /init has already waited for the boot to
         * settle. */
        g_clear_pointer(&con, g_free);
        if (vm_wait_console(&vm, READY_TEXT, until, &con)) {
            break;
        }
        check_alive();
        if (attempt == 2) {
            error_msg_and_die("timed out after %d s waiting for \"%s\" on "
                              "the guest console (two boots); console so "
                              "far:\n%s", opt_timeout, READY_TEXT,
                              con && *con ? con : "(empty)");
        }
        printf("guest: no \"%s\" on the console after %.0f s; booting "
               "again; console so far:\n%s\n", READY_TEXT,
               (g_get_monotonic_time() - t0) / 1e6, con && *con ? con : "(empty)");
        fflush(stdout);
        g_clear_pointer(&vm.qmp, qmp_close);
        child_stop(&vm.qemu, SIGKILL, 5 * G_USEC_PER_SEC);
        g_clear_pointer(&vm.argv, g_strfreev);
        g_unlink(vm.qmp_path);
        g_unlink(vm.serial_path);
    }
    gint64 t_ready = g_get_monotonic_time();
    /* Let the helper get from its printf into read(). */
    g_usleep(200 * 1000);

    JsonNode *r = qmp_execute(vm.qmp, "stop", NULL, deadline, &err);
    if (!r) {
        error_msg_and_die("%s", err->message);
    }
    json_node_unref(r);
    g_autofree char *hmp_out = NULL;
    if (!qmp_hmp(vm.qmp, "savevm " GUEST_DEFAULT_SNAPSHOT, deadline, &hmp_out,
                 &err)) {
        error_msg_and_die("savevm: %s", err->message);
    }
    if (hmp_out[0] != '\0') {
        error_msg_and_die("savevm failed: %s", hmp_out);
    }
    if (!vm_quit(&vm, MAX(deadline - g_get_monotonic_time(), 0))) {
        error_msg_and_die("timed out waiting for QEMU to quit after savevm");
    }
    gint64 t_end = g_get_monotonic_time();

    /* Publish: the data files first, guest.conf (what make checks) last.
     * The temporary names are the builder's own: the kernel and initramfs
     * are shared with the builders of the other vCPU counts. */
    g_autofree char *image_name = guest_embedded_file("guest.qcow2",
                                                      conf->smp);
    g_autofree char *conf_name = guest_embedded_file("guest.conf", conf->smp);
    const char *names[] = { image_name, "vmlinuz", "initrd.img" };
    const char *srcs[] = { vm.image, kernel, initrd };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *dest = g_build_filename(out, names[i], NULL);
        g_autofree char *tmp = g_strdup_printf("%s.tmp%u", dest, conf->smp);
        g_unlink(tmp);
        copy_file(srcs[i], tmp);
        if (g_rename(tmp, dest) < 0) {
            error_msg_and_die("cannot rename %s: %s", tmp, g_strerror(errno));
        }
        g_unlink(srcs[i]);
    }
    g_autofree char *conf_path = g_build_filename(out, conf_name, NULL);
    g_free(conf->image);
    conf->image = g_build_filename(out, image_name, NULL);
    g_free(conf->kernel);
    conf->kernel = g_build_filename(out, "vmlinuz", NULL);
    g_free(conf->initrd);
    conf->initrd = g_build_filename(out, "initrd.img", NULL);
    if (!guest_conf_save(conf, conf_path, &err)) {
        error_msg_and_die("%s", err->message);
    }
    g_clear_pointer(&con, g_free);
    g_file_get_contents(vm.console_log, &con, NULL, NULL);
    g_autofree char *con_name = guest_embedded_file("build-console.log",
                                                    conf->smp);
    g_autofree char *con_dest = g_build_filename(out, con_name, NULL);
    if (con) {
        g_file_set_contents(con_dest, con, -1, NULL);
    }
    vm_clear(&vm);

    printf("guest: snapshot " GUEST_DEFAULT_SNAPSHOT " (%u vCPU%s) saved in "
           "%s/%s (boot to ready %.1f s, savevm+quit %.1f s)\n", conf->smp,
           conf->smp > 1 ? "s" : "", out, image_name,
           (double)(t_ready - t0) / G_USEC_PER_SEC,
           (double)(t_end - t_ready) / G_USEC_PER_SEC);
    return 0;
}
