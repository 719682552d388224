/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP client: one unix socket, newline-delimited JSON objects both ways.
 * Replies are matched to commands by a numeric "id"; events that arrive
 * while a command is outstanding are queued for qmp_wait_event().  All
 * blocking is poll() with a deadline, so a hung QEMU turns into a
 * QMP_ERROR_TIMEOUT that says what was awaited.
 */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unix_socket.h"

G_DEFINE_QUARK(memory-tracer-qmp-error-quark, qmp_error)

/* A reply or event is never anywhere near this; a peer sending more without
 * a newline is not QEMU. */
#define QMP_MAX_LINE (64 * 1024 * 1024)

struct QmpClient {
    int fd;
    GString *in;            /* received bytes not yet split into lines */
    GQueue events;          /* QmpMessage * (kind == QMP_MSG_EVENT) */
    gint64 next_id;
};

static void message_free(QmpMessage *m)
{
    qmp_message_clear(m);
    g_free(m);
}

void qmp_message_clear(QmpMessage *msg)
{
    if (msg->value) {
        json_node_unref(msg->value);
    }
    g_free(msg->event);
    g_free(msg->error_class);
    g_free(msg->error_desc);
    memset(msg, 0, sizeof(*msg));
}

static char *member_string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_STRING) {
        return NULL;
    }
    return g_strdup(json_node_get_string(n));
}

gboolean qmp_message_parse(const char *text, gssize len, QmpMessage *msg,
                           GError **err)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    JsonNode *root;
    JsonObject *o;

    memset(msg, 0, sizeof(*msg));
    msg->id = -1;
    if (!json_parser_load_from_data(parser, text, len, &perr)) {
        g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "malformed QMP message: %s", perr->message);
        return FALSE;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "QMP message is not a JSON object");
        return FALSE;
    }
    o = json_node_get_object(root);

    JsonNode *id = json_object_get_member(o, "id");
    if (id && JSON_NODE_HOLDS_VALUE(id) &&
        json_node_get_value_type(id) == G_TYPE_INT64) {
        msg->id = json_node_get_int(id);
    }

    if (json_object_has_member(o, "QMP")) {
        msg->kind = QMP_MSG_GREETING;
        msg->value = json_node_copy(json_object_get_member(o, "QMP"));
        return TRUE;
    }
    if (json_object_has_member(o, "return")) {
        msg->kind = QMP_MSG_RETURN;
        msg->value = json_node_copy(json_object_get_member(o, "return"));
        return TRUE;
    }
    if (json_object_has_member(o, "error")) {
        JsonNode *e = json_object_get_member(o, "error");
        if (!JSON_NODE_HOLDS_OBJECT(e)) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "QMP \"error\" member is not an object");
            return FALSE;
        }
        msg->kind = QMP_MSG_ERROR;
        msg->error_class = member_string(json_node_get_object(e), "class");
        msg->error_desc = member_string(json_node_get_object(e), "desc");
        if (!msg->error_desc) {
            msg->error_desc = g_strdup("(no description)");
        }
        return TRUE;
    }
    if (json_object_has_member(o, "event")) {
        msg->kind = QMP_MSG_EVENT;
        msg->event = member_string(o, "event");
        if (!msg->event) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "QMP event name is not a string");
            return FALSE;
        }
        JsonNode *d = json_object_get_member(o, "data");
        msg->value = d ? json_node_copy(d) : NULL;
        return TRUE;
    }
    g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                "QMP message is neither greeting, return, error nor event");
    return FALSE;
}

static gboolean set_timeout_error(GError **err, const char *what)
{
    g_set_error(err, QMP_ERROR, QMP_ERROR_TIMEOUT,
                "timed out waiting for %s from QEMU's QMP monitor", what);
    return FALSE;
}

/* Poll @fd for @events until @deadline.  FALSE with @err on timeout. */
static gboolean wait_fd(int fd, short events, gint64 deadline,
                        const char *what, GError **err)
{
    for (;;) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline) {
            return set_timeout_error(err, what);
        }
        gint64 ms = (deadline - now + 999) / 1000;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms > G_MAXINT ? G_MAXINT : (int)ms);
        if (r > 0) {
            return TRUE;
        }
        if (r < 0 && errno != EINTR) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_IO, "poll on QMP socket: %s",
                        g_strerror(errno));
            return FALSE;
        }
    }
}

