/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run_executables_from_serial [DEVICE [DIR]]: the guest half of
 * memory_tracer's serial channel.  It opens DEVICE (default /dev/ttyS0; the
 * embedded guest passes its virtio console /dev/hvc0) in raw mode, receives
 * executable1 and executable2 (protocol:
 * include/memory_tracer/serial_protocol.h), writes them to DIR (default
 * /tmp), runs executable1 with DEVICE as its stdin/stdout/stderr, reports
 * how it ended, and waits for the next upload.
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
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "memory_tracer/serial_protocol.h"

static int tty = -1;
static const char *tty_path = MT_GUEST_TTY;
/* /tmp/executable1 and /tmp/executable2 unless a directory is given (the
 * host unit test runs the helper on a pty with its own directory). */
static char exe1_path[256] = MT_GUEST_EXECUTABLE1;
static char exe2_path[256] = MT_GUEST_EXECUTABLE2;
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

/* Receive one file.  A sync line in place of the header restarts the
 * exchange with the new nonce (the host may re-sync at any point before an
 * upload). */
static RxResult receive_file(unsigned want_index, const char *path,
                             char *nonce)
{
    char line[MT_LINE_MAX], frame[MT_LINE_MAX];
    unsigned index;
    uint64_t size;
    uint32_t crc;
    bool line_ok = read_line(line, sizeof(line));

    if (line_ok && strncmp(line, MT_SYNC_PREFIX, strlen(MT_SYNC_PREFIX)) == 0
        && mt_nonce_valid(line + strlen(MT_SYNC_PREFIX))) {
        memcpy(nonce, line + strlen(MT_SYNC_PREFIX), MT_NONCE_LEN + 1);
        return RX_RESYNC;
    }
    if (!line_ok || !mt_parse_file_header(line, &index, &size, &crc) ||
        index != want_index) {
        status("Bad file header for executable%u.", want_index);
        send_frame(frame, mt_format_nak(frame, sizeof(frame), want_index,
                                        "bad-header"));
        return RX_FAILED;
    }
    status("Received executable_size: %llu", (unsigned long long)size);
    if (size > MT_MAX_FILE_SIZE) {
        status("executable%u is too large (limit %llu bytes).", index,
               (unsigned long long)MT_MAX_FILE_SIZE);
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index,
                                        "too-large"));
        return RX_FAILED;
    }
    status("Received expected_crc32: %08x", (unsigned)crc);

    int fd = -1;
    bool write_ok = true;
    if (size > 0) {
        unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
        if (fd < 0) {
            status("failed to open %s: %s", path, strerror(errno));
            write_ok = false;
        }
    }

    /* Stream the payload straight to the file; the CRC is checked at the
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
        if (write_ok && !write_all(fd, inbuf + in_pos, chunk)) {
            status("failed to write %s: %s", path, strerror(errno));
            write_ok = false;
        }
        in_pos += chunk;
        left -= chunk;
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
        status("Checksum check failed for executable%u: expected %08x, "
               "computed %08x.", index, (unsigned)crc, (unsigned)got);
        if (size > 0) {
            unlink(path);
        }
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index,
                                        "checksum"));
        return RX_FAILED;
    }
    if (!write_ok) {
        unlink(path);
        send_frame(frame, mt_format_nak(frame, sizeof(frame), index,
                                        "write-error"));
        return RX_FAILED;
    }
    if (size > 0) {
        status("Received executable and wrote it to local file.");
    }
    send_frame(frame, mt_format_ack(frame, sizeof(frame), index, size, crc));
    status("Done Receiving executable%u.", index);
    return RX_OK;
}

static void run_executable1(const char *nonce)
{
    char frame[MT_LINE_MAX];
    bool signaled = false;
    int code = 127;

    pid_t pid = fork();
    if (pid < 0) {
        status("fork failed: %s", strerror(errno));
    } else if (pid == 0) {
        /* The tty is not made the controlling terminal: tools such as
         * timeout(1) that move the workload to another process group can
         * still read it. */
        if (dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0) {
            _exit(127);
        }
        if (tty > 2) {
            close(tty);
        }
        signal(SIGPIPE, SIG_DFL);
        if (chdir("/tmp") < 0) {
            /* run from wherever we are */
        }
        execl(exe1_path, exe1_path, (char *)NULL);
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
    send_frame(frame, mt_format_exit(frame, sizeof(frame), nonce, signaled,
                                     code));
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
        snprintf(exe1_path, sizeof(exe1_path), "%s/executable1", argv[2]);
        snprintf(exe2_path, sizeof(exe2_path), "%s/executable2", argv[2]);
    }
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
        send_frame(frame, mt_format_hello(frame, sizeof(frame), nonce));
        RxResult r = receive_file(1, exe1_path, nonce);
        if (r == RX_OK) {
            unlink(exe2_path);
            r = receive_file(2, exe2_path, nonce);
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
