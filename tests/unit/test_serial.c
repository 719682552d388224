/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the serial protocol (include/memory_tracer/serial_protocol.h)
 * and of the host channel (lib/serial.c), the latter against a fake
 * guest on a socketpair: framing round trips, CRC, NAK on a corrupted CRC,
 * truncated and malformed frames, garbage before sync, the exit trailer
 * split across reads and mid-line, deadlines and EOF.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "memory_tracer/serial_protocol.h"
#include "serial.h"

#include "check.h"

#define NONCE "0123456789abcdef"

static void test_crc(void)
{
    CHECK("crc32 of \"123456789\" is cbf43926",
          mt_crc32("123456789", 9) == 0xcbf43926u);
    CHECK("crc32 of nothing is 0", mt_crc32("", 0) == 0);
    MtCrc32Table t;
    mt_crc32_table_init(&t);
    uint32_t c = mt_crc32_update(&t, 0, "12345", 5);
    c = mt_crc32_update(&t, c, "6789", 4);
    CHECK("crc32 in pieces equals one shot", c == 0xcbf43926u);
}

static void test_format_parse(void)
{
    char buf[MT_LINE_MAX];
    MtFrame f;
    unsigned idx;
    uint64_t size;
    uint32_t crc;
    int n;

    n = mt_format_sync(buf, sizeof(buf), NONCE);
    CHECK("sync line", n == 24 && strcmp(buf, "MTSYNC " NONCE "\n") == 0);

    n = mt_format_file_header(buf, sizeof(buf), 2, 1048576, 0xdeadbeef);
    CHECK("file header text",
          strcmp(buf, "MTFILE 2 1048576 deadbeef\n") == 0);
    buf[n - 1] = '\0';
    CHECK("file header round trip",
          mt_parse_file_header(buf, &idx, &size, &crc) && idx == 2 &&
          size == 1048576 && crc == 0xdeadbeef);
    CHECK("file header: index 5 rejected",
          !mt_parse_file_header("MTFILE 5 1 00000000", &idx, &size, &crc));
    CHECK("file header: index 4 (files) accepted",
          mt_parse_file_header("MTFILE 4 1 00000000", &idx, &size, &crc) &&
          idx == 4);
    CHECK("file header: uppercase crc rejected",
          !mt_parse_file_header("MTFILE 1 1 DEADBEEF", &idx, &size, &crc));
    CHECK("file header: truncated crc rejected",
          !mt_parse_file_header("MTFILE 1 1 dead", &idx, &size, &crc));
    CHECK("file header: trailing junk rejected",
          !mt_parse_file_header("MTFILE 1 1 deadbeef x", &idx, &size, &crc));
    CHECK("file header: size overflow rejected",
          !mt_parse_file_header("MTFILE 1 99999999999999999999999 deadbeef",
                                &idx, &size, &crc));
    CHECK("file header: negative size rejected",
          !mt_parse_file_header("MTFILE 1 -1 deadbeef", &idx, &size, &crc));

    n = mt_format_hello(buf, sizeof(buf), NONCE, 123456789012ull);
    CHECK("hello round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.kind == MT_FRAME_HELLO &&
          strcmp(f.nonce, NONCE) == 0 && f.version == MT_PROTOCOL_VERSION &&
          f.free_bytes == 123456789012ull);
    CHECK("a version 1 hello still parses (to be refused by version)",
          mt_parse_frame("\x1eMT HELLO " NONCE " 1", 28, &f) &&
          f.version == 1);
    n = mt_format_data(buf, sizeof(buf), NONCE, 4096, 0x12345678);
    CHECK("data round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.kind == MT_FRAME_DATA &&
          f.size == 4096 && f.crc == 0x12345678 &&
          strcmp(f.nonce, NONCE) == 0);
    CHECK("data larger than a chunk rejected",
          !mt_parse_frame("\x1eMT DATA " NONCE " 99999999 00000000", 45, &f));

    MtEntry en = { .type = 'f', .mode = 0755, .size = 5, .crc = 0xabcdef01,
                   .path_len = 7 }, en2;
    n = mt_format_entry_header(buf, sizeof(buf), &en);
    buf[n - 1] = '\0';
    CHECK("entry header round trip",
          mt_parse_entry_header(buf, &en2) && en2.type == 'f' &&
          en2.mode == 0755 && en2.size == 5 && en2.crc == 0xabcdef01 &&
          en2.path_len == 7);
    CHECK("entry header: bad type, mode, directory with data rejected",
          !mt_parse_entry_header("MTENTRY x 0755 0 00000000 1", &en2) &&
          !mt_parse_entry_header("MTENTRY f 0855 0 00000000 1", &en2) &&
          !mt_parse_entry_header("MTENTRY d 0755 3 00000000 1", &en2) &&
          !mt_parse_entry_header("MTENTRY f 0755 0 00000000 0", &en2) &&
          !mt_parse_entry_header("MTENTRY f 0755 0 00000000 99999", &en2));
    CHECK("entry paths: safe ones accepted",
          mt_entry_path_safe("a", 1) && mt_entry_path_safe("a/b.c/..d", 9) &&
          mt_entry_path_safe("...", 3));
    CHECK("entry paths: absolute, .., ., empty components, NUL rejected",
          !mt_entry_path_safe("/a", 2) && !mt_entry_path_safe("..", 2) &&
          !mt_entry_path_safe("a/../b", 6) && !mt_entry_path_safe("a/..", 4) &&
          !mt_entry_path_safe("./a", 3) && !mt_entry_path_safe("a//b", 4) &&
          !mt_entry_path_safe("a/", 2) && !mt_entry_path_safe("", 0) &&
          !mt_entry_path_safe("a\0b", 3));
    char argbuf[] = "\0a b\0\xc3\xbc\0";
    char *av[4] = { 0 };
    CHECK("arguments split at NULs, empty ones kept",
          mt_split_args(argbuf, sizeof(argbuf) - 1, av, 4) == 3 &&
          strcmp(av[0], "") == 0 && strcmp(av[1], "a b") == 0 &&
          strcmp(av[2], "\xc3\xbc") == 0 && mt_split_args(argbuf, 0, av, 4) == 0);
    CHECK("arguments without a final NUL rejected",
          mt_split_args(argbuf, 3, NULL, 0) < 0);
    n = mt_format_ack(buf, sizeof(buf), 1, 77, 0x0badf00d);
    CHECK("ack round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.kind == MT_FRAME_ACK &&
          f.index == 1 && f.size == 77 && f.crc == 0x0badf00d);
    n = mt_format_nak(buf, sizeof(buf), 2, "checksum");
    CHECK("nak round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.kind == MT_FRAME_NAK &&
          f.index == 2 && strcmp(f.reason, "checksum") == 0);
    n = mt_format_exit(buf, sizeof(buf), NONCE, false, 42);
    CHECK("exit round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.kind == MT_FRAME_EXIT &&
          !f.signaled && f.status == 42 && strcmp(f.nonce, NONCE) == 0);
    n = mt_format_exit(buf, sizeof(buf), NONCE, true, 9);
    CHECK("exit by signal round trip",
          mt_parse_frame(buf, (size_t)n - 1, &f) && f.signaled &&
          f.status == 9);

    const char *bad[] = {
        "\x1eMT",                                   /* truncated prefix */
        "\x1eMT HELLO 0123",                        /* truncated nonce */
        "\x1eMT HELLO " NONCE,                      /* no version */
        "\x1eMT EXIT " NONCE " exit",               /* no status */
        "\x1eMT EXIT " NONCE " quit 1",
        "\x1eMT EXIT " NONCE " exit 256",
        "\x1eMT EXIT 0123456789ABCDEF exit 1",      /* uppercase nonce */
        "\x1eMT ACK 1 5",                           /* no crc */
        "\x1eMT NAK 1 ",                            /* no reason */
        "\x1eMT NAK 1 Bad Reason",
        "\x1eMT BOGUS",
        "\x1eXX HELLO " NONCE " 1",
    };
    gboolean all = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (mt_parse_frame(bad[i], strlen(bad[i]), &f)) {
            printf("# accepted malformed frame %u\n", i);
            all = FALSE;
        }
    }
    CHECK("malformed and truncated frames are rejected", all);
}

