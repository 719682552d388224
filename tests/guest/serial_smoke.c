/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * End-to-end smoke test of the embedded guest and the serial channel,
 * without the memory_tracer CLI: restore build/guest/guest.qcow2 (a copy),
 * upload workloads with lib/serial.c, run them, check their output and
 * exit status, and that a corrupted upload is rejected.  Prints timings
 * (restore-to-ready, upload rate, whole run).
 *
 * usage: serial_smoke                 the smoke cases on one restored guest
 *        serial_smoke --repeat N      N full restore+upload+run cycles
 *        serial_smoke --boot-ttyS0    boot (no snapshot) with the protocol
 *                                     on the 16550, as user images have it
 *
 * Paths come from $BUILD (default ./build).  Prints PASS/FAIL/SKIP lines
 * (tests/run.sh protocol).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "guestconf.h"
#include "qmp.h"
#include "serial.h"
#include "vm.h"

#define SEC G_USEC_PER_SEC

static const char *build_dir;
static int failures;

static void pass(const char *name)
{
    printf("PASS: %s\n", name);
    fflush(stdout);
}

static void fail(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("FAIL: %s: %s\n", name, why);
    fflush(stdout);
    failures++;
}

static double secs(gint64 us)
{
    return (double)us / SEC;
}

/* When the restore's parts ended, from the spawn. */
typedef struct Timing {
    gint64 t_spawn;
    double copy_s;      /* image copy */
    double qmp_s;       /* spawn to QMP ready: mostly loadvm */
} Timing;

static void stop_guest(Vm *vm, gboolean show_logs)
{
    if (show_logs && vm->console_log) {
        g_autofree char *con = NULL, *log = NULL;
        g_file_get_contents(vm->console_log, &con, NULL, NULL);
        g_file_get_contents(vm->qemu_log, &log, NULL, NULL);
        printf("--- guest console ---\n%s\n--- qemu output ---\n%s\n---\n",
               con ? con : "", log ? log : "");
    }
    if (!vm_quit(vm, 10 * SEC)) {
        printf("# QEMU did not quit within 10 s; killing it\n");
    }
    vm_clear(vm);
}

/* Restore the snapshot from a throw-away copy of the image (or boot, with
 * @boot) and connect QMP and the serial channel (not yet synchronised). */
static gboolean start_guest(const GuestConf *conf, Vm *vm, gboolean boot,
                            Timing *t, GError **err)
{
    Timing none;
    t = t ? t : &none;
    if (!vm_init(vm, NULL, "mt-smoke.XXXXXX", err)) {
        return FALSE;
    }
    g_autofree char *serlog = g_build_filename(vm->dir, "serial.log", NULL);
    g_autofree char *qemu = g_build_filename(build_dir, "bin",
                                             "qemu-system-x86_64", NULL);
    t->t_spawn = g_get_monotonic_time();
    if (!guest_image_copy(conf->image, vm->image, err)) {
        return FALSE;
    }
    t->copy_s = secs(g_get_monotonic_time() - t->t_spawn);
    VmSetup setup = {
        .qemu = qemu, .conf = conf, .image = vm->image, .loadvm = !boot,
    };
    gint64 deadline = g_get_monotonic_time() + 60 * SEC;
    if (!vm_spawn(vm, &setup, err)) {
        return FALSE;
    }
    vm->qmp = qmp_connect(vm->qmp_path, deadline, err);
    if (!vm->qmp) {
        return FALSE;
    }
    t->qmp_s = secs(g_get_monotonic_time() - t->t_spawn);
    int fd = serial_connect_unix(vm->serial_path, deadline, err);
    if (fd < 0) {
        return FALSE;
    }
    vm->serial = serial_channel_new(fd, serlog);
    /* A fresh boot: the helper drops input that arrives before it has
     * opened the channel, so wait for it to say so. */
    if (boot && !vm_wait_console(vm, "Opened /dev/", deadline, NULL)) {
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT,
                    "timed out waiting for \"Opened /dev/...\" on "
                    "the console of the booting guest");
        return FALSE;
    }
    return TRUE;
}

static const char wrapper_fmt[] =
    "#!/bin/sh\n"
    "echo -----begin workload info-----\n"
    "echo -----end workload info-----\n"
    "echo Ready to trace. Press enter to continue\n"
    "read -n1 x\n"
    "%s\n"
    "st=$?\n"
    "echo Stop tracing\n"
    "exit $st\n";

