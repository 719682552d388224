/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of lib/guestconf.c: save/load round trip with relative
 * paths, rejected keys and values, and the composed QEMU command lines
 * (lib/qemu_argv.c).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "guestconf.h"
#include "qemu_argv.h"

#include "check.h"

static gboolean argv_has(GStrv argv, const char *a, const char *b)
{
    for (guint i = 0; argv[i]; i++) {
        if (strcmp(argv[i], a) == 0 && (!b || (argv[i + 1] &&
                                              strcmp(argv[i + 1], b) == 0))) {
            return TRUE;
        }
    }
    return FALSE;
}

int main(void)
{
    g_autofree char *dir = g_dir_make_tmp("mt-test-conf.XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "guest.conf", NULL);
    g_autoptr(GError) err = NULL;

    g_autoptr(GuestConf) d = guest_conf_new_default();
    g_free(d->image);
    d->image = g_build_filename(dir, "guest.qcow2", NULL);
    g_free(d->kernel);
    d->kernel = g_build_filename(dir, "vmlinuz", NULL);
    g_free(d->initrd);
    d->initrd = g_build_filename(dir, "initrd.img", NULL);
    d->rootfs = g_build_filename(dir, "rootfs.squashfs", NULL);
    CHECK("save", guest_conf_save(d, path, &err));
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    CHECK("paths are saved relative to the file",
          text && strstr(text, "\nimage=guest.qcow2\n") &&
          strstr(text, "\nkernel=vmlinuz\n") &&
          strstr(text, "\nrootfs=rootfs.squashfs\n") &&
          strstr(text, "\ncpu=max,la57=off\n") && !strstr(text, "\nnic="));

    g_autoptr(GuestConf) c = guest_conf_load(path, &err);
    CHECK("load round trip",
          c && strcmp(c->image, d->image) == 0 &&
          strcmp(c->kernel, d->kernel) == 0 &&
          strcmp(c->append, d->append) == 0 && c->memory_mb == 2560 &&
          strcmp(c->machine, "pc-i440fx-7.2") == 0 &&
          strcmp(c->snapshot, "ready_for_memory_tracer") == 0 &&
          strcmp(c->channel, "virtconsole") == 0 &&
          strcmp(c->rootfs, d->rootfs) == 0 && !c->nic);

    if (c) {
        GuestQemuSetup s = {
            .qemu = "/q", .firmware_dir = "/fw", .image = "/run/a,b.qcow2",
            .qmp_socket = "/run/qmp", .serial_socket = "/run/ser",
            .console_log = "/run/con", .loadvm = TRUE,
        };
        g_auto(GStrv) argv = guest_conf_qemu_argv(c, &s);
        g_autofree char *cmd = g_strjoinv(" ", argv);
        printf("# %s\n", cmd);
        CHECK("argv: restore options",
              strcmp(argv[0], "/q") == 0 && argv_has(argv, "-L", "/fw") &&
              argv_has(argv, "-nodefaults", NULL) &&
              argv_has(argv, "-m", "2560") &&
              argv_has(argv, "-machine", "pc-i440fx-7.2,accel=tcg") &&
              argv_has(argv, "-cpu", "max,la57=off") &&
              argv_has(argv, "-kernel", c->kernel) &&
              argv_has(argv, "-append", c->append) &&
              argv_has(argv, "-loadvm", "ready_for_memory_tracer"));
        CHECK("argv: virtconsole is the protocol socket, ttyS1 the console",
              strstr(cmd, "-chardev socket,id=mtserial,path=/run/ser,"
                          "server=on,wait=off -chardev null,id=mtnull "
                          "-serial chardev:mtnull "
                          "-chardev file,id=mtconsole,path=/run/con "
                          "-serial chardev:mtconsole -device "
                          "virtio-serial-pci,id=mtvirtio -device virtconsole,"
                          "bus=mtvirtio.0,chardev=mtserial,"
                          "name=memory_tracer") != NULL);
        g_free(c->channel);
        c->channel = g_strdup("ttyS0");
        g_auto(GStrv) argv2 = guest_conf_qemu_argv(c, &s);
        g_autofree char *cmd2 = g_strjoinv(" ", argv2);
        CHECK("argv: channel=ttyS0 puts the protocol on the first UART",
              strstr(cmd2, "-chardev socket,id=mtserial,path=/run/ser,"
                           "server=on,wait=off -serial chardev:mtserial "
                           "-chardev file,id=mtconsole,path=/run/con "
                           "-serial chardev:mtconsole") != NULL &&
              !strstr(cmd2, "virtconsole"));
        g_autofree char *root_drive = g_strdup_printf(
            "if=none,id=mtroot,file=%s,format=raw,readonly=on", c->rootfs);
        CHECK("argv: the root file system is a shared read-only virtio disk",
              argv_has(argv, "-drive", root_drive) &&
              argv_has(argv, "-device", "virtio-blk-pci,drive=mtroot,"
                       "id=mtrootdev,serial=mtrootfs") &&
              argv_has(argv, "-drive", "if=none,id=mtdisk,"
                       "file=/run/a,,b.qcow2,format=qcow2"));
        CHECK("argv: commas in paths are escaped",
              strstr(cmd, "file=/run/a,,b.qcow2,format=qcow2") != NULL);
        CHECK("argv: one vCPU, no -accel",
              argv_has(argv, "-smp", "1") && !argv_has(argv, "-accel", NULL));
        c->smp = 4;
        g_auto(GStrv) argv4 = guest_conf_qemu_argv(c, &s);
        CHECK("argv: 4 vCPUs run with MTTCG",
              argv_has(argv4, "-smp", "4") &&
              argv_has(argv4, "-accel", "tcg,thread=multi") &&
              argv_has(argv4, "-machine", "pc-i440fx-7.2"));
    }
    {
        g_autofree char *c1 = guest_embedded_file("guest.conf", 1);
        g_autofree char *c2 = guest_embedded_file("guest.conf", 2);
        g_autofree char *i4 = guest_embedded_file("guest.qcow2", 4);
        CHECK("embedded guest files per vCPU count",
              strcmp(c1, "guest.conf") == 0 &&
              strcmp(c2, "guest-2cpu.conf") == 0 &&
              strcmp(i4, "guest-4cpu.qcow2") == 0);
    }

    const char *bad[] = {
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\ncolour=red\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\nmemory_mb=lots\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\nsmp=0\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\nsmp=65\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\ndrive_if=scsi\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\nchannel=ttyS3\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\nnic=rtl8139\n",
        "image=x\nsnapshot=s\nmachine=m\ncpu=c\ninitrd=i\n",
        "snapshot=s\nmachine=m\ncpu=c\n",
        "format=2\nimage=x\nsnapshot=s\nmachine=m\ncpu=c\n",
        "image x\n",
    };
    gboolean all = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        g_file_set_contents(path, bad[i], -1, NULL);
        GuestConf *b = guest_conf_load(path, &err);
        if (b || !err) {
            printf("# accepted bad configuration %u\n", i);
            all = FALSE;
            guest_conf_free(b);
        }
    }
    CHECK("bad keys and values are rejected with a message", all);

    g_file_set_contents(path, "# user image\nimage=/img/ubuntu.qcow2\n"
                        "snapshot=s\nmachine=pc\ncpu=qemu64\n"
                        "drive_if=ide\n", -1, NULL);
    g_autoptr(GuestConf) u = guest_conf_load(path, &err);
    if (u) {
        GuestQemuSetup s = { .qemu = "/q", .qmp_socket = "/q.sock",
                             .serial_socket = "/s.sock" };
        g_auto(GStrv) argv = guest_conf_qemu_argv(u, &s);
        CHECK("an image without kernel boots from its disk",
              !argv_has(argv, "-kernel", NULL) &&
              argv_has(argv, "-drive",
                       "if=ide,id=mtdisk,file=/img/ubuntu.qcow2,format=qcow2") &&
              !argv_has(argv, "-loadvm", NULL));
    } else {
        CHECK("an image without kernel boots from its disk", FALSE);
    }

    /* A cloud image's machine: q35, the disk on virtio-blk, virtio-net. */
    g_file_set_contents(path, "image=/img/cloud.qcow2\nsnapshot=s\n"
                        "machine=pc-q35-7.2\ncpu=max\ndrive_if=virtio\n"
                        "nic=virtio-net-pci\n", -1, NULL);
    g_autoptr(GuestConf) q = guest_conf_load(path, &err);
    CHECK("q35 image: loads", q && strcmp(q->nic, "virtio-net-pci") == 0);
    if (q) {
        CHECK("q35 image: saved again, the same keys",
              guest_conf_save(q, path, NULL));
        g_autoptr(GuestConf) q2 = guest_conf_load(path, NULL);
        GuestQemuSetup s = { .qemu = "/q", .qmp_socket = "/q.sock",
                             .serial_socket = "/s.sock" };
        g_auto(GStrv) argv = guest_conf_qemu_argv(q2 ? q2 : q, &s);
        g_autofree char *cmd = g_strjoinv(" ", argv);
        CHECK("q35 image: the disk on virtio-blk-pci, then the NIC",
              q2 && strcmp(q2->drive_if, "virtio") == 0 &&
              strstr(cmd, "-drive if=none,id=mtdisk,file=/img/cloud.qcow2,"
                          "format=qcow2 -device virtio-blk-pci,drive=mtdisk,"
                          "id=mtdiskdev -device virtio-net-pci,id=mtnic,"
                          "mac=52:54:00:12:34:56") != NULL &&
              !strstr(cmd, "mtroot") &&
              argv_has(argv, "-machine", "pc-q35-7.2,accel=tcg"));
    }

    {
        GuestQemuSetup s = {
            .qemu = "/q", .firmware_dir = "/fw", .image = "/run/a,b.qcow2",
            .qmp_socket = "/run/qmp", .serial_socket = "/run/ser",
        };
        g_auto(GStrv) argv = plain_image_qemu_argv(&s, 1024, "snap");
        g_autofree char *cmd = g_strjoinv(" ", argv);
        CHECK("argv: a plain image is started the original's way",
              strcmp(cmd, "/q -L /fw -m 1024 -drive "
                     "file=/run/a,,b.qcow2,if=ide,index=0,media=disk "
                     "-display none -monitor none -chardev "
                     "socket,id=mtserial,path=/run/ser,server=on,wait=off "
                     "-serial chardev:mtserial -chardev "
                     "socket,id=mtqmp,path=/run/qmp,server=on,wait=off "
                     "-mon chardev=mtqmp,mode=control -loadvm snap") == 0);
        s.plain_smp = 2;
        g_auto(GStrv) argv2 = plain_image_qemu_argv(&s, 1024, "snap");
        CHECK("argv: a plain image with 2 vCPUs",
              argv_has(argv2, "-smp", "2") &&
              argv_has(argv2, "-accel", "tcg,thread=multi"));
    }

    g_autofree char *src = g_build_filename(dir, "src", NULL);
    g_autofree char *dst = g_build_filename(dir, "dst", NULL);
    g_file_set_contents(src, "image bytes", -1, NULL);
    g_autofree char *copied = NULL;
    CHECK("image copy",
          guest_image_copy(src, dst, NULL) &&
          g_file_get_contents(dst, &copied, NULL, NULL) &&
          strcmp(copied, "image bytes") == 0);
    CHECK("image copy refuses to overwrite",
          !guest_image_copy(src, dst, NULL));
    g_unlink(src);
    g_unlink(dst);
    g_unlink(path);
    g_rmdir(dir);
    return check_failures ? 1 : 0;
}
