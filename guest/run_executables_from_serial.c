/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run_executables_from_serial [DEVICE [DIR]]: the guest half of
 * memory_tracer's serial channel.  It opens DEVICE (default /dev/ttyS0; the
 * embedded guest passes its virtio console /dev/hvc0) in raw mode, receives
 * executable1, executable2, the workload's arguments and its files
 * (protocol: include/memory_tracer/serial_protocol.h) into a fresh working
 * directory under DIR (default /tmp), runs executable1 there with the
 * arguments and DEVICE as its stdin/stdout/stderr, sends back what the
 * workload wrote to its spool, reports how it ended, and waits for the next
 * upload.
 *
 * In the guest (no DIR given) it also makes a kernel panic or oops reboot
 * the guest at once (kernel.panic = -1, kernel.panic_on_oops = 1), so that
 * memory_tracer, which turns a guest reset into a stop, learns of it
 * instead of waiting for a workload that is gone.
 *
 * The snapshot ready_for_memory_tracer is taken while this program is
 * blocked reading DEVICE right after printing "Opened DEVICE.".
 *
 * Status lines go to stdout, the guest console (ttyS1), never to the
 * channel, which carries only the protocol and the workload's own I/O.
 *
 * Built static with musl-gcc; no stdio on the tty, no system().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "memory_tracer/serial_protocol.h"

static int tty = -1;
static const char *tty_path = MT_GUEST_TTY;
/* /tmp unless a directory is given (the host unit test runs the helper on
 * a pty with its own directory). */
static const char *base_dir = "/tmp";
static char exe1_path[256];
/* This exchange's working directory and executable2 in it. */
static char work_dir[256];
static char exe2_path[300];
/* The workload's arguments (payload 3). */
static char *args_data;
static size_t args_len;
static MtCrc32Table crc_table;

/* Input buffer: the tty is read in blocks; the protocol parser takes bytes
 * from here.  Bytes after the second file (none, normally) are kept and
 * reach the next sync scan, not the workload. */
static unsigned char inbuf[64 * 1024];
static size_t in_pos, in_len;

static void status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static bool fill(void)
{
    for (;;) {
        ssize_t n = read(tty, inbuf, sizeof(inbuf));
        if (n > 0) {
            in_pos = 0;
            in_len = (size_t)n;
            return true;
        }
        if (n == 0) {
            /* Raw tty with VMIN=1 returns 0 only on hangup; keep waiting
             * rather than spinning. */
            sleep(1);
            continue;
        }
        if (errno != EINTR && errno != EAGAIN) {
            status("read from %s failed: %s", tty_path, strerror(errno));
            return false;
        }
    }
}

static int get_byte(void)
{
    if (in_pos == in_len && !fill()) {
        return -1;
    }
    return inbuf[in_pos++];
}

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void send_frame(const char *buf, int len)
{
    if (len < 0 || !write_all(tty, buf, (size_t)len)) {
        status("failed to send a frame to %s: %s", tty_path,
               strerror(errno));
    }
    tcdrain(tty);
}

static int set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0) {
        return -1;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    /* The 16550's receive-FIFO timeout is a few character times: a higher
     * rate makes the tail of each upload arrive sooner. */
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    return tcsetattr(fd, TCSANOW, &t);
}

/* Scan the input for "MTSYNC <nonce>\n"; anything before it is ignored. */
static bool wait_sync(char *nonce)
{
    static const char prefix[] = MT_SYNC_PREFIX;
    size_t matched = 0;
    for (;;) {
        int c = get_byte();
        if (c < 0) {
            return false;
        }
        if (c == prefix[matched]) {
            if (++matched < sizeof(prefix) - 1) {
                continue;
            }
            size_t i;
            for (i = 0; i < MT_NONCE_LEN; i++) {
                c = get_byte();
                if (c < 0) {
                    return false;
                }
                if (!mt_is_hex_lower((char)c)) {
                    break;
                }
                nonce[i] = (char)c;
            }
            if (i == MT_NONCE_LEN && (c = get_byte()) == '\n') {
                nonce[MT_NONCE_LEN] = '\0';
                return true;
            }
            if (c < 0) {
                return false;
            }
            matched = c == prefix[0] ? 1 : 0;
        } else {
            matched = c == prefix[0] ? 1 : 0;
        }
    }
}

