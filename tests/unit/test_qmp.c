/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of lib/qmp.c: message classification, and a client session
 * against a fake QEMU on a unix socket (greeting, capabilities, replies
 * matched by id, events queued while a command waits, errors, deadlines,
 * a peer that goes away).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "qmp.h"

#include "check.h"

static void test_parse(void)
{
    QmpMessage m;
    g_autoptr(GError) err = NULL;

    CHECK("greeting",
          qmp_message_parse("{\"QMP\": {\"version\": {}, \"capabilities\": "
                            "[\"oob\"]}}", -1, &m, NULL) &&
          m.kind == QMP_MSG_GREETING && m.id == -1);
    qmp_message_clear(&m);
    CHECK("return with id",
          qmp_message_parse("{\"return\": {\"status\": \"running\"}, "
                            "\"id\": 7}", -1, &m, NULL) &&
          m.kind == QMP_MSG_RETURN && m.id == 7 &&
          JSON_NODE_HOLDS_OBJECT(m.value) &&
          strcmp(json_object_get_string_member(
                     json_node_get_object(m.value), "status"),
                 "running") == 0);
    qmp_message_clear(&m);
    CHECK("error",
          qmp_message_parse("{\"error\": {\"class\": \"GenericError\", "
                            "\"desc\": \"no such thing\"}, \"id\": 3}", -1,
                            &m, NULL) &&
          m.kind == QMP_MSG_ERROR && m.id == 3 &&
          strcmp(m.error_class, "GenericError") == 0 &&
          strcmp(m.error_desc, "no such thing") == 0);
    qmp_message_clear(&m);
    CHECK("event with data",
          qmp_message_parse("{\"timestamp\": {\"seconds\": 1, "
                            "\"microseconds\": 2}, \"event\": \"STOP\", "
                            "\"data\": {\"x\": 1}}", -1, &m, NULL) &&
          m.kind == QMP_MSG_EVENT && strcmp(m.event, "STOP") == 0 &&
          m.value && JSON_NODE_HOLDS_OBJECT(m.value));
    qmp_message_clear(&m);
    CHECK("event without data",
          qmp_message_parse("{\"event\": \"RESUME\"}", -1, &m, NULL) &&
          m.kind == QMP_MSG_EVENT && m.value == NULL);
    qmp_message_clear(&m);

    const char *bad[] = {
        "{\"return\": ",            /* truncated */
        "[1, 2]",                   /* not an object */
        "\"text\"",
        "{\"hello\": 1}",           /* nothing known */
        "{\"error\": \"x\"}",       /* error not an object */
        "{\"event\": 5}",           /* event name not a string */
        "",
    };
    gboolean all = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        if (qmp_message_parse(bad[i], -1, &m, &err)) {
            printf("# accepted malformed message %u\n", i);
            qmp_message_clear(&m);
            all = FALSE;
        } else if (!g_error_matches(err, QMP_ERROR, QMP_ERROR_PROTOCOL)) {
            all = FALSE;
        }
    }
    CHECK("malformed messages are protocol errors", all);
}

/* ---- fake QEMU ---- */

typedef struct FakeQemu {
    int listen_fd;
    gboolean silent_after_caps;     /* never answer the next command */
    gboolean hang_up_after_caps;
} FakeQemu;

static void say(int fd, const char *s)
{
    gsize len = strlen(s);
    if (write(fd, s, len) != (ssize_t)len) {
        g_error("fake qemu write failed");
    }
}

static gboolean read_line_fd(int fd, GString *line)
{
    g_string_truncate(line, 0);
    char c;
    while (read(fd, &c, 1) == 1) {
        if (c == '\n') {
            return TRUE;
        }
        g_string_append_c(line, c);
    }
    return FALSE;
}

static gint64 id_of(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, -1, NULL)) {
        return -1;
    }
    return json_object_get_int_member(
        json_node_get_object(json_parser_get_root(p)), "id");
}

static gpointer fake_qemu(gpointer data)
{
    FakeQemu *q = data;
    int fd = accept(q->listen_fd, NULL, NULL);
    g_autoptr(GString) line = g_string_new(NULL);
    if (fd < 0) {
        return NULL;
    }
    say(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, "
            "\"capabilities\": []}}\r\n");
    if (!read_line_fd(fd, line) || !strstr(line->str, "qmp_capabilities")) {
        close(fd);
        return NULL;
    }
    g_autofree char *r = g_strdup_printf("{\"return\": {}, \"id\": %"
                                         G_GINT64_FORMAT "}\r\n",
                                         id_of(line->str));
    say(fd, r);
    if (q->hang_up_after_caps) {
        read_line_fd(fd, line);
        close(fd);
        return NULL;
    }
    while (read_line_fd(fd, line)) {
        gint64 id = id_of(line->str);
        if (q->silent_after_caps) {
            continue;
        }
        g_autofree char *reply = NULL;
        if (strstr(line->str, "\"query-status\"")) {
            /* An event and a stale reply first: both must be handled. */
            say(fd, "{\"event\": \"STOP\", \"data\": {\"reason\": \"x\"}, "
                    "\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n");
            say(fd, "{\"return\": {}, \"id\": 999}\r\n");
            reply = g_strdup_printf("{\"return\": {\"status\": \"paused\"}, "
                                    "\"id\": %" G_GINT64_FORMAT "}\r\n", id);
        } else {
            reply = g_strdup_printf("{\"error\": {\"class\": \"CommandNotFound\","
                                    " \"desc\": \"The command nope has not "
                                    "been found\"}, \"id\": %" G_GINT64_FORMAT
                                    "}\r\n", id);
        }
        say(fd, reply);
    }
    close(fd);
    return NULL;
}

