/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The real guest helper (run_executables_from_serial, static musl build)
 * driven by lib/serial.c over a pty on the host, without QEMU: garbage
 * before the sync, raw mode (no echo, no CR/LF mangling, 8-bit clean),
 * busybox `read -n1` released by one '\n', a corrupted CRC rejected and the
 * helper ready again afterwards, a re-sync in place of a file header, and
 * a binary upload that arrives intact.
 *
 * usage: test_guest_helper [HELPER]   (default $BUILD/guest/work/...)
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "serial.h"

#include "check.h"

#define SEC G_USEC_PER_SEC

static gboolean run_script(SerialChannel *ch, const char *script,
                           const void *exe2, gsize len2, SerialExit *ex,
                           GError **err)
{
    gint64 dl = g_get_monotonic_time() + 20 * SEC;
    return serial_sync(ch, dl, err) &&
           serial_send_file(ch, 1, script, strlen(script), dl, err) &&
           serial_send_file(ch, 2, exe2, len2, dl, err) &&
           serial_wait_exit(ch, dl, ex, err);
}

int main(int argc, char **argv)
{
    const char *build = g_getenv("BUILD") ? g_getenv("BUILD") : "build";
    g_autofree char *helper = argc > 1 ? g_strdup(argv[1])
        : g_build_filename(build, "guest", "work",
                           "run_executables_from_serial", NULL);
    if (!g_file_test(helper, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE)) {
        printf("SKIP: guest helper on a pty: needs %s and /bin/busybox\n",
               helper);
        return 0;
    }
    g_autofree char *dir = g_dir_make_tmp("mt-test-helper.XXXXXX", NULL);
    g_autoptr(GError) err = NULL;

    int master, slave;
    char slave_name[64];
    if (openpty(&master, &slave, slave_name, NULL, NULL) < 0) {
        printf("SKIP: guest helper on a pty: openpty: %s\n",
               g_strerror(errno));
        return 0;
    }
    /* The helper opens the slave by name and sets raw mode itself; keep
     * our slave descriptor open so the pty does not hang up in between. */
    g_autofree char *console = g_build_filename(dir, "console.log", NULL);
    const char *hargv[] = { helper, slave_name, dir, NULL };
    GPid pid;
    int logfd = open(console, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!g_spawn_async_with_fds(NULL, (char **)hargv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                -1, logfd, logfd, &err)) {
        printf("FAIL: start helper: %s\n", err->message);
        return 1;
    }
    close(logfd);
    /* Wait until it has opened the pty and set raw mode. */
    for (int i = 0; i < 500; i++) {
        g_autofree char *c = NULL;
        if (g_file_get_contents(console, &c, NULL, NULL) &&
            strstr(c, "Opened ")) {
            break;
        }
        g_usleep(10 * 1000);
    }
    SerialChannel *ch = serial_channel_new(master, NULL);

    /* Noise before the sync, including a broken sync prefix. */
    static const char noise[] = "line noise MTSYN MTSYNC xyz\n\x01\xff";
    if (write(master, noise, sizeof(noise) - 1) < 0) {
        printf("FAIL: write noise\n");
    }
    g_autofree char *s1 = g_strdup_printf(
        "#!/bin/busybox sh\n"
        "echo Ready to trace. Press enter to continue\n"
        "read -n1 x\n"
        "printf 'tab\\there\\r\\n\\001\\377'\n"
        "echo got enter\n"
        "exit 3\n");
    gint64 dl = g_get_monotonic_time() + 20 * SEC;
    SerialExit ex = { 0 };
    g_autoptr(GString) before = g_string_new(NULL);
    gboolean ok = serial_sync(ch, dl, &err) &&
        serial_send_file(ch, 1, s1, strlen(s1), dl, &err) &&
        serial_send_file(ch, 2, "", 0, dl, &err) &&
        serial_expect(ch, "Ready to trace. Press enter to continue\n", dl,
                      NULL, &err) &&
        serial_send_enter(ch, &err) &&
        serial_expect(ch, "got enter\n", dl, before, &err) &&
        serial_wait_exit(ch, dl, &ex, &err);
    if (!ok) {
        printf("# %s\n", err->message);
        g_clear_error(&err);
    }
    CHECK("garbage before sync ignored; read -n1 released by one newline",
          ok && !ex.signaled && ex.code == 3);
    CHECK("raw tty: no echo, no CR/LF translation, 8-bit clean",
          ok && strcmp(before->str, "tab\there\r\n\001\377") == 0);

    gint64 dl2 = g_get_monotonic_time() + 20 * SEC;
    gboolean synced = serial_sync(ch, dl2, &err);
    serial_channel_corrupt_next_crc(ch);
    gboolean sent = synced && serial_send_file(ch, 1, s1, strlen(s1), dl2,
                                               &err);
    g_autofree char *stale = g_build_filename(dir, "executable1", NULL);
    CHECK("corrupted CRC: NAK checksum, bad file removed",
          synced && !sent &&
          g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_NAK) &&
          strstr(err->message, "checksum") &&
          !g_file_test(stale, G_FILE_TEST_EXISTS));
    g_clear_error(&err);

    /* A second sync right after the first (no file header in between). */
    dl2 = g_get_monotonic_time() + 20 * SEC;
    ok = serial_sync(ch, dl2, &err) && serial_sync(ch, dl2, &err) &&
         serial_send_file(ch, 1, "#!/bin/busybox sh\nexit 0\n", 25, dl2,
                          &err) &&
         serial_send_file(ch, 2, "", 0, dl2, &err) &&
         serial_wait_exit(ch, dl2, &ex, &err);
    if (!ok) {
        printf("# %s\n", err->message);
        g_clear_error(&err);
    }
    CHECK("helper recovers after a NAK and accepts a re-sync",
          ok && ex.code == 0);

    gsize len = 200000;
    g_autofree guchar *bin = g_malloc(len);
    for (gsize i = 0; i < len; i++) {
        bin[i] = (guchar)(i * 131 + (i >> 8));
    }
    g_autofree char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, bin,
                                                       len);
    g_autofree char *s2 = g_strdup_printf(
        "#!/bin/busybox sh\n/bin/busybox md5sum %s/executable2\n"
        "test -x %s/executable2\n", dir, dir);
    ok = run_script(ch, s2, bin, len, &ex, &err);
    gsize n;
    const char *out = serial_transcript(ch, &n);
    g_autofree char *o = g_strndup(out, n);
    if (!ok) {
        printf("# %s\n", err->message);
    }
    CHECK("binary upload arrives intact and executable",
          ok && ex.code == 0 && strstr(o, md5));

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(slave);
    serial_channel_free(ch);
    const char *files[] = { "executable1", "executable2", "console.log" };
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(dir, files[i], NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
    return check_failures ? 1 : 0;
}