static bool read_line(char *line, size_t size)
{
    size_t n = 0;
    for (;;) {
        int c = get_byte();
        if (c < 0) {
            return false;
        }
        if (c == '\n') {
            line[n] = '\0';
            return true;
        }
        if (n + 1 >= size) {
            line[n] = '\0';
            return false;
        }
        line[n++] = (char)c;
    }
}

typedef enum {
    RX_OK,          /* file received, ACK sent */
    RX_FAILED,      /* NAK sent (or the tty broke) */
    RX_RESYNC,      /* the host sent a new MTSYNC instead of a header */
} RxResult;

/* ---- the archive of payload 4, unpacked as it streams in ---- */

typedef struct SymlinkEntry {
    char *path;
    char *target;
    struct SymlinkEntry *next;
} SymlinkEntry;

typedef enum { UN_HEADER, UN_PATH, UN_DATA } UnpackState;

typedef struct Unpack {
    UnpackState state;
    char line[MT_LINE_MAX];
    size_t line_len;
    MtEntry e;
    char path[MT_ENTRY_PATH_MAX + 1];
    size_t path_got;
    char full[sizeof(work_dir) + MT_ENTRY_PATH_MAX + 2];
    int fd;
    uint64_t left;
    uint32_t crc;
    char target[MT_ENTRY_PATH_MAX + 1];
    size_t target_got;
    /* Symbolic links are made last, so no entry is written through one. */
    SymlinkEntry *links;
    const char *reason;     /* NULL, or the NAK reason of the first error */
    unsigned entries;
} Unpack;

static bool unpack_fail(Unpack *u, const char *reason, const char *what)
{
    if (!u->reason) {
        u->reason = reason;
        status("files: %s (%s): %s", what, u->path[0] ? u->path : "-",
               errno ? strerror(errno) : "bad stream");
    }
    return false;
}

static bool unpack_io_fail(Unpack *u, const char *what)
{
    return unpack_fail(u, errno == ENOSPC || errno == EDQUOT ? "no-space"
                                                             : "write-error",
                       what);
}

/* The entry's data is complete: close it, check it. */
static bool unpack_finish_entry(Unpack *u)
{
    if (u->crc != u->e.crc) {
        errno = 0;
        return unpack_fail(u, "bad-archive", "checksum mismatch");
    }
    if (u->e.type == 'f') {
        if (fchmod(u->fd, u->e.mode) < 0 || close(u->fd) < 0) {
            u->fd = -1;
            return unpack_io_fail(u, "closing a file");
        }
        u->fd = -1;
    } else if (u->e.type == 'l') {
        SymlinkEntry *l = malloc(sizeof(*l));
        if (!l || !(l->path = strdup(u->full)) ||
            !(l->target = strndup(u->target, u->target_got))) {
            return unpack_io_fail(u, "out of memory");
        }
        l->next = u->links;
        u->links = l;
    }
    u->entries++;
    u->state = UN_HEADER;
    u->line_len = 0;
    return true;
}

