/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libgmbeoo's analysis-tool contract (memory_tracer --help,
 * ORIGINAL_BEHAVIOUR.md section 7): print "Ready to analyze", open the
 * FIFO, read it until SIGUSR1 (and what the pipe holds then), print the
 * block between the analysis output markers.
 *
 * The signals are blocked and taken through a signalfd, polled beside the
 * FIFO: the block is printed from the main loop (stdio is not
 * async-signal-safe), never from a handler.  The FIFO is opened
 * non-blocking right after "Ready to analyze", so SIGUSR1 is answered even
 * if no writer ever comes; EOF is normal (memory_tracer closes the FIFO
 * before it sends SIGUSR1) and then only the signals are waited for.
 */
#include "gmbeoo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define READY_TO_ANALYZE "Ready to analyze"
#define BEGIN_OUTPUT "-----begin analysis output-----"
#define END_OUTPUT "-----end analysis output-----"

static const char *program(char **argv)
{
    const char *slash = argv && argv[0] ? strrchr(argv[0], '/') : NULL;
    return slash ? slash + 1 : argv && argv[0] ? argv[0] : "gmbeoo";
}

int gmbeoo_env_int(const char *name)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v) {
        return -1;
    }
    long n = strtol(v, &end, 10);
    return *end || n < 0 || n > 1 << 20 ? -1 : (int)n;
}

/* What memory_tracer says about the run (tracer/run_trace.c). */
static void meta_from_environment(GmbeooSource *src, int argc, char **argv,
                                  bool auto_format)
{
    GmbeooMeta *m = &src->meta;
    const char *f = getenv("GMBEOO_RECORD_FORMAT");
    m->format_known = auto_format && f && *f;
    m->log_of_GMBE_block_len = gmbeoo_env_int("GMBEOO_LOG_OF_GMBE_BLOCK_LEN");
    m->log_of_GMBE_tracing_ratio = gmbeoo_env_int("GMBEOO_LOG_OF_GMBE_TRACING_RATIO");
    m->trace_only_CPL3_code_GMBE = gmbeoo_env_int("GMBEOO_TRACE_ONLY_CPL3_CODE_GMBE");
    m->vcpus = gmbeoo_env_int("GMBEOO_GUEST_NUM_OF_VCPUS");
    g_strfreev(src->info);
    src->info = g_new0(char *, argc > 2 ? argc - 1 : 1);
    for (int i = 2; i < argc; i++) {
        src->info[i - 2] = g_strdup(argv[i]);
    }
    m->ninfo = argc > 2 ? (size_t)(argc - 2) : 0;
    m->info = (const char *const *)src->info;
}

GmbeooSource *gmbeoo_tool_start(int argc, char **argv, int format,
                                unsigned flags)
{
    const char *prog = program(argv);
    bool auto_format = format == GMBEOO_FORMAT_AUTO;
    (void)flags;
    if (argc < 2 || !argv[1]) {
        fprintf(stderr, "usage: %s FIFO [INFO_TOKEN...]\n", prog);
        gmbeoo_set_error("usage: %s FIFO [INFO_TOKEN...]", prog);
        errno = EINVAL;
        return NULL;
    }
    if (format == GMBEOO_FORMAT_AUTO) {
        format = gmbeoo_format_resolve(NULL);
    }
    if (format < 0 || format >= GMBEOO_FORMAT__MAX) {
        if (format >= 0) {
            gmbeoo_set_error("record format %d: no such format", format);
        }
        fprintf(stderr, "%s: %s\n", prog, gmbeoo_errmsg());
        errno = EINVAL;
        return NULL;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sfd < 0) {
        int e = errno;
        gmbeoo_set_error("signalfd: %s", strerror(e));
        fprintf(stderr, "%s: %s\n", prog, gmbeoo_errmsg());
        errno = e;
        return NULL;
    }

    /* memory_tracer offers the shared rings: claim them before saying
     * ready (it reads the claim then); the FIFO is not opened. */
    int rings = gmbeoo_rings_claim();

    printf(READY_TO_ANALYZE "\n");
    fflush(stdout);

    if (rings >= 0) {
        GmbeooSource *src = gmbeoo_source_new(-1, format, 0, "shared rings");
        src->tool = true;
        src->sigfd = sfd;
        gmbeoo_rings_attach(src, rings);
        meta_from_environment(src, argc, argv, auto_format);
        return src;
    }

    int fd = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        gmbeoo_set_error("cannot open %s: %s", argv[1], strerror(e));
        fprintf(stderr, "%s: %s\n", prog, gmbeoo_errmsg());
        close(sfd);
        errno = e;
        return NULL;
    }
    GmbeooSource *src = gmbeoo_source_new(fd, format, GMBEOO_OPEN_OWN_FD,
                                          argv[1]);
    src->tool = true;
    src->sigfd = sfd;
    meta_from_environment(src, argc, argv, auto_format);
    return src;
}

void gmbeoo_tool_take_signal(GmbeooSource *src)
{
    struct signalfd_siginfo si;
    if (read(src->sigfd, &si, sizeof(si)) != sizeof(si)) {
        return;
    }
    if (si.ssi_signo == SIGUSR1) {
        src->got_usr1 = true;
    } else {
        src->got_term = true;
    }
}

int gmbeoo_tool_next(GmbeooSource *src, GmbeooBatch *batch)
{
    for (;;) {
        /* Records detection or the last read left count even after
         * the end. */
        if (gmbeoo_source_take(src, batch)) {
            return GMBEOO_BATCH;
        }
        if (src->done) {
            return src->result;
        }
        int r;
        if (src->got_term) {
            r = STEP_EOF;
        } else if (src->eof || src->got_usr1) {
            /* After SIGUSR1, what the pipe holds still counts. */
            r = gmbeoo_source_step(src);
            if (r == STEP_AGAIN) {
                r = STEP_EOF;
            }
        } else {
            struct pollfd p[2] = {
                { .fd = src->sigfd, .events = POLLIN },
                { .fd = src->fd, .events = POLLIN },
            };
            if (poll(p, 2, -1) < 0 && errno != EINTR) {
                gmbeoo_set_error("poll: %s", strerror(errno));
                r = STEP_ERROR;
            } else {
                r = STEP_OK;
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                    r = gmbeoo_source_step(src);
                }
                if (p[0].revents & POLLIN) {
                    gmbeoo_tool_take_signal(src);
                }
            }
        }
        gmbeoo_source_end(src, r);
    }
}

int gmbeoo_tool_report(GmbeooSource *src,
                       void (*body)(FILE *out, void *arg), void *arg)
{
    while (src->sigfd >= 0 && !src->got_usr1 && !src->got_term) {
        struct pollfd p = { .fd = src->sigfd, .events = POLLIN };
        if (poll(&p, 1, -1) > 0) {
            gmbeoo_tool_take_signal(src);
        } else if (errno != EINTR) {
            gmbeoo_set_error("poll: %s", strerror(errno));
            return -1;
        }
    }
    if (src->got_term && !src->got_usr1) {
        return 1;
    }
    printf(BEGIN_OUTPUT "\n");
    if (body) {
        body(stdout, arg);
    }
    printf(END_OUTPUT "\n");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        gmbeoo_set_error("cannot write the analysis output: %s",
                         strerror(errno));
        return -1;
    }
    return 0;
}