/* Feed @text into a channel whose nonce is NONCE, split at @split. */
static SerialChannel *fed(const char *text, gsize len, gsize split)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    SerialChannel *ch = serial_channel_new(sv[0], NULL);
    close(sv[1]);
    serial_channel_feed(ch, text, split);
    serial_channel_feed(ch, text + split, len - split);
    return ch;
}

static void test_feed(void)
{
    /* Without a sync there is no nonce, so even a well-formed EXIT is
     * output: nothing can end a run it did not start. */
    const char t1[] = "out\x1eMT EXIT " NONCE " exit 3\nmore";
    SerialChannel *ch = fed(t1, sizeof(t1) - 1, 5);
    gsize n;
    const char *s = serial_transcript(ch, &n);
    CHECK("exit trailer before any sync is output",
          !serial_exit_status(ch, NULL) && n == sizeof(t1) - 1 &&
          memcmp(s, t1, n) == 0);
    serial_channel_free(ch);

    const char t2[] = "a\x1e\x1e" "b\x1eMT nonsense\nc";
    ch = fed(t2, sizeof(t2) - 1, 3);
    s = serial_transcript(ch, &n);
    CHECK("stray 0x1E bytes and non-frames pass through as output",
          n == sizeof(t2) - 1 && memcmp(s, t2, n) == 0);
    serial_channel_free(ch);

    /* An over-long "frame" is flushed as output at MT_LINE_MAX. */
    GString *g = g_string_new("\x1eMT ");
    for (int i = 0; i < 300; i++) {
        g_string_append_c(g, 'x');
    }
    ch = fed(g->str, g->len, 1);
    s = serial_transcript(ch, &n);
    CHECK("over-long frame is output, not buffered forever",
          n == g->len && memcmp(s, g->str, n) == 0);
    serial_channel_free(ch);
    g_string_free(g, TRUE);
}