/* The path is complete: make the directory, or open the file. */
static bool unpack_start_entry(Unpack *u)
{
    u->path[u->path_got] = '\0';
    if (!mt_entry_path_safe(u->path, u->path_got)) {
        errno = 0;
        return unpack_fail(u, "bad-archive", "unsafe path");
    }
    snprintf(u->full, sizeof(u->full), "%s/%s", work_dir, u->path);
    u->left = u->e.size;
    u->crc = 0;
    u->target_got = 0;
    if (u->e.type == 'd') {
        struct stat st;
        if (mkdir(u->full, 0700) < 0 &&
            !(errno == EEXIST && lstat(u->full, &st) == 0 &&
              S_ISDIR(st.st_mode))) {
            return unpack_io_fail(u, "making a directory");
        }
        if (chmod(u->full, u->e.mode) < 0) {
            return unpack_io_fail(u, "setting a directory's mode");
        }
    } else if (u->e.type == 'f') {
        unlink(u->full);
        u->fd = open(u->full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                     O_CLOEXEC, 0600);
        if (u->fd < 0) {
            return unpack_io_fail(u, "creating a file");
        }
    }
    u->state = UN_DATA;
    return u->left > 0 || unpack_finish_entry(u);
}

/* Take @len bytes of the archive stream; false after the first error (the
 * rest is then only read and dropped). */
static bool unpack_feed(Unpack *u, const unsigned char *p, size_t len)
{
    while (len > 0 && !u->reason) {
        switch (u->state) {
        case UN_HEADER:
            if (*p == '\n') {
                u->line[u->line_len] = '\0';
                memset(u->path, 0, sizeof(u->path));
                if (!mt_parse_entry_header(u->line, &u->e)) {
                    errno = 0;
                    return unpack_fail(u, "bad-archive", "bad entry header");
                }
                u->path_got = 0;
                u->state = UN_PATH;
            } else if (u->line_len + 1 >= sizeof(u->line)) {
                errno = 0;
                return unpack_fail(u, "bad-archive", "entry header too long");
            } else {
                u->line[u->line_len++] = (char)*p;
            }
            p++;
            len--;
            break;
        case UN_PATH: {
            size_t n = u->e.path_len - u->path_got;
            n = n < len ? n : len;
            memcpy(u->path + u->path_got, p, n);
            u->path_got += n;
            p += n;
            len -= n;
            if (u->path_got == u->e.path_len && !unpack_start_entry(u)) {
                return false;
            }
            break;
        }
        case UN_DATA: {
            size_t n = u->left < len ? (size_t)u->left : len;
            u->crc = mt_crc32_update(&crc_table, u->crc, p, n);
            if (u->e.type == 'f' && !write_all(u->fd, p, n)) {
                return unpack_io_fail(u, "writing a file");
            }
            if (u->e.type == 'l') {
                memcpy(u->target + u->target_got, p, n);
                u->target_got += n;
            }
            u->left -= n;
            p += n;
            len -= n;
            if (u->left == 0 && !unpack_finish_entry(u)) {
                return false;
            }
            break;
        }
        }
    }
    return !u->reason;
}

/* The stream is over: it must end between entries; then the links. */
static bool unpack_end(Unpack *u)
{
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    if (!u->reason && (u->state != UN_HEADER || u->line_len != 0)) {
        errno = 0;
        unpack_fail(u, "bad-archive", "the stream ends inside an entry");
    }
    while (u->links) {
        SymlinkEntry *l = u->links;
        u->links = l->next;
        if (!u->reason && symlink(l->target, l->path) < 0) {
            unpack_io_fail(u, "making a symbolic link");
        }
        free(l->path);
        free(l->target);
        free(l);
    }
    return !u->reason;
}

/* ---- receiving one payload ---- */

static const char *const payload_names[] = {
    "", "executable1", "executable2", "arguments", "files",
};

/* Receive payload @want_index.  A sync line in place of the header
 * restarts the exchange with the new nonce (the host may re-sync at any
 * point before an upload). */
