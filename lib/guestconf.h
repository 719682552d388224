/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.conf: how a guest image's snapshot must be restored.  A snapshot
 * only loads into a machine configured exactly as the one that saved it
 * (machine type, CPU, RAM, -kernel/-initrd/-append, devices), so the image
 * builder (guest/make_snapshot.c) and memory_tracer both compose QEMU's
 * command line from this one file with guest_conf_qemu_argv() (qemu_argv.h).
 *
 * Format: "key=value" lines, '#' comments, blank lines ignored.  Relative
 * paths are relative to the file's directory.  Keys:
 *
 *   format=1                  version of this file's layout
 *   image=guest.qcow2         qcow2 image holding the snapshot (vmstate)
 *   snapshot=ready_for_memory_tracer
 *   kernel=vmlinuz            -kernel (optional: absent for images that boot
 *   initrd=initrd.img         -initrd  from their own disk)
 *   append=console=ttyS1 ...  -append
 *   machine=pc-i440fx-7.2     -machine (versioned: the device layout of an
 *                             alias like "pc" may change between QEMUs)
 *   rootfs=rootfs.squashfs    optional: a raw image attached read-only
 *                             (-drive readonly=on on virtio-blk-pci, serial
 *                             "mtrootfs"), never copied: every run shares
 *                             it.  The embedded guest's Debian root file
 *                             system (guest/README.md); its /init mounts it
 *                             under a tmpfs overlay.  Absent: no such disk.
 *   cpu=max,la57=off          -cpu (max: everything TCG implements, SSE4.2
 *                             and AVX2 included, so glibc's ifuncs take the
 *                             paths they take on the host; la57=off keeps
 *                             4-level paging, as the old qemu64 had it)
 *   memory_mb=2560            -m
 *   smp=1                     -smp: the vCPUs the snapshot was saved with,
 *                             in [1, GUEST_MAX_VCPUS] (more than one run
 *                             with MTTCG, -accel tcg,thread=multi)
 *   drive_if=none             how the image is attached: "none" (only holds
 *                             the vmstate; the embedded guest runs from its
 *                             initramfs and rootfs), "ide" (-hda style, for
 *                             images that boot from disk) or "virtio" (on a
 *                             virtio-blk-pci device, as cloud images run)
 *   nic=none                  a network card: "none" (the default),
 *                             "virtio-net-pci", "e1000e" or "e1000", with no
 *                             network behind it (the snapshot's device state
 *                             needs the device, the tracer no network)
 *   channel=virtconsole       the device the guest helper talks over:
 *                             "ttyS0" (first 16550 UART; the default, and
 *                             what user-made images use) or "virtconsole"
 *                             (a virtio console, /dev/hvc0 in the guest, on
 *                             a virtio-serial-pci controller: about 100x
 *                             faster uploads than the emulated UART)
 *
 * Serial layout (fixed, not a key): ttyS0 = the protocol channel (a null
 * device when channel=virtconsole), ttyS1 = the guest console, written to a
 * file.  The protocol channel is always a unix socket QEMU listens on.
 */
#ifndef MEMORY_TRACER_GUESTCONF_H
#define MEMORY_TRACER_GUESTCONF_H

#include <glib.h>

#define GUEST_CONF_ERROR guest_conf_error_quark()
GQuark guest_conf_error_quark(void);

typedef enum {
    GUEST_CONF_ERROR_IO,
    GUEST_CONF_ERROR_PARSE,
} GuestConfErrorCode;

/*
 * The embedded guest's settings, decided here once: the image builder makes
 * the snapshot with them (guest_conf_new_default()), and memory_tracer
 * falls back on them for a given image without a guest.conf.
 */
#define GUEST_DEFAULT_SNAPSHOT "ready_for_memory_tracer"
#define GUEST_DEFAULT_MEMORY_MB 2560
#define GUEST_DEFAULT_MACHINE "pc-i440fx-7.2"
#define GUEST_DEFAULT_CPU "max,la57=off"
/* virtconsole (fast) or ttyS0 (the original's 16550 channel). */
#define GUEST_DEFAULT_CHANNEL "virtconsole"
#define GUEST_DEFAULT_APPEND                                              \
    "console=ttyS1,115200 quiet nokaslr mitigations=off tsc=reliable "   \
    "nowatchdog panic=-1"

/* --guest_num_of_vCPUs: at most this many (the vCPU index is one byte of
 * a record); the embedded guest has a snapshot for each of these counts,
 * in the files guest_embedded_file() names. */
#define GUEST_MAX_VCPUS 64
#define GUEST_EMBEDDED_VCPU_COUNTS { 1, 2, 4 }

typedef struct GuestConf {
    char *image;            /* absolute paths after guest_conf_load() */
    char *snapshot;
    char *kernel;           /* NULL: no -kernel/-initrd/-append */
    char *initrd;
    char *append;
    char *machine;
    char *cpu;
    guint memory_mb;
    guint smp;
    char *drive_if;         /* "none", "ide" or "virtio" */
    char *channel;          /* "ttyS0" or "virtconsole" */
    char *rootfs;           /* NULL: no read-only root disk */
    char *nic;              /* NULL or "none": no network card */
} GuestConf;

/*
 * The embedded guest's file @name ("guest.conf" or "guest.qcow2") for
 * @smp vCPUs: the name itself for one vCPU, "guest-2cpu.conf" and the like
 * for more.  The kernel and initramfs are shared.
 */
char *guest_embedded_file(const char *name, unsigned smp);

/* The embedded guest's settings, with paths relative to build/guest
 * (rootfs NULL: the builder sets it). */
GuestConf *guest_conf_new_default(void);

/* Parse @path; unknown keys are an error (a typo must not be ignored). */
GuestConf *guest_conf_load(const char *path, GError **err);

/* Write @conf to @path (atomically, through a temporary file).  Paths inside
 * @path's directory are written relative to it. */
gboolean guest_conf_save(const GuestConf *conf, const char *path,
                         GError **err);

void guest_conf_free(GuestConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestConf, guest_conf_free)

/*
 * Copy the image @src to @dest (which must not exist) for one run, so the
 * run cannot change the original: -loadvm needs a writable image, and
 * QEMU's own snapshot=on overlay hides the internal snapshots.  Uses a
 * reflink or copy_file_range where the filesystem allows.
 */
gboolean guest_image_copy(const char *src, const char *dest, GError **err);

#endif /* MEMORY_TRACER_GUESTCONF_H */
