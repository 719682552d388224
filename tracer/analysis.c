/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "analysis.h"

#include <gio/gio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool analysis_start(AnalysisTool *t, const char *tool, const char *fifo,
                    char *const *tokens, int keep_fd, GError **err)
{
    memset(t, 0, sizeof(*t));
    t->out.fd = -1;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot start the analysis tool: pipe: %s",
                    g_strerror(errno));
        return false;
    }
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)tool);
    g_ptr_array_add(argv, (gpointer)fifo);
    for (char *const *p = tokens; p && *p; p++) {
        g_ptr_array_add(argv, *p);
    }
    g_ptr_array_add(argv, NULL);
    bool ok = child_spawn_keep(&t->child, "the analysis tool",
                               (char *const *)argv->pdata, -1, out[1], 2,
                               keep_fd, err);
    g_ptr_array_free(argv, TRUE);
    close(out[1]);
    if (!ok) {
        close(out[0]);
        return false;
    }
    child_output_init(&t->out, out[0]);
    return true;
}

/* The process group of @pid from /proc/PID/stat, or -1. */
static pid_t pgrp_of(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return -1;
    }
    /* "pid (comm) state ppid pgrp ..."; comm may contain anything. */
    const char *p = strrchr(text, ')');
    int ppid, pgrp;
    char state;
    if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) {
        return -1;
    }
    return pgrp;
}

/* Does process @pid have @fifo open for reading?  Sets *@denied when its
 * descriptors cannot be inspected. */
static bool pid_reads(const char *pid, const struct stat *fifo, bool *denied)
{
    g_autofree char *fddir = g_strdup_printf("/proc/%s/fd", pid);
    DIR *d = opendir(fddir);
    if (!d) {
        if (errno == EACCES && denied) {
            *denied = true;
        }
        return false;
    }
    bool found = false;
    struct dirent *ent;
    while (!found && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') {
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(d), ent->d_name, &st, 0) != 0 ||
            st.st_dev != fifo->st_dev || st.st_ino != fifo->st_ino) {
            continue;
        }
        /* The access mode is in fdinfo's "flags:" (octal). */
        g_autofree char *info_path = g_strdup_printf("/proc/%s/fdinfo/%s",
                                                     pid, ent->d_name);
        g_autofree char *info = NULL;
        unsigned long flags = O_RDONLY;
        if (g_file_get_contents(info_path, &info, NULL, NULL)) {
            const char *f = strstr(info, "flags:");
            if (f) {
                flags = strtoul(f + 6, NULL, 8);
            }
        }
        found = (flags & O_ACCMODE) != O_WRONLY;
    }
    closedir(d);
    return found;
}

bool fifo_has_reader(const struct stat *fifo, pid_t pgrp, bool *denied)
{
    DIR *proc = opendir("/proc");
    if (!proc) {
        if (denied) {
            *denied = true;
        }
        return false;
    }
    g_autofree char *self = g_strdup_printf("%d", (int)getpid());
    bool found = false;
    struct dirent *ent;
    while (!found && (ent = readdir(proc))) {
        if (!g_ascii_isdigit(ent->d_name[0]) ||
            strcmp(ent->d_name, self) == 0) {
            continue;
        }
        if (pgrp > 0 && pgrp_of(ent->d_name) != pgrp) {
            continue;
        }
        found = pid_reads(ent->d_name, fifo, denied);
    }
    closedir(proc);
    return found;
}

bool analysis_has_open(const AnalysisTool *t, const struct stat *fifo)
{
    return t->child.pid > 0 && fifo_has_reader(fifo, t->child.pid, NULL);
}

void analysis_finish(AnalysisTool *t, gint64 grace_us)
{
    child_stop(&t->child, SIGTERM, grace_us);
    child_output_clear(&t->out);
}