static RxResult receive_file(unsigned want_index, char *nonce)
{
    char line[MT_LINE_MAX], frame[MT_LINE_MAX];
    unsigned index;
    uint64_t size;
    uint32_t crc;
    bool line_ok = read_line(line, sizeof(line));
    const char *name = payload_names[want_index];

    if (line_ok && strncmp(line, MT_SYNC_PREFIX, strlen(MT_SYNC_PREFIX)) == 0
        && mt_nonce_valid(line + strlen(MT_SYNC_PREFIX))) {
        memcpy(nonce, line + strlen(MT_SYNC_PREFIX), MT_NONCE_LEN + 1);
        return RX_RESYNC;
    }
    if (!line_ok || !mt_parse_file_header(line, &index, &size, &crc) ||
        index != want_index) {
        status("Bad file header for %s.", name);
        send_frame(frame, mt_format_nak(frame, sizeof(frame), want_index,
                                        "bad-header"));
        return RX_FAILED;
    }
    status("Received %s size: %llu", name, (unsigned long long)size);
    if (size > MT_MAX_FILE_SIZE ||
        (index == MT_INDEX_ARGS && size > MT_MAX_ARGS_SIZE)) {
        status("%s is too large.", name);
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index,
                                        "too-large"));
        return RX_FAILED;
    }

    const char *path = index == MT_INDEX_EXECUTABLE1 ? exe1_path : exe2_path;
    bool to_file = index <= MT_INDEX_EXECUTABLE2 && size > 0;
    int fd = -1;
    bool write_ok = true;
    const char *reason = "write-error";
    Unpack un = { .fd = -1 };
    if (to_file) {
        unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
        if (fd < 0) {
            status("failed to open %s: %s", path, strerror(errno));
            write_ok = false;
        }
    }
    if (index == MT_INDEX_ARGS) {
        free(args_data);
        args_len = 0;
        args_data = malloc(size + 1);
        if (!args_data) {
            write_ok = false;
        }
    }

    /* Stream the payload straight to its place; the CRC is checked at the
     * end and a bad file is removed. */
    uint32_t got = 0;
    uint64_t left = size;
    while (left > 0) {
        if (in_pos == in_len && !fill()) {
            return RX_FAILED;
        }
        size_t chunk = in_len - in_pos;
        if (chunk > left) {
            chunk = (size_t)left;
        }
        got = mt_crc32_update(&crc_table, got, inbuf + in_pos, chunk);
        if (write_ok && fd >= 0 && !write_all(fd, inbuf + in_pos, chunk)) {
            status("failed to write %s: %s", path, strerror(errno));
            if (errno == ENOSPC) {
                reason = "no-space";
            }
            write_ok = false;
        }
        if (write_ok && index == MT_INDEX_ARGS) {
            memcpy(args_data + args_len, inbuf + in_pos, chunk);
            args_len += chunk;
        }
        if (write_ok && index == MT_INDEX_FILES &&
            !unpack_feed(&un, inbuf + in_pos, chunk)) {
            write_ok = false;
        }
        in_pos += chunk;
        left -= chunk;
    }
    if (index == MT_INDEX_FILES && !unpack_end(&un) && write_ok) {
        write_ok = false;
    }
    if (index == MT_INDEX_FILES && un.reason) {
        reason = un.reason;
    }
    if (fd >= 0) {
        if (write_ok && fchmod(fd, 0755) < 0) {
            status("failed to chmod %s: %s", path, strerror(errno));
            write_ok = false;
        }
        if (close(fd) < 0 && write_ok) {
            status("failed to close %s: %s", path, strerror(errno));
            write_ok = false;
        }
    }
    if (got != crc) {
        status("Checksum check failed for %s: expected %08x, computed %08x.",
               name, (unsigned)crc, (unsigned)got);
        if (to_file) {
            unlink(path);
        }
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index,
                                        "checksum"));
        return RX_FAILED;
    }
    if (write_ok && index == MT_INDEX_ARGS &&
        mt_split_args(args_data, args_len, NULL, 0) < 0) {
        reason = "bad-header";
        write_ok = false;
    }
    if (!write_ok) {
        if (to_file) {
            unlink(path);
        }
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index, reason));
        return RX_FAILED;
    }
    if (index == MT_INDEX_FILES) {
        status("Unpacked %u entries into %s.", un.entries, work_dir);
    }
    send_frame(frame, mt_format_ack(frame, sizeof(frame), index, size, crc));
    status("Done receiving %s.", name);
    return RX_OK;
}

