/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "qemu_argv.h"

#include <string.h>

/* QEMU option values are comma-separated key=value lists; a comma inside a
 * value is written twice. */
static char *escape_commas(const char *s)
{
    GString *o = g_string_new(NULL);
    for (; *s; s++) {
        if (*s == ',') {
            g_string_append_c(o, ',');
        }
        g_string_append_c(o, *s);
    }
    return g_string_free(o, FALSE);
}

static void add(GPtrArray *a, const char *s)
{
    g_ptr_array_add(a, g_strdup(s));
}

static void take(GPtrArray *a, char *s)
{
    g_ptr_array_add(a, s);
}

/* "-chardev socket,id=@id,path=@path,server=on,wait=off": QEMU listens. */
static void add_listening_socket(GPtrArray *a, const char *id,
                                 const char *path)
{
    g_autofree char *p = escape_commas(path);
    add(a, "-chardev");
    take(a, g_strdup_printf("socket,id=%s,path=%s,server=on,wait=off", id,
                            p));
}

/* The emulator and its firmware: how every command line starts. */
static GPtrArray *start(const GuestQemuSetup *s)
{
    GPtrArray *a = g_ptr_array_new();
    add(a, s->qemu);
    if (s->firmware_dir) {
        add(a, "-L");
        add(a, s->firmware_dir);
    }
    return a;
}

/* -smp N; more than one vCPU run in parallel, one host thread each
 * (MTTCG), which GMBEOO's per-vCPU rings need. */
static void add_smp(GPtrArray *a, guint smp)
{
    add(a, "-smp");
    take(a, g_strdup_printf("%u", smp));
    if (smp > 1) {
        add(a, "-accel");
        add(a, "tcg,thread=multi");
    }
}

/* The QMP monitor on its socket: how every command line ends. */
static void add_qmp(GPtrArray *a, const GuestQemuSetup *s)
{
    add_listening_socket(a, "mtqmp", s->qmp_socket);
    add(a, "-mon");
    add(a, "chardev=mtqmp,mode=control");
}

/*
 * The image (vmstate; a writable copy per run), the shared read-only root
 * disk and the network card, in this order (their PCI slots follow it, and
 * a snapshot restores only into the same slots).  A virtio disk is a
 * virtio-blk-pci device; the root disk's serial "mtrootfs" is how the
 * embedded guest's /init finds it.
 */
static void add_disks(GPtrArray *a, const GuestConf *c, const char *image)
{
    gboolean virtio = c->drive_if && strcmp(c->drive_if, "virtio") == 0;
    add(a, "-drive");
    take(a, g_strdup_printf("if=%s,id=mtdisk,file=%s,format=qcow2",
                            virtio ? "none" : c->drive_if ? c->drive_if
                                                          : "none", image));
    if (virtio) {
        add(a, "-device");
        add(a, "virtio-blk-pci,drive=mtdisk,id=mtdiskdev");
    }
    if (c->rootfs) {
        g_autofree char *rootfs = escape_commas(c->rootfs);
        add(a, "-drive");
        take(a, g_strdup_printf("if=none,id=mtroot,file=%s,format=raw,"
                                "readonly=on", rootfs));
        add(a, "-device");
        add(a, "virtio-blk-pci,drive=mtroot,id=mtrootdev,serial=mtrootfs");
    }
    if (c->nic && strcmp(c->nic, "none") != 0) {
        /* No network behind it: the device only has to be there for its
         * state in the snapshot. */
        add(a, "-device");
        take(a, g_strdup_printf("%s,id=mtnic,mac=52:54:00:12:34:56",
                                c->nic));
    }
}

GStrv guest_conf_qemu_argv(const GuestConf *c, const GuestQemuSetup *s)
{
    GPtrArray *a = start(s);
    g_autofree char *image = escape_commas(s->image ? s->image : c->image);

    add(a, "-nodefaults");
    add(a, "-no-user-config");
    add(a, "-display");
    add(a, "none");
    add(a, "-machine");
    /* -accel and -machine accel= do not mix: -accel when it says more. */
    take(a, c->smp > 1 ? g_strdup(c->machine)
                       : g_strdup_printf("%s,accel=tcg", c->machine));
    add(a, "-cpu");
    add(a, c->cpu);
    add(a, "-m");
    take(a, g_strdup_printf("%u", c->memory_mb));
    add_smp(a, c->smp);
    if (c->kernel) {
        add(a, "-kernel");
        add(a, c->kernel);
        if (c->initrd) {
            add(a, "-initrd");
            add(a, c->initrd);
        }
        if (c->append) {
            add(a, "-append");
            add(a, c->append);
        }
    }
    add_disks(a, c, image);
    gboolean virtio = c->channel && strcmp(c->channel, "virtconsole") == 0;
    add_listening_socket(a, "mtserial", s->serial_socket);
    if (virtio) {
        add(a, "-chardev");
        add(a, "null,id=mtnull");
        add(a, "-serial");
        add(a, "chardev:mtnull");
    } else {
        add(a, "-serial");
        add(a, "chardev:mtserial");
    }
    add(a, "-chardev");
    if (s->console_log) {
        g_autofree char *con = escape_commas(s->console_log);
        take(a, g_strdup_printf("file,id=mtconsole,path=%s", con));
    } else {
        add(a, "null,id=mtconsole");
    }
    add(a, "-serial");
    add(a, "chardev:mtconsole");
    if (virtio) {
        add(a, "-device");
        add(a, "virtio-serial-pci,id=mtvirtio");
        add(a, "-device");
        add(a, "virtconsole,bus=mtvirtio.0,chardev=mtserial,"
               "name=memory_tracer");
    }
    add_qmp(a, s);
    if (s->loadvm) {
        add(a, "-loadvm");
        add(a, c->snapshot);
    }
    if (s->start_paused) {
        add(a, "-S");
    }
    g_ptr_array_add(a, NULL);
    return (GStrv)g_ptr_array_free(a, FALSE);
}


GStrv plain_image_qemu_argv(const GuestQemuSetup *s, long memory_mb,
                            const char *snapshot)
{
    GPtrArray *a = start(s);
    g_autofree char *image = escape_commas(s->image);

    add(a, "-m");
    take(a, g_strdup_printf("%ld", memory_mb));
    if (s->plain_smp > 1) {
        add_smp(a, s->plain_smp);
    }
    add(a, "-drive");
    take(a, g_strdup_printf("file=%s,if=ide,index=0,media=disk", image));
    add(a, "-display");
    add(a, "none");
    add(a, "-monitor");
    add(a, "none");
    add_listening_socket(a, "mtserial", s->serial_socket);
    add(a, "-serial");
    add(a, "chardev:mtserial");
    add_qmp(a, s);
    add(a, "-loadvm");
    add(a, snapshot);
    g_ptr_array_add(a, NULL);
    return (GStrv)g_ptr_array_free(a, FALSE);
}

char *qemu_argv_text(char *const *argv)
{
    GString *text = g_string_new(NULL);
    for (char *const *a = argv; *a; a++) {
        if (text->len) {
            g_string_append_c(text, ' ');
        }
        gboolean plain = **a != '\0';
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