/* ---- socketpair fake guest ---- */

typedef struct FakeGuest {
    int fd;
    gboolean garbage_first;     /* prints junk before answering */
    int files_received;
    gboolean trailer_split;     /* send the trailer byte by byte */
} FakeGuest;

static gboolean read_exact(int fd, void *buf, gsize len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r <= 0) {
            return FALSE;
        }
        p += r;
        len -= (gsize)r;
    }
    return TRUE;
}

static gboolean read_line_fd(int fd, char *line, gsize size)
{
    gsize n = 0;
    while (n + 1 < size) {
        if (!read_exact(fd, line + n, 1)) {
            return FALSE;
        }
        if (line[n] == '\n') {
            line[n] = '\0';
            return TRUE;
        }
        n++;
    }
    return FALSE;
}

static void say(int fd, const char *s, gsize len)
{
    if (write(fd, s, len) != (ssize_t)len) {
        g_error("fake guest write failed");
    }
}

/* One exchange of the real helper's protocol, simplified. */
static gpointer fake_guest(gpointer data)
{
    FakeGuest *g = data;
    char line[MT_LINE_MAX], frame[MT_LINE_MAX], nonce[MT_NONCE_LEN + 1];
    int n;

    if (!read_line_fd(g->fd, line, sizeof(line)) ||
        strncmp(line, "MTSYNC ", 7) != 0) {
        return NULL;
    }
    memcpy(nonce, line + 7, MT_NONCE_LEN + 1);
    if (g->garbage_first) {
        say(g->fd, "boot noise\r\n\x1eMT\n", 16);
    }
    n = mt_format_hello(frame, sizeof(frame), nonce, 1 << 20);
    say(g->fd, frame, (gsize)n);
    for (unsigned i = 1; i <= 2; i++) {
        unsigned idx;
        uint64_t size;
        uint32_t crc;
        if (!read_line_fd(g->fd, line, sizeof(line)) ||
            !mt_parse_file_header(line, &idx, &size, &crc)) {
            return NULL;
        }
        g_autofree char *payload = g_malloc(size + 1);
        if (!read_exact(g->fd, payload, size)) {
            return NULL;
        }
        if (mt_crc32(payload, size) != crc) {
            n = mt_format_nak(frame, sizeof(frame), idx, "checksum");
            say(g->fd, frame, (gsize)n);
            return NULL;
        }
        n = mt_format_ack(frame, sizeof(frame), idx, size, crc);
        say(g->fd, frame, (gsize)n);
        g->files_received++;
    }
    say(g->fd, "Ready to trace. Press enter to continue\n", 40);
    char c;
    if (!read_exact(g->fd, &c, 1) || c != '\n') {
        return NULL;
    }
    say(g->fd, "Stop tracing\npartial", 20);
    /* The spool: binary, holding what looks like frames, and split in
     * two DATA frames. */
    char fake[64];
    gsize flen = (gsize)snprintf(fake, sizeof(fake), "out\x1eMT EXIT %s exit 0\n",
                                 nonce);
    fake[flen++] = '\0';
    fake[flen++] = (char)0xff;
    for (gsize half = 0; half < 2; half++) {
        gsize from = half ? flen / 2 : 0, to = half ? flen : flen / 2;
        n = mt_format_data(frame, sizeof(frame), nonce, to - from,
                           mt_crc32(fake + from, to - from));
        say(g->fd, frame, (gsize)n);
        say(g->fd, fake + from, to - from);
    }
    n = mt_format_exit(frame, sizeof(frame), nonce, FALSE, 7);
    if (g->trailer_split) {
        for (int i = 0; i < n; i++) {
            say(g->fd, frame + i, 1);
            g_usleep(1000);
        }
    } else {
        say(g->fd, frame, (gsize)n);
    }
    return NULL;
}

