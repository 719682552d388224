/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runtime.h"

#include <gio/gio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static int signal_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    int saved = errno;
    if (!stop_signal) {
        stop_signal = sig;
    }
    if (signal_pipe[1] >= 0) {
        char b = 0;
        ssize_t n = write(signal_pipe[1], &b, 1);
        (void)n;
    }
    errno = saved;
}

void runtime_signals_install(void)
{
    if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
        signal_pipe[0] = signal_pipe[1] = -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;        /* no SA_RESTART: let blocking calls return */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int runtime_interrupted(void)
{
    return stop_signal;
}

int runtime_signal_fd(void)
{
    return signal_pipe[0];
}

char *runtime_dir_create(GError **err)
{
    /* Unix socket paths are limited to 107 bytes: a TMPDIR so deep that
     * "<dir>/memory_tracer.XXXXXX/serial.sock" would not fit falls back
     * to /tmp. */
    const char *base = g_get_tmp_dir();
    if (strlen(base) + sizeof("/memory_tracer.XXXXXX/serial.sock") > 100) {
        base = "/tmp";
    }
    char *tmpl = g_build_filename(base, "memory_tracer.XXXXXX", NULL);
    if (!g_mkdtemp_full(tmpl, 0700)) {
        int e = errno;
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot create the run's directory %s: %s", tmpl,
                    g_strerror(e));
        g_free(tmpl);
        return NULL;
    }
    return tmpl;
}

static void remove_tree_at(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                    O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        if (d) {
            struct dirent *ent;
            while ((ent = readdir(d))) {
                if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, "..")) {
                    remove_tree_at(dirfd(d), ent->d_name);
                }
            }
            closedir(d);
        } else {
            close(fd);
        }
        unlinkat(parent, name, AT_REMOVEDIR);
    } else {
        unlinkat(parent, name, 0);
    }
}

void runtime_dir_remove(const char *dir)
{
    if (dir && dir[0] == '/') {
        remove_tree_at(AT_FDCWD, dir);
    }
}

gint64 runtime_env_seconds(const char *name, double fallback)
{
    const char *v = g_getenv(name);
    double secs = fallback;
    if (v && *v) {
        char *end;
        double d = g_ascii_strtod(v, &end);
        if (*end == '\0' && d > 0) {
            secs = d;
        }
    }
    return (gint64)(secs * G_USEC_PER_SEC);
}