/* Sync and upload both files. */
static gboolean upload(Vm *vm, const char *exe1, gsize len1,
                       const char *exe2, gsize len2, double *upload_s,
                       GError **err)
{
    gint64 deadline = g_get_monotonic_time() + 60 * SEC;
    if (!serial_sync(vm->serial, deadline, err)) {
        return FALSE;
    }
    gint64 t = g_get_monotonic_time();
    if (!serial_send_workload(vm->serial, exe1, len1, exe2, len2, NULL, "",
                              0, deadline, err)) {
        return FALSE;
    }
    if (upload_s) {
        *upload_s = secs(g_get_monotonic_time() - t);
    }
    return TRUE;
}

/* The hello workload in the CLI's wrapper: markers, two Enters, exit 42. */
static gboolean run_hello(Vm *vm, const char *hello, gsize hello_len,
                          GError **err)
{
    g_autofree char *exe1 = g_strdup_printf(wrapper_fmt, "./executable2");
    gint64 deadline = g_get_monotonic_time() + 60 * SEC;
    g_autoptr(GString) info = g_string_new(NULL);
    SerialExit ex;

    if (!upload(vm, exe1, strlen(exe1), hello, hello_len, NULL, err) ||
        !serial_expect(vm->serial, "-----begin workload info-----", deadline,
                       NULL, err) ||
        !serial_expect(vm->serial, "-----end workload info-----", deadline,
                       info, err) ||
        !serial_expect(vm->serial, "Ready to trace. Press enter to continue",
                       deadline, NULL, err) ||
        !serial_send_enter(vm->serial, err) ||
        !serial_expect(vm->serial, "hello workload: ready\n", deadline, NULL,
                       err) ||
        !serial_send_enter(vm->serial, err) ||
        !serial_expect(vm->serial, "hello workload: got 10\n", deadline,
                       NULL, err) ||
        !serial_expect(vm->serial, "Stop tracing\n", deadline, NULL, err) ||
        !serial_wait_exit(vm->serial, deadline, &ex, err)) {
        return FALSE;
    }
    g_strstrip(info->str);
    if (info->str[0] != '\0') {
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_PROTOCOL,
                    "workload info should be empty, got \"%s\"", info->str);
        return FALSE;
    }
    if (ex.signaled || ex.code != 42) {
        g_set_error(err, SERIAL_ERROR, SERIAL_ERROR_PROTOCOL,
                    "expected exit 42, got %s %d",
                    ex.signaled ? "signal" : "exit", ex.code);
        return FALSE;
    }
    return TRUE;
}

/* Run a guest-resident script (executable2 empty); return its end. */
static gboolean run_script(Vm *vm, const char *script, SerialExit *ex,
                           GString *out, GError **err)
{
    gint64 deadline = g_get_monotonic_time() + 60 * SEC;
    if (!upload(vm, script, strlen(script), "", 0, NULL, err) ||
        !serial_wait_exit(vm->serial, deadline, ex, err)) {
        return FALSE;
    }
    gsize n;
    const char *t = serial_transcript(vm->serial, &n);
    g_string_append_len(out, t, (gssize)n);
    return TRUE;
}

static char *image_digest(const char *path)
{
    g_autoptr(GMappedFile) m = g_mapped_file_new(path, FALSE, NULL);
    if (!m) {
        return g_strdup("(unreadable)");
    }
    return g_compute_checksum_for_data(
        G_CHECKSUM_SHA256, (const guchar *)g_mapped_file_get_contents(m),
        g_mapped_file_get_length(m));
}