static char *start_fake(FakeQemu *q, const char *dir, GThread **th)
{
    char *path = g_build_filename(dir, "qmp.sock", NULL);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    g_unlink(path);
    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    q->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(q->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(q->listen_fd, 1) < 0) {
        g_error("cannot listen on %s", path);
    }
    *th = g_thread_new("qemu", fake_qemu, q);
    return path;
}

static void test_session(const char *dir)
{
    g_autoptr(GError) err = NULL;
    FakeQemu q = { 0 };
    GThread *th;
    g_autofree char *path = start_fake(&q, dir, &th);
    gint64 dl = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    QmpClient *c = qmp_connect(path, dl, &err);
    CHECK("connect: greeting and capabilities", c != NULL);
    if (!c) {
        printf("# %s\n", err->message);
        return;
    }
    JsonNode *r = qmp_execute(c, "query-status", NULL, dl, &err);
    CHECK("execute returns the reply with our id, skipping a stale one",
          r && JSON_NODE_HOLDS_OBJECT(r) &&
          strcmp(json_object_get_string_member(json_node_get_object(r),
                                               "status"), "paused") == 0);
    if (r) {
        json_node_unref(r);
    }
    JsonObject *data = NULL;
    CHECK("event that arrived during a command is queued",
          qmp_wait_event(c, "STOP", dl, &data, &err) && data &&
          strcmp(json_object_get_string_member(data, "reason"), "x") == 0);
    if (data) {
        json_object_unref(data);
    }
    r = qmp_execute(c, "nope", NULL, dl, &err);
    CHECK("error reply becomes QMP_ERROR_COMMAND with QEMU's text",
          !r && g_error_matches(err, QMP_ERROR, QMP_ERROR_COMMAND) &&
          strstr(err->message, "has not been found"));
    g_clear_error(&err);
    gint64 t0 = g_get_monotonic_time();
    CHECK("waiting for an event that never comes times out",
          !qmp_wait_event(c, "SHUTDOWN", t0 + 200 * 1000, NULL, &err) &&
          g_error_matches(err, QMP_ERROR, QMP_ERROR_TIMEOUT) &&
          strstr(err->message, "SHUTDOWN"));
    g_clear_error(&err);
    qmp_close(c);
    g_thread_join(th);
    close(q.listen_fd);
}

static void test_silent_and_hangup(const char *dir)
{
    g_autoptr(GError) err = NULL;
    FakeQemu q = { .silent_after_caps = TRUE };
    GThread *th;
    g_autofree char *path = start_fake(&q, dir, &th);
    QmpClient *c = qmp_connect(path, g_get_monotonic_time() + 5 * G_USEC_PER_SEC,
                               &err);
    JsonNode *r = c ? qmp_execute(c, "stop", NULL,
                                  g_get_monotonic_time() + 200 * 1000, &err)
                    : NULL;
    CHECK("a command QEMU never answers times out, naming it",
          c && !r && g_error_matches(err, QMP_ERROR, QMP_ERROR_TIMEOUT) &&
          strstr(err->message, "\"stop\""));
    g_clear_error(&err);
    qmp_close(c);
    g_thread_join(th);
    close(q.listen_fd);

    FakeQemu q2 = { .hang_up_after_caps = TRUE };
    g_autofree char *path2 = start_fake(&q2, dir, &th);
    c = qmp_connect(path2, g_get_monotonic_time() + 5 * G_USEC_PER_SEC, &err);
    r = c ? qmp_execute(c, "stop", NULL,
                        g_get_monotonic_time() + 5 * G_USEC_PER_SEC, &err)
          : NULL;
    CHECK("QEMU going away is QMP_ERROR_CLOSED",
          c && !r && g_error_matches(err, QMP_ERROR, QMP_ERROR_CLOSED));
    g_clear_error(&err);
    qmp_close(c);
    g_thread_join(th);
    close(q2.listen_fd);

    g_autofree char *missing = g_build_filename(dir, "missing.sock", NULL);
    gint64 t0 = g_get_monotonic_time();
    c = qmp_connect(missing, t0 + 200 * 1000, &err);
    CHECK("connect to a socket that never appears times out",
          !c && g_error_matches(err, QMP_ERROR, QMP_ERROR_TIMEOUT) &&
          g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
}

int main(void)
{
    g_autofree char *dir = g_dir_make_tmp("mt-test-qmp.XXXXXX", NULL);
    test_parse();
    test_session(dir);
    test_silent_and_hangup(dir);
    g_autofree char *s = g_build_filename(dir, "qmp.sock", NULL);
    g_unlink(s);
    g_rmdir(dir);
    return check_failures ? 1 : 0;
}