/* A fresh working directory for this exchange; its file system's free
 * bytes for the hello. */
static bool make_work_dir(uint64_t *free_bytes)
{
    struct statvfs sv;
    snprintf(work_dir, sizeof(work_dir), "%s/" MT_WORKDIR_PREFIX "XXXXXX",
             base_dir);
    if (!mkdtemp(work_dir)) {
        status("failed to make a working directory in %s: %s", base_dir,
               strerror(errno));
        return false;
    }
    chmod(work_dir, 0755);
    snprintf(exe2_path, sizeof(exe2_path), "%s/executable2", work_dir);
    *free_bytes = statvfs(work_dir, &sv) == 0
                  ? (uint64_t)sv.f_bavail * sv.f_frsize : 0;
    return true;
}

/* The host's answer to a DATA piece: true for ok, false for bad; *@lost
 * when the channel broke or the host sent something else than MTDACK
 * lines for too long. */
static bool data_acked(bool *lost)
{
    char line[MT_LINE_MAX];
    for (int i = 0; i < 64; i++) {
        if (!read_line(line, sizeof(line))) {
            continue;           /* noise longer than a line */
        }
        if (strcmp(line, "MTDACK ok") == 0) {
            return true;
        }
        if (strcmp(line, "MTDACK bad") == 0) {
            return false;
        }
    }
    *lost = true;
    return false;
}

/* Send what the workload wrote to its spool, in DATA frames, one piece in
 * flight at a time. */
static void send_spool(int spool, const char *nonce)
{
    static unsigned char buf[MT_DATA_CHUNK];
    char frame[MT_LINE_MAX];
    uint64_t total = 0;
    unsigned resent = 0;
    if (spool < 0 || lseek(spool, 0, SEEK_SET) < 0) {
        return;
    }
    for (;;) {
        size_t got = 0;
        while (got < sizeof(buf)) {
            ssize_t n = read(spool, buf + got, sizeof(buf) - got);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
        }
        if (got == 0) {
            break;
        }
        uint32_t crc = mt_crc32_update(&crc_table, 0, buf, got);
        bool lost = false;
        for (int attempt = 0; attempt < 5 && !lost; attempt++) {
            int len = mt_format_data(frame, sizeof(frame), nonce, got, crc);
            if (len < 0 || !write_all(tty, frame, (size_t)len) ||
                !write_all(tty, buf, got)) {
                status("failed to send the workload's output: %s",
                       strerror(errno));
                return;
            }
            if (data_acked(&lost)) {
                break;
            }
            resent++;
        }
        if (lost) {
            status("no acknowledgement of the workload's output from the "
                   "host; stopped sending it");
            return;
        }
        total += got;
    }
    status("Sent %llu bytes of workload output (%u pieces sent again).",
           (unsigned long long)total, resent);
}