static int smoke(const GuestConf *conf, const char *hello, gsize hello_len)
{
    g_autoptr(GError) err = NULL;
    Vm vm;
    Timing timing;
    g_autofree char *digest = image_digest(conf->image);

    if (!start_guest(conf, &vm, FALSE, &timing, &err)) {
        fail("restore", "%s", err->message);
        stop_guest(&vm, TRUE);
        return 1;
    }
    if (!serial_sync(vm.serial, g_get_monotonic_time() + 60 * SEC, &err)) {
        fail("restore", "%s", err->message);
        stop_guest(&vm, TRUE);
        return 1;
    }
    double ready = secs(g_get_monotonic_time() - timing.t_spawn);
    printf("# restore-to-ready: %.2f s (image copy %.2f s, QMP up after "
           "%.2f s)\n", ready, timing.copy_s, timing.qmp_s);
    pass("restore");

    /* The same guest is reused below: the helper waits for a new sync
     * after every run, and after a NAK. */
    gint64 t = g_get_monotonic_time();
    if (run_hello(&vm, hello, hello_len, &err)) {
        printf("# hello run (sync, upload, run, exit): %.2f s\n",
               secs(g_get_monotonic_time() - t));
        pass("hello workload output, Enter and exit status");
    } else {
        fail("hello workload output, Enter and exit status", "%s",
             err->message);
        g_clear_error(&err);
    }

    {
        SerialExit ex;
        g_autoptr(GString) out = g_string_new(NULL);
        if (!run_script(&vm, "#!/bin/sh\nprintf 'no newline'\nexit 5\n", &ex,
                        out, &err)) {
            fail("exit trailer mid-line", "%s", err->message);
            g_clear_error(&err);
        } else if (ex.signaled || ex.code != 5 ||
                   !strstr(out->str, "no newline") ||
                   strchr(out->str, '\x1e')) {
            fail("exit trailer mid-line", "got %s %d, output \"%s\"",
                 ex.signaled ? "signal" : "exit", ex.code, out->str);
        } else {
            pass("exit trailer mid-line");
        }
    }
    {
        SerialExit ex;
        g_autoptr(GString) out = g_string_new(NULL);
        if (!run_script(&vm, "#!/bin/sh\nkill -KILL $$\n", &ex, out, &err)) {
            fail("workload killed by a signal", "%s", err->message);
            g_clear_error(&err);
        } else if (!ex.signaled || ex.code != 9) {
            fail("workload killed by a signal", "got %s %d",
                 ex.signaled ? "signal" : "exit", ex.code);
        } else {
            pass("workload killed by a signal");
        }
    }
    {
        const char *name = "corrupted upload is rejected";
        gint64 deadline = g_get_monotonic_time() + 60 * SEC;
        const char *s = "#!/bin/sh\necho should not run\n";
        if (!serial_sync(vm.serial, deadline, &err)) {
            fail(name, "%s", err->message);
            g_clear_error(&err);
        } else {
            serial_channel_corrupt_next_crc(vm.serial);
            if (serial_send_file(vm.serial, 1, s, strlen(s), deadline,
                                 &err)) {
                fail(name, "the guest accepted a file with a wrong CRC");
            } else if (!g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_NAK) ||
                       !strstr(err->message, "checksum")) {
                fail(name, "wrong error: %s", err->message);
            } else {
                printf("# rejected as: %s\n", err->message);
                pass(name);
            }
            g_clear_error(&err);
        }
    }
    {
        const char *name = "1 MiB upload arrives intact";
        gsize len = 1024 * 1024;
        g_autofree guint32 *data = g_new(guint32, len / 4);
        GRand *r = g_rand_new_with_seed(1234);
        for (gsize i = 0; i < len / 4; i++) {
            data[i] = g_rand_int(r);
        }
        g_rand_free(r);
        g_autofree char *md5 = g_compute_checksum_for_data(
            G_CHECKSUM_MD5, (const guchar *)data, len);
        const char *s = "#!/bin/sh\nmd5sum ./executable2\n";
        double up = 0;
        SerialExit ex;
        gint64 deadline = g_get_monotonic_time() + 120 * SEC;
        if (!upload(&vm, s, strlen(s), (const char *)data, len, &up, &err) ||
            !serial_wait_exit(vm.serial, deadline, &ex, &err)) {
            fail(name, "%s", err->message);
            g_clear_error(&err);
        } else {
            gsize n;
            const char *out = serial_transcript(vm.serial, &n);
            g_autofree char *o = g_strndup(out, n);
            printf("# upload of 1 MiB: %.2f s = %.0f KiB/s\n", up,
                   1024.0 / up);
            if (!strstr(o, md5) || ex.code != 0) {
                fail(name, "guest md5sum says \"%s\", expected %s", o, md5);
            } else {
                pass(name);
            }
        }
    }
    stop_guest(&vm, failures > 0);
    g_autofree char *after = image_digest(conf->image);
    if (strcmp(digest, after) == 0) {
        pass("the runs left the guest image unchanged");
    } else {
        fail("the runs left the guest image unchanged", "sha256 %s -> %s",
             digest, after);
    }
    return failures ? 1 : 0;
}

