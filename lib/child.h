/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes of a run (QEMU, the analysis tool, a native workload):
 * spawned without a shell, each in its own process group so a terminal's
 * Ctrl-C reaches memory_tracer only (it then stops them itself), and always
 * reaped: child_stop() escalates SIGTERM -> SIGKILL within a deadline.
 */
#ifndef MEMORY_TRACER_CHILD_H
#define MEMORY_TRACER_CHILD_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct Child {
    const char *name;       /* for messages: "QEMU", "the analysis tool" */
    pid_t pid;              /* 0: not started */
    bool reaped;
    int status;             /* wait status, once reaped */
} Child;

/*
 * Start @argv[0] (a path, no PATH search) with the given descriptors as its
 * stdin/stdout/stderr (-1: /dev/null).  The descriptors are not closed.
 */
bool child_spawn(Child *c, const char *name, char *const argv[],
                 int stdin_fd, int stdout_fd, int stderr_fd, GError **err);

/* child_spawn(), and the child also inherits @keep_fd (>= 3; -1: none)
 * under the same number, although it is close-on-exec here. */
bool child_spawn_keep(Child *c, const char *name, char *const argv[],
                      int stdin_fd, int stdout_fd, int stderr_fd,
                      int keep_fd, GError **err);

/* Non-blocking: true while the child runs (reaps it when it has ended). */
bool child_alive(Child *c);

/* Wait for the child to exit until @deadline (monotonic us). */
bool child_wait(Child *c, gint64 deadline);

/* Send @sig, wait up to @grace_us, then SIGKILL and reap.  No-op if the
 * child is gone.  Signals go to the child's whole process group. */
void child_stop(Child *c, int sig, gint64 grace_us);

/* "exited with status 3" / "was killed by signal 11 (Segmentation fault)" */
char *child_describe_exit(const Child *c);

#endif