/* Read one message (one line) into @msg, waiting until @deadline. */
static gboolean read_message(QmpClient *c, gint64 deadline, const char *what,
                             QmpMessage *msg, GError **err)
{
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl) {
            gsize n = (gsize)(nl - c->in->str);
            g_autofree char *line = g_strndup(c->in->str, n);
            g_string_erase(c->in, 0, (gssize)n + 1);
            g_strstrip(line);
            if (line[0] == '\0') {
                continue;
            }
            return qmp_message_parse(line, -1, msg, err);
        }
        if (c->in->len > QMP_MAX_LINE) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "QMP message longer than %d bytes", QMP_MAX_LINE);
            return FALSE;
        }
        if (!wait_fd(c->fd, POLLIN, deadline, what, err)) {
            return FALSE;
        }
        char buf[65536];
        ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r == 0) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_CLOSED,
                        "QEMU closed the QMP socket while we waited for %s "
                        "(QEMU probably exited)", what);
            return FALSE;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                continue;
            }
            if (errno == ECONNRESET) {
                g_set_error(err, QMP_ERROR, QMP_ERROR_CLOSED,
                            "QEMU reset the QMP connection while we waited "
                            "for %s", what);
            } else {
                g_set_error(err, QMP_ERROR, QMP_ERROR_IO,
                            "reading the QMP socket: %s", g_strerror(errno));
            }
            return FALSE;
        }
        g_string_append_len(c->in, buf, r);
    }
}

static gboolean send_all(QmpClient *c, const char *data, gsize len,
                         gint64 deadline, const char *what, GError **err)
{
    while (len > 0) {
        ssize_t w = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!wait_fd(c->fd, POLLOUT, deadline, what, err)) {
                    return FALSE;
                }
                continue;
            }
            g_set_error(err, QMP_ERROR,
                        errno == EPIPE || errno == ECONNRESET
                            ? QMP_ERROR_CLOSED : QMP_ERROR_IO,
                        "sending to QMP socket: %s", g_strerror(errno));
            return FALSE;
        }
        data += w;
        len -= (gsize)w;
    }
    return TRUE;
}

/* Connect to QEMU's QMP socket at @path, waiting for it to appear. */
static int connect_socket(const char *path, gint64 deadline, GError **err)
{
    int fd, e;
    switch (unix_socket_connect(path, deadline, &fd, &e)) {
    case UNIX_CONNECT_OK:
        return fd;
    case UNIX_CONNECT_TOO_LONG:
        g_set_error(err, QMP_ERROR, QMP_ERROR_IO,
                    "socket path too long: %s", path);
        break;
    case UNIX_CONNECT_SOCKET:
        g_set_error(err, QMP_ERROR, QMP_ERROR_IO, "socket: %s",
                    g_strerror(e));
        break;
    case UNIX_CONNECT_FAILED:
        g_set_error(err, QMP_ERROR, QMP_ERROR_IO, "connect to %s: %s", path,
                    g_strerror(e));
        break;
    case UNIX_CONNECT_TIMED_OUT:
        g_set_error(err, QMP_ERROR, QMP_ERROR_TIMEOUT,
                    "timed out waiting for QEMU's QMP socket %s to "
                    "accept a connection (last error: connect to %s: %s)",
                    path, path, g_strerror(e));
        break;
    }
    return -1;
}

QmpClient *qmp_connect(const char *path, gint64 deadline, GError **err)
{
    int fd = connect_socket(path, deadline, err);
    if (fd < 0) {
        return NULL;
    }

    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->in = g_string_new(NULL);
    g_queue_init(&c->events);
    c->next_id = 1;

    QmpMessage greeting;
    if (!read_message(c, deadline, "the QMP greeting", &greeting, err)) {
        qmp_close(c);
        return NULL;
    }
    gboolean ok = greeting.kind == QMP_MSG_GREETING;
    qmp_message_clear(&greeting);
    if (!ok) {
        g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "QMP socket %s did not start with a greeting", path);
        qmp_close(c);
        return NULL;
    }
    JsonNode *r = qmp_execute(c, "qmp_capabilities", NULL, deadline, err);
    if (!r) {
        qmp_close(c);
        return NULL;
    }
    json_node_unref(r);
    return c;
}