static void run_executable1(const char *nonce)
{
    char frame[MT_LINE_MAX];
    bool signaled = false;
    int code = 127;
    char spool_path[300];

    /* The wrapper sends the workload's stdout and stderr to descriptor 3:
     * a file in DIR, unlinked at once (see the protocol). */
    snprintf(spool_path, sizeof(spool_path), "%s/mt-spool-XXXXXX", base_dir);
    int spool = mkostemp(spool_path, O_CLOEXEC);
    if (spool >= 0) {
        unlink(spool_path);
    } else {
        status("failed to make the output spool in %s: %s", base_dir,
               strerror(errno));
    }
    int argc = args_data ? mt_split_args(args_data, args_len, NULL, 0) : 0;
    char **argv = calloc((size_t)(argc > 0 ? argc : 0) + 2, sizeof(char *));

    pid_t pid = argv ? fork() : -1;
    if (pid < 0) {
        status("fork failed: %s", strerror(errno));
    } else if (pid == 0) {
        /* The tty is not made the controlling terminal: tools such as
         * timeout(1) that move the workload to another process group can
         * still read it. */
        if (dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0 ||
            dup2(spool >= 0 ? spool : tty, 3) < 0) {
            _exit(127);
        }
        if (tty > 3) {
            close(tty);
        }
        signal(SIGPIPE, SIG_DFL);
        if (chdir(work_dir) < 0) {
            /* run from wherever we are */
        }
        argv[0] = exe1_path;
        if (argc > 0) {
            mt_split_args(args_data, args_len, argv + 1, argc);
        }
        execv(exe1_path, argv);
        static const char msg[] = "run_executables_from_serial: exec "
                                  "executable1 failed\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
            /* nothing left to tell */
        }
        _exit(127);
    } else {
        int st;
        while (waitpid(pid, &st, 0) < 0) {
            if (errno != EINTR) {
                status("waitpid failed: %s", strerror(errno));
                st = 127 << 8;
                break;
            }
        }
        if (WIFSIGNALED(st)) {
            signaled = true;
            code = WTERMSIG(st);
        } else {
            code = WEXITSTATUS(st);
        }
        status("executable1 ended: %s %d.", signaled ? "signal" : "exit",
               code);
    }
    free(argv);
    send_spool(spool, nonce);
    if (spool >= 0) {
        close(spool);
    }
    send_frame(frame, mt_format_exit(frame, sizeof(frame), nonce, signaled,
                                     code));
}

/* Best effort: a panic or oops reboots at once (see the top). */
static void reboot_on_panic(void)
{
    static const char *const settings[][2] = {
        { "/proc/sys/kernel/panic", "-1\n" },
        { "/proc/sys/kernel/panic_on_oops", "1\n" },
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        int fd = open(settings[i][0], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (!write_all(fd, settings[i][1], strlen(settings[i][1]))) {
                status("cannot set %s", settings[i][0]);
            }
            close(fd);
        }
    }
}

int main(int argc, char **argv)
{
    char nonce[MT_NONCE_LEN + 1], frame[MT_LINE_MAX];

    /* The channel device: /dev/ttyS0 unless told otherwise (the embedded
     * guest passes /dev/hvc0 when it has a virtio console). */
    if (argc > 1) {
        tty_path = argv[1];
    }
    if (argc > 2) {
        base_dir = argv[2];
    } else {
        reboot_on_panic();
    }
    snprintf(exe1_path, sizeof(exe1_path), "%s/executable1", base_dir);
    mt_crc32_table_init(&crc_table);
    signal(SIGPIPE, SIG_IGN);

    tty = open(tty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) {
        status("failed to open %s. errno: %d", tty_path, errno);
        return 1;
    }
    if (set_raw(tty) < 0) {
        status("failed to set %s to raw mode: %s", tty_path,
               strerror(errno));
        return 1;
    }
    /* Drop whatever arrived before we were ready. */
    tcflush(tty, TCIFLUSH);
    status("Opened %s.", tty_path);

    bool synced = false;
    for (;;) {
        if (!synced && !wait_sync(nonce)) {
            return 1;
        }
        synced = false;
        status("Received sync bytes.");
        uint64_t free_bytes = 0;
        if (!make_work_dir(&free_bytes)) {
            return 1;
        }
        send_frame(frame, mt_format_hello(frame, sizeof(frame), nonce,
                                          free_bytes));
        RxResult r = RX_OK;
        for (unsigned i = 1; i <= MT_INDEX_MAX && r == RX_OK; i++) {
            r = receive_file(i, nonce);
        }
        if (r == RX_RESYNC) {
            synced = true;
            continue;
        }
        if (r == RX_OK) {
            run_executable1(nonce);
        }
    }
}