static void test_fake_guest(gboolean garbage, gboolean split)
{
    int sv[2];
    g_autoptr(GError) err = NULL;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    FakeGuest g = { .fd = sv[1], .garbage_first = garbage,
                    .trailer_split = split };
    GThread *th = g_thread_new("guest", fake_guest, &g);
    SerialChannel *ch = serial_channel_new(sv[0], NULL);
    gint64 dl = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    g_autofree char *spool = g_strdup("/tmp/mt-test-serial-spool.XXXXXX");
    int spool_fd = g_mkstemp(spool);
    serial_set_data_fd(ch, spool_fd);
    g_autofree char *big = g_malloc(300000);
    for (int i = 0; i < 300000; i++) {
        big[i] = (char)(i * 7);
    }
    g_autoptr(GString) before = g_string_new(NULL);
    SerialExit ex = { 0 };
    gboolean ok = serial_sync(ch, dl, &err) &&
        serial_send_file(ch, 1, "#!/bin/sh\n", 10, dl, &err) &&
        serial_send_file(ch, 2, big, 300000, dl, &err) &&
        serial_expect(ch, "Ready to trace", dl, before, &err) &&
        serial_send_enter(ch, &err) &&
        serial_expect(ch, "Stop tracing", dl, NULL, &err) &&
        serial_wait_exit(ch, dl, &ex, &err);
    if (!ok) {
        printf("# %s\n", err->message);
    }
    gsize n;
    const char *rest = serial_transcript(ch, &n);
    g_autofree char *name = g_strdup_printf(
        "fake guest run%s%s", garbage ? ", garbage before hello" : "",
        split ? ", trailer split byte by byte mid-line" : "");
    CHECK(name, ok && g.files_received == 2 && !ex.signaled &&
          ex.code == 7 && n == 8 && memcmp(rest, "\npartial", 8) == 0 &&
          strcmp(before->str, garbage ? "boot noise\r\n\x1eMT\n" : "") == 0);
    g_autofree char *data = NULL;
    gsize dlen = 0;
    g_file_get_contents(spool, &data, &dlen, NULL);
    guint bad = 9;
    CHECK("DATA frames: binary payload (frame look-alikes included) to the "
          "data descriptor, not the transcript",
          data && dlen == 36 + 2 && memcmp(data, "out\x1eMT EXIT ", 12) == 0 &&
          (guchar)data[dlen - 1] == 0xff &&
          serial_data_bytes(ch, &bad) == dlen && bad == 0);
    close(spool_fd);
    g_unlink(spool);
    g_thread_join(th);
    close(sv[1]);
    serial_channel_free(ch);
}

static void test_nak(void)
{
    int sv[2];
    g_autoptr(GError) err = NULL;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    FakeGuest g = { .fd = sv[1] };
    GThread *th = g_thread_new("guest", fake_guest, &g);
    SerialChannel *ch = serial_channel_new(sv[0], NULL);
    gint64 dl = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    gboolean synced = serial_sync(ch, dl, &err);
    serial_channel_corrupt_next_crc(ch);
    gboolean sent = synced && serial_send_file(ch, 1, "abc", 3, dl, &err);
    CHECK("corrupted CRC is NAKed with a clear error",
          synced && !sent && g_error_matches(err, SERIAL_ERROR,
                                             SERIAL_ERROR_NAK) &&
          strstr(err->message, "checksum") != NULL);
    g_thread_join(th);
    close(sv[1]);
    serial_channel_free(ch);
}

static void test_timeout_and_eof(void)
{
    int sv[2];
    g_autoptr(GError) err = NULL;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    SerialChannel *ch = serial_channel_new(sv[0], NULL);
    say(sv[1], "some output", 11);
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = serial_expect(ch, "never", t0 + 200 * 1000, NULL, &err);
    gint64 took = g_get_monotonic_time() - t0;
    CHECK("expect times out at its deadline and names the text",
          !ok && g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_TIMEOUT) &&
          strstr(err->message, "\"never\"") && took >= 190 * 1000 &&
          took < 2 * G_USEC_PER_SEC);
    g_clear_error(&err);
    close(sv[1]);
    ok = serial_expect(ch, "never", g_get_monotonic_time() + G_USEC_PER_SEC,
                       NULL, &err);
    CHECK("expect fails with CLOSED when QEMU goes away",
          !ok && g_error_matches(err, SERIAL_ERROR, SERIAL_ERROR_CLOSED));
    g_clear_error(&err);
    ok = serial_sync(ch, g_get_monotonic_time() + G_USEC_PER_SEC, &err);
    CHECK("sync on a closed channel fails", !ok && err != NULL);
    serial_channel_free(ch);
}

int main(void)
{
    test_crc();
    test_format_parse();
    test_feed();
    test_fake_guest(FALSE, FALSE);
    test_fake_guest(TRUE, TRUE);
    test_nak();
    test_timeout_and_eof();
    return check_failures ? 1 : 0;
}