JsonNode *qmp_execute(QmpClient *c, const char *command, JsonObject *args,
                      gint64 deadline, GError **err)
{
    gint64 id = c->next_id++;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, command);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        JsonNode *a = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(a, args);
        json_builder_add_value(b, a);
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    g_autofree char *what = g_strdup_printf("the reply to \"%s\"", command);

    if (!send_all(c, line, strlen(line), deadline, what, err)) {
        return NULL;
    }
    for (;;) {
        QmpMessage *m = g_new0(QmpMessage, 1);
        if (!read_message(c, deadline, what, m, err)) {
            g_free(m);
            return NULL;
        }
        if (m->kind == QMP_MSG_EVENT) {
            g_queue_push_tail(&c->events, m);
            continue;
        }
        if (m->id != id) {
            /* A late reply to a command that timed out earlier. */
            message_free(m);
            continue;
        }
        if (m->kind == QMP_MSG_ERROR) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_COMMAND, "%s: %s", command,
                        m->error_desc);
            message_free(m);
            return NULL;
        }
        if (m->kind != QMP_MSG_RETURN) {
            g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                        "unexpected QMP greeting in reply to \"%s\"", command);
            message_free(m);
            return NULL;
        }
        JsonNode *ret = g_steal_pointer(&m->value);
        message_free(m);
        return ret;
    }
}

JsonObject *qmp_query_object(QmpClient *c, const char *command,
                             gint64 deadline, GError **err)
{
    JsonNode *r = qmp_execute(c, command, NULL, deadline, err);
    if (!r) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(r)) {
        json_node_unref(r);
        g_set_error(err, QMP_ERROR, QMP_ERROR_PROTOCOL,
                    "QMP %s did not return an object", command);
        return NULL;
    }
    JsonObject *obj = json_object_ref(json_node_get_object(r));
    json_node_unref(r);
    return obj;
}

static gboolean take_event(QmpClient *c, const char *name, JsonObject **data)
{
    for (GList *l = c->events.head; l; l = l->next) {
        QmpMessage *m = l->data;
        if (strcmp(m->event, name) == 0) {
            g_queue_delete_link(&c->events, l);
            if (data) {
                *data = m->value && JSON_NODE_HOLDS_OBJECT(m->value)
                            ? json_object_ref(json_node_get_object(m->value))
                            : NULL;
            }
            message_free(m);
            return TRUE;
        }
    }
    return FALSE;
}

gboolean qmp_wait_event(QmpClient *c, const char *name, gint64 deadline,
                        JsonObject **data, GError **err)
{
    g_autofree char *what = g_strdup_printf("the %s event", name);
    if (data) {
        *data = NULL;
    }
    for (;;) {
        if (take_event(c, name, data)) {
            return TRUE;
        }
        QmpMessage *m = g_new0(QmpMessage, 1);
        if (!read_message(c, deadline, what, m, err)) {
            g_free(m);
            return FALSE;
        }
        if (m->kind == QMP_MSG_EVENT) {
            g_queue_push_tail(&c->events, m);
        } else {
            message_free(m);     /* a stray late reply */
        }
    }
}

gboolean qmp_poll_event(QmpClient *c, const char *name, JsonObject **data)
{
    if (data) {
        *data = NULL;
    }
    /* Take in what has arrived, without waiting. */
    for (;;) {
        char buf[65536];
        ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r > 0 && c->in->len < QMP_MAX_LINE) {
            g_string_append_len(c->in, buf, r);
            continue;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    char *nl;
    while ((nl = memchr(c->in->str, '\n', c->in->len))) {
        gsize n = (gsize)(nl - c->in->str);
        g_autofree char *line = g_strndup(c->in->str, n);
        g_string_erase(c->in, 0, (gssize)n + 1);
        QmpMessage *m = g_new0(QmpMessage, 1);
        if (g_strstrip(line)[0] == '\0' ||
            !qmp_message_parse(line, -1, m, NULL) ||
            m->kind != QMP_MSG_EVENT) {
            message_free(m);    /* a stray late reply */
            continue;
        }
        g_queue_push_tail(&c->events, m);
    }
    return take_event(c, name, data);
}

gboolean qmp_hmp(QmpClient *c, const char *command_line, gint64 deadline,
                 char **output, GError **err)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "command-line", command_line);
    JsonNode *r = qmp_execute(c, "human-monitor-command", args, deadline, err);
    if (!r) {
        return FALSE;
    }
    if (output) {
        *output = JSON_NODE_HOLDS_VALUE(r) &&
                          json_node_get_value_type(r) == G_TYPE_STRING
                      ? g_strdup(json_node_get_string(r))
                      : g_strdup("");
    }
    json_node_unref(r);
    return TRUE;
}

int qmp_fd(QmpClient *c)
{
    return c->fd;
}

void qmp_close(QmpClient *c)
{
    if (!c) {
        return;
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    g_string_free(c->in, TRUE);
    g_queue_clear_full(&c->events, (GDestroyNotify)message_free);
    g_free(c);
}
