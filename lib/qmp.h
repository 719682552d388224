/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small synchronous QMP client (json-glib) for driving the patched QEMU
 * over its unix-socket monitor.  Every call takes an absolute deadline on
 * g_get_monotonic_time()'s clock and fails with a GError naming what it was
 * waiting for when the deadline passes or the peer goes away.
 */
#ifndef MEMORY_TRACER_QMP_H
#define MEMORY_TRACER_QMP_H

#include <glib.h>
#include <json-glib/json-glib.h>

#define QMP_ERROR qmp_error_quark()
GQuark qmp_error_quark(void);

typedef enum {
    QMP_ERROR_TIMEOUT,      /* deadline passed */
    QMP_ERROR_CLOSED,       /* QEMU closed the socket (it probably exited) */
    QMP_ERROR_PROTOCOL,     /* malformed or unexpected reply */
    QMP_ERROR_COMMAND,      /* QEMU answered {"error": ...} */
    QMP_ERROR_IO,           /* socket error */
} QmpErrorCode;

typedef struct QmpClient QmpClient;

/*
 * Connect to the QMP unix socket at @path, retrying until it exists and
 * accepts (QEMU creates it during start-up), read the greeting and
 * negotiate capabilities.  Returns NULL and sets @err on failure.
 */
QmpClient *qmp_connect(const char *path, gint64 deadline, GError **err);

/*
 * Run @command with @args (may be NULL; not consumed) and return the
 * "return" member of the reply (caller frees with json_node_unref), or NULL
 * with @err set.  Asynchronous events that arrive meanwhile are queued for
 * qmp_wait_event().  A QMP error reply becomes QMP_ERROR_COMMAND with
 * QEMU's "desc" text as the message.
 */
JsonNode *qmp_execute(QmpClient *c, const char *command, JsonObject *args,
                      gint64 deadline, GError **err);

/* qmp_execute() for a command that returns an object (a new reference);
 * any other reply fails with "QMP <command> did not return an object". */
JsonObject *qmp_query_object(QmpClient *c, const char *command,
                             gint64 deadline, GError **err);

/*
 * Wait for the event named @name (queued or new).  On success stores its
 * "data" member (or NULL) in *@data if @data is not NULL.
 */
gboolean qmp_wait_event(QmpClient *c, const char *name, gint64 deadline,
                        JsonObject **data, GError **err);

/*
 * Without waiting: read what QEMU has sent (between commands, when no
 * reply is outstanding) and take a queued event named @name, as
 * qmp_wait_event() does; FALSE if there is none.
 */
gboolean qmp_poll_event(QmpClient *c, const char *name, JsonObject **data);

/*
 * Run a human monitor (HMP) command line through human-monitor-command.
 * On success stores HMP's text output in *@output (caller g_free()s) if
 * @output is not NULL.  Note that HMP reports many failures only in that
 * text (e.g. savevm/loadvm errors), not as a QMP error.
 */
gboolean qmp_hmp(QmpClient *c, const char *command_line, gint64 deadline,
                 char **output, GError **err);

/* The socket descriptor, for poll() by callers that multiplex. */
int qmp_fd(QmpClient *c);

void qmp_close(QmpClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_close)

/*
 * Pure parsing of one QMP message (one JSON object), for tests and fuzzing:
 * classifies it and extracts the parts.  Returns FALSE with @err on
 * malformed input.  Outputs are owned by the caller (NULL when absent).
 */
typedef enum {
    QMP_MSG_GREETING,
    QMP_MSG_RETURN,
    QMP_MSG_ERROR,
    QMP_MSG_EVENT,
} QmpMessageKind;

typedef struct QmpMessage {
    QmpMessageKind kind;
    JsonNode *value;        /* "return" value, or event "data" */
    char *event;            /* event name */
    char *error_class;      /* error "class" */
    char *error_desc;       /* error "desc" */
    gint64 id;              /* numeric "id" member, or -1 */
} QmpMessage;

gboolean qmp_message_parse(const char *text, gssize len, QmpMessage *msg,
                           GError **err);
void qmp_message_clear(QmpMessage *msg);

#endif /* MEMORY_TRACER_QMP_H */
