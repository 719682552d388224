/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "child.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_setup_fd(int fd, int target, int null_flags)
{
    if (fd < 0) {
        fd = open("/dev/null", null_flags);
        if (fd < 0) {
            _exit(127);
        }
    }
    if (fd != target) {
        if (dup2(fd, target) < 0) {
            _exit(127);
        }
    } else {
        /* Keep it across exec. */
        int fl = fcntl(fd, F_GETFD);
        fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
}

bool child_spawn(Child *c, const char *name, char *const argv[],
                 int stdin_fd, int stdout_fd, int stderr_fd, GError **err)
{
    return child_spawn_keep(c, name, argv, stdin_fd, stdout_fd, stderr_fd,
                            -1, err);
}

bool child_spawn_keep(Child *c, const char *name, char *const argv[],
                      int stdin_fd, int stdout_fd, int stderr_fd,
                      int keep_fd, GError **err)
{
    memset(c, 0, sizeof(*c));
    c->name = name;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot start %s: pipe: %s", name, g_strerror(errno));
        return false;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot start %s: fork: %s", name, g_strerror(e));
        return false;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* Even if memory_tracer is SIGKILLed, nothing outlives it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        /* Move the caller's descriptors out of the way of 0-2 first. */
        int fds[3] = { stdin_fd, stdout_fd, stderr_fd };
        for (int i = 0; i < 3; i++) {
            if (fds[i] >= 0 && fds[i] <= 2 && fds[i] != i) {
                fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
            }
        }
        child_setup_fd(fds[0], 0, O_RDONLY);
        child_setup_fd(fds[1], 1, O_WRONLY);
        child_setup_fd(fds[2], 2, O_WRONLY);
        if (keep_fd > 2) {
            fcntl(keep_fd, F_SETFD, 0);     /* only in this child */
        }
        execv(argv[0], argv);
        int e = errno;
        ssize_t n = write(report[1], &e, sizeof(e));
        (void)n;
        _exit(127);
    }
    close(report[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(report[0], &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    c->pid = pid;
    if (n == (ssize_t)sizeof(child_errno)) {
        child_wait(c, g_get_monotonic_time() + G_USEC_PER_SEC);
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(child_errno),
                    "cannot start %s (%s): %s", name, argv[0],
                    g_strerror(child_errno));
        return false;
    }
    return true;
}

bool child_alive(Child *c)
{
    if (c->pid <= 0 || c->reaped) {
        return false;
    }
    int st;
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if (r == c->pid) {
        c->reaped = true;
        c->status = st;
        return false;
    }
    if (r < 0 && errno == ECHILD) {
        c->reaped = true;
        return false;
    }
    return true;
}

bool child_wait(Child *c, gint64 deadline)
{
    while (child_alive(c)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(10 * 1000);
    }
    return true;
}

void child_stop(Child *c, int sig, gint64 grace_us)
{
    if (!child_alive(c)) {
        return;
    }
    kill(-c->pid, sig);
    kill(c->pid, sig);
    if (child_wait(c, g_get_monotonic_time() + grace_us)) {
        kill(-c->pid, SIGKILL);     /* leftovers in its group */
        return;
    }
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
    child_wait(c, g_get_monotonic_time() + 5 * G_USEC_PER_SEC);
}

char *child_describe_exit(const Child *c)
{
    if (!c->reaped) {
        return g_strdup("is still running");
    }
    if (WIFEXITED(c->status)) {
        return g_strdup_printf("exited with status %d",
                               WEXITSTATUS(c->status));
    }
    if (WIFSIGNALED(c->status)) {
        return g_strdup_printf("was killed by signal %d (%s)",
                               WTERMSIG(c->status),
                               strsignal(WTERMSIG(c->status)));
    }
    return g_strdup("ended");
}