static int repeat(const GuestConf *conf, const char *hello, gsize hello_len,
                  int n)
{
    g_autofree double *times = g_new0(double, n);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) err = NULL;
        Vm vm;
        gint64 t0 = g_get_monotonic_time();
        if (!start_guest(conf, &vm, FALSE, NULL, &err) ||
            !run_hello(&vm, hello, hello_len, &err)) {
            g_autofree char *name = g_strdup_printf("run %d of %d", i + 1, n);
            fail(name, "%s", err->message);
            stop_guest(&vm, TRUE);
            continue;
        }
        stop_guest(&vm, FALSE);
        times[ok++] = secs(g_get_monotonic_time() - t0);
    }
    if (ok > 0) {
        double sum = 0, min = times[0], max = times[0];
        for (int i = 0; i < ok; i++) {
            sum += times[i];
            min = MIN(min, times[i]);
            max = MAX(max, times[i]);
        }
        printf("# %d runs (restore, upload, run, quit): mean %.2f s, "
               "min %.2f s, max %.2f s\n", ok, sum / ok, min, max);
    }
    if (ok == n) {
        g_autofree char *name = g_strdup_printf(
            "%d restore+upload+run cycles in a row", n);
        pass(name);
    }
    return ok == n ? 0 : 1;
}

/* The 16550 path that user-made images use: boot the embedded kernel and
 * initramfs with channel=ttyS0 (no snapshot; /init falls back to ttyS0
 * when there is no virtio console) and run the hello workload. */
static int boot_ttys0(GuestConf *conf, const char *hello, gsize hello_len)
{
    g_autoptr(GError) err = NULL;
    const char *name = "16550 channel (ttyS0): hello workload on a booted "
                       "guest";
    Vm vm;
    g_free(conf->channel);
    conf->channel = g_strdup("ttyS0");
    gint64 t0 = g_get_monotonic_time();
    if (!start_guest(conf, &vm, TRUE, NULL, &err)) {
        fail(name, "%s", err->message);
        stop_guest(&vm, TRUE);
        return 1;
    }
    gint64 t1 = g_get_monotonic_time();
    if (!run_hello(&vm, hello, hello_len, &err)) {
        fail(name, "%s", err->message);
        stop_guest(&vm, TRUE);
        return 1;
    }
    printf("# boot %.1f s; sync + upload (%" G_GSIZE_FORMAT " bytes) + run "
           "over the 16550: %.2f s\n", secs(t1 - t0), hello_len,
           secs(g_get_monotonic_time() - t1));
    stop_guest(&vm, FALSE);
    pass(name);
    return 0;
}

int main(int argc, char **argv)
{
    int n_repeat = 0;
    gboolean ttys0 = FALSE;
    if (argc == 3 && strcmp(argv[1], "--repeat") == 0) {
        n_repeat = atoi(argv[2]);
    } else if (argc == 2 && strcmp(argv[1], "--boot-ttyS0") == 0) {
        ttys0 = TRUE;
    } else if (argc != 1) {
        fprintf(stderr, "usage: serial_smoke [--repeat N | --boot-ttyS0]\n");
        return 2;
    }
    build_dir = g_getenv("BUILD") ? g_getenv("BUILD") : "build";
    g_autofree char *conf_path = g_build_filename(build_dir, "guest",
                                                  "guest.conf", NULL);
    g_autofree char *hello_path = g_build_filename(build_dir, "tests",
                                                   "workloads", "hello", NULL);
    g_autoptr(GError) err = NULL;
    if (!g_file_test(conf_path, G_FILE_TEST_EXISTS)) {
        printf("SKIP: serial_smoke: no guest image (%s); run make guest\n",
               conf_path);
        return 0;
    }
    g_autoptr(GuestConf) conf = guest_conf_load(conf_path, &err);
    g_autofree char *hello = NULL;
    gsize hello_len = 0;
    if (!conf || !g_file_get_contents(hello_path, &hello, &hello_len, &err)) {
        fail("setup", "%s", err->message);
        return 1;
    }
    if (ttys0) {
        return boot_ttys0(conf, hello, hello_len);
    }
    return n_repeat > 0 ? repeat(conf, hello, hello_len, n_repeat)
                        : smoke(conf, hello, hello_len);
}
