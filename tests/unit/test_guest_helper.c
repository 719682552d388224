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

#include "memory_tracer/serial_protocol.h"
#include "serial.h"

#include "check.h"

#define SEC G_USEC_PER_SEC

/* Payloads 2-4 after executable1: executable2, arguments, files. */
static gboolean send_rest(SerialChannel *ch, const void *exe2, gsize len2,
                          const void *args, gsize args_len, const void *files,
                          gsize files_len, gint64 dl, GError **err)
{
    return serial_send_file(ch, 2, exe2, len2, dl, err) &&
           serial_send_file(ch, 3, args, args_len, dl, err) &&
           serial_send_file(ch, 4, files, files_len, dl, err);
}

static gboolean run_full(SerialChannel *ch, const char *script,
                         const void *exe2, gsize len2, const void *args,
                         gsize args_len, const void *files, gsize files_len,
                         SerialExit *ex, GError **err)
{
    gint64 dl = g_get_monotonic_time() + 20 * SEC;
    return serial_sync(ch, dl, err) &&
           serial_send_file(ch, 1, script, strlen(script), dl, err) &&
           send_rest(ch, exe2, len2, args, args_len, files, files_len, dl,
                     err) &&
           serial_wait_exit(ch, dl, ex, err);
}

static gboolean run_script(SerialChannel *ch, const char *script,
                           const void *exe2, gsize len2, SerialExit *ex,
                           GError **err)
{
    return run_full(ch, script, exe2, len2, "", 0, "", 0, ex, err);
}

