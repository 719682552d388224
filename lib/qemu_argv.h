/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's command line, built in this one place for every program that
 * starts a guest (memory_tracer, the image builder, the test drivers).
 * Nothing passes through a shell; option values have their commas doubled
 * as QEMU's key=value syntax requires.
 */
#ifndef MEMORY_TRACER_QEMU_ARGV_H
#define MEMORY_TRACER_QEMU_ARGV_H

#include <glib.h>

#include "guestconf.h"

/* The run-specific parts of QEMU's command line. */
typedef struct GuestQemuSetup {
    const char *qemu;           /* qemu-system-x86_64 */
    const char *firmware_dir;   /* -L; NULL: QEMU's default */
    const char *image;          /* the image to attach; NULL: conf->image.
                                 * Runs pass a throw-away copy (see
                                 * guest_image_copy()). */
    const char *qmp_socket;     /* QEMU listens here */
    const char *serial_socket;  /* ttyS0: QEMU listens here */
    const char *console_log;    /* ttyS1 output file; NULL: discarded */
    gboolean loadvm;            /* restore conf->snapshot (-loadvm) */
    gboolean start_paused;      /* -S */
    guint plain_smp;            /* plain image: -smp (0 or 1: one vCPU) */
} GuestQemuSetup;

/*
 * QEMU's argv (NULL-terminated, g_strfreev()) for a guest described by a
 * guest.conf.  Callers may append their own options after these.
 */
GStrv guest_conf_qemu_argv(const GuestConf *conf, const GuestQemuSetup *setup);

/*
 * QEMU's argv for an image the user brought without a guest.conf, started
 * the original's way: `-m MEMORY_MB -hda IMAGE -loadvm SNAPSHOT` with its
 * one serial port (ttyS0, where the helper waits), headless, plus QMP.  No
 * second serial port for a console log: the snapshot's machine had none.
 * Uses @setup's qemu, firmware_dir, image, qmp_socket and serial_socket.
 */
GStrv plain_image_qemu_argv(const GuestQemuSetup *setup, long memory_mb,
                            const char *snapshot);

/* @argv as a shell would need it typed (for --verbose). */
char *qemu_argv_text(char *const *argv);

#endif /* MEMORY_TRACER_QEMU_ARGV_H */
