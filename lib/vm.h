/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting a guest under QEMU, for every program that does: memory_tracer,
 * the image builder (guest/make_snapshot.c) and the test drivers.  A Vm
 * owns one directory holding QEMU's sockets, its log, the guest console log
 * and the throw-away image copy the guest runs on; QEMU itself is a Child
 * (own process group, killed with us, always reaped).
 *
 *   vm_init()      name the files in a directory (made here, or the caller's)
 *   vm_spawn()     copy the image, build the command line, start QEMU
 *   vm_connect()   QMP (greeting, capabilities) and the serial channel
 *   vm_quit()      QMP quit, wait, kill if it does not go
 *   vm_clear()     all of the above undone; a directory made here removed
 *
 * Callers that must notice other things while QEMU starts (memory_tracer
 * watches signals and the analysis tool) connect with qmp_connect() and
 * serial_connect_unix() on the paths themselves, in slices.
 */
#ifndef MEMORY_TRACER_VM_H
#define MEMORY_TRACER_VM_H

#include <glib.h>
#include <stdbool.h>

#include "child.h"
#include "guestconf.h"
#include "qmp.h"
#include "serial.h"

typedef struct Vm {
    char *dir;
    bool own_dir;           /* made by vm_init(): vm_clear() removes it */
    char *image;            /* the copy QEMU runs on (dir/guest.qcow2) */
    char *qmp_path;         /* dir/qmp.sock */
    char *serial_path;      /* dir/serial.sock */
    char *console_log;      /* dir/console.log (ttyS1) */
    char *qemu_log;         /* dir/qemu.log (QEMU's stdout and stderr) */
    GStrv argv;             /* QEMU's command line, once spawned */
    Child qemu;
    QmpClient *qmp;
    SerialChannel *serial;
} Vm;

typedef struct VmSetup {
    const char *qemu;           /* qemu-system-x86_64 */
    const char *firmware_dir;   /* -L; NULL: found beside @qemu, if any */
    const GuestConf *conf;      /* NULL: a plain image, the original's way */
    const char *image;          /* NULL: conf->image */
    bool copy_image;            /* run on a copy in the directory */
    long plain_memory_mb;       /* without @conf: -m */
    unsigned plain_smp;         /* without @conf: -smp (0: one vCPU) */
    const char *plain_snapshot; /* without @conf: -loadvm */
    bool loadvm;                /* with @conf: restore conf->snapshot */
    bool start_paused;          /* with @conf: -S */
    char *const *extra_args;    /* appended (NULL-terminated), or NULL */
    const int *keep_fd;         /* NULL, or a descriptor QEMU inherits */
                                /*   (same number; memory_tracer's rings) */
} VmSetup;

/* Name the files in @dir, or, if @dir is NULL, in a new directory made
 * from @tmp_template (g_dir_make_tmp()). */
bool vm_init(Vm *vm, const char *dir, const char *tmp_template, GError **err);

/* Start QEMU as @setup says (--verbose: the command line on stderr). */
bool vm_spawn(Vm *vm, const VmSetup *setup, GError **err);

/* Connect QMP and then the serial channel (raw log to @serial_log if not
 * NULL), both by @deadline. */
bool vm_connect(Vm *vm, gint64 deadline, const char *serial_log,
                GError **err);

/* Wait until the guest console log holds @text (true), QEMU exits or
 * @deadline passes (false).  *@console (may be NULL) receives the log. */
bool vm_wait_console(Vm *vm, const char *text, gint64 deadline,
                     char **console);

/* Ask QEMU to quit (if connected) and wait up to @grace_us; false when it
 * had to be killed.  Closes the QMP and serial connections. */
bool vm_quit(Vm *vm, gint64 grace_us);

/* Quit (5 s grace), then free everything; removes a directory vm_init()
 * made.  Safe on a zeroed or partly started Vm. */
void vm_clear(Vm *vm);

/* ": <last line QEMU wrote>", or "" (for error messages). */
char *vm_qemu_last_words(const Vm *vm);

/* Firmware for -L: beside the emulator as installed (../share/qemu), or a
 * source tree's pc-bios/; NULL if none is found. */
char *vm_find_firmware(const char *qemu);

#endif /* MEMORY_TRACER_VM_H */