/* One archive entry (serial_protocol.h), appended to @a. */
static void add_entry(GByteArray *a, char type, unsigned mode,
                      const char *path, const void *data, gsize len,
                      gboolean bad_crc)
{
    MtEntry e = { .type = type, .mode = mode, .size = len,
                  .crc = mt_crc32(data, len) ^ (bad_crc ? 1 : 0),
                  .path_len = strlen(path) };
    char line[MT_LINE_MAX];
    int n = mt_format_entry_header(line, sizeof(line), &e);
    g_byte_array_append(a, (const guint8 *)line, (guint)n);
    g_byte_array_append(a, (const guint8 *)path, (guint)strlen(path));
    g_byte_array_append(a, data, (guint)len);
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
        send_rest(ch, "", 0, "", 0, "", 0, dl, &err) &&
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
         send_rest(ch, "", 0, "", 0, "", 0, dl2, &err) &&
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
    g_autofree char *s2 = g_strdup(
        "#!/bin/busybox sh\n/bin/busybox md5sum ./executable2\n"
        "test -x ./executable2\n");
    ok = run_script(ch, s2, bin, len, &ex, &err);
    gsize n;
    const char *out = serial_transcript(ch, &n);
    g_autofree char *o = g_strndup(out, n);
    if (!ok) {
        printf("# %s\n", err->message);
    }
    CHECK("binary upload arrives intact and executable, in the working "
          "directory", ok && ex.code == 0 && strstr(o, md5));

    /* Arguments: byte for byte, as argv[1...] of executable1. */
    static const char args[] = "\0a b\0'\"$x\0\xc3\xbc\xff\0";
    const char *s3 = "#!/bin/busybox sh\n"
        "for a in \"$@\"; do printf '%s' \"$a\" | /bin/busybox od -An -tx1 "
        "| /bin/busybox tr -d ' \\n'; echo '|'; done\n";
    g_autoptr(GError) e3 = NULL;
    gsize before_len;
    serial_take_transcript(ch, &before_len);
    ok = run_full(ch, s3, "", 0, args, sizeof(args) - 1, "", 0, &ex, &e3);
    out = serial_take_transcript(ch, &n);
    g_autofree char *o3 = g_strndup(out, n);
    if (!ok) {
        printf("# %s\n", e3->message);
    }
    CHECK("arguments arrive byte for byte (empty, spaces, quotes, UTF-8, "
          "0xff)", ok && strstr(o3, "|\n6120620|\n272224780|\nc3bcff|\n")
          == NULL && strstr(o3, "|\n612062|\n27222478|\nc3bcff|\n"));

    /* Files: a tree, modes, a symlink, an empty file; descriptor 3's spool
     * comes back in DATA frames after the exit. */
    g_autoptr(GByteArray) arch = g_byte_array_new();
    add_entry(arch, 'd', 0755, "t", "", 0, FALSE);
    add_entry(arch, 'd', 0700, "t/sub", "", 0, FALSE);
    add_entry(arch, 'f', 0750, "t/sub/x", "12345", 5, FALSE);
    add_entry(arch, 'f', 0600, "t/empty", "", 0, FALSE);
    add_entry(arch, 'l', 0777, "t/link", "sub/x", 5, FALSE);
    const char *s4 = "#!/bin/busybox sh\n"
        "cd t && /bin/busybox stat -c '%n %a %s' sub sub/x empty >&3\n"
        "/bin/busybox readlink link >&3; /bin/busybox cat link >&3\n";
    g_autofree char *spool = g_build_filename(dir, "spool", NULL);
    int sfd = open(spool, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    serial_set_data_fd(ch, sfd);
    g_autoptr(GError) e4 = NULL;
    ok = run_full(ch, s4, "", 0, "", 0, arch->data, arch->len, &ex, &e4);
    serial_set_data_fd(ch, -1);
    close(sfd);
    g_autofree char *got = NULL;
    g_file_get_contents(spool, &got, NULL, NULL);
    if (!ok) {
        printf("# %s\n", e4->message);
    }
    if (got) {
        printf("# spool: %s\n", got);
    }
    CHECK("files arrive as a tree with modes and a link; the spool comes "
          "back in DATA frames", ok && ex.code == 0 && got &&
          g_str_has_prefix(got, "sub 700 ") && strstr(got, "sub/x 750 5\n") &&
          strstr(got, "empty 600 0\n") && g_str_has_suffix(got, "sub/x\n12345"));

    /* An entry leaving the working directory, and a bad entry CRC. */
    const char *unsafe[] = { "../escape", "/etc/x", "a/../../b", "a//b" };
    gboolean all_rejected = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(unsafe); i++) {
        g_autoptr(GByteArray) bad = g_byte_array_new();
        add_entry(bad, 'f', 0644, unsafe[i], "x", 1, FALSE);
        g_autoptr(GError) e5 = NULL;
        gboolean sent5 = run_full(ch, "#!/bin/busybox sh\n", "", 0, "", 0,
                                  bad->data, bad->len, &ex, &e5);
        if (sent5 || !g_error_matches(e5, SERIAL_ERROR, SERIAL_ERROR_NAK)) {
            printf("# unsafe path %s accepted\n", unsafe[i]);
            all_rejected = FALSE;
        }
    }
    g_autofree char *escaped = g_build_filename(dir, "escape", NULL);
    CHECK("archive paths outside the working directory are rejected",
          all_rejected && !g_file_test(escaped, G_FILE_TEST_EXISTS));
    g_autoptr(GByteArray) badcrc = g_byte_array_new();
    add_entry(badcrc, 'f', 0644, "f", "abc", 3, TRUE);
    g_autoptr(GError) e6 = NULL;
    ok = run_full(ch, "#!/bin/busybox sh\n", "", 0, "", 0, badcrc->data,
                  badcrc->len, &ex, &e6);
    CHECK("an archive entry with a bad CRC is rejected",
          !ok && g_error_matches(e6, SERIAL_ERROR, SERIAL_ERROR_NAK) &&
          strstr(e6->message, "malformed"));

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(slave);
    serial_channel_free(ch);
    const char *rm[] = { "/bin/rm", "-rf", dir, NULL };
    g_spawn_sync(NULL, (char **)rm, NULL, 0, NULL, NULL, NULL, NULL, NULL,
                 NULL);
    return check_failures ? 1 : 0;
}
