/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO kernel-access workload (tests/guest/gmbeoo_exact.sh): in the
 * traced region the workload itself never touches its 64 KiB buffer (all
 * pages written before "Ready to trace"); the kernel does:
 *   read(/dev/zero, buf, 64 KiB)  -> the kernel stores into every byte;
 *   write(pipe, buf, 64 KiB)      -> the kernel loads every byte (the pipe
 *                                    is drained into another buffer);
 *   write(/dev/null, buf, 64 KiB) -> nothing: write_null() never reads the
 *                                    buffer, which is why the pipe is used.
 * Workload info: "ADDR LEN" of the buffer.  Exit status 1 if a call fails.
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEN 65536

static unsigned char buf[LEN] __attribute__((aligned(4096)));
static unsigned char sink[LEN] __attribute__((aligned(4096)));

int main(void)
{
    int fdz = open("/dev/zero", O_RDONLY);
    int fdn = open("/dev/null", O_WRONLY);
    int p[2];
    if (fdz < 0 || fdn < 0 || pipe(p) != 0) {
        return 1;
    }
    fcntl(p[1], F_SETPIPE_SZ, 4 * LEN);
    memset(buf, 0x11, sizeof(buf));     /* touch every page */
    memset(sink, 0x11, sizeof(sink));
    printf("-----begin workload info-----");
    printf("%p %d", (void *)buf, LEN);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();

    int ok = read(fdz, buf, LEN) == LEN &&
             write(p[1], buf, LEN) == LEN &&
             read(p[0], sink, LEN) == LEN &&
             write(fdn, buf, LEN) == LEN;

    printf("Stop tracing\n");
    fflush(stdout);
    return ok ? 0 : 1;
}
