/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest_crash_workload panic|reset|triple|poweroff: ends the guest under
 * the workload, as a user's program might: a kernel panic (sysrq 'c'), an
 * immediate reset (sysrq 'b'), a reboot by triple fault, or a power-off.
 * memory_tracer must notice and end the run at once.  Runs as root in the
 * embedded guest.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) {
        perror(path);
    }
    if (fd >= 0) {
        close(fd);
    }
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "panic";
    printf("ending the guest: %s\n", how);
    fflush(stdout);
    sync();
    if (!strcmp(how, "panic")) {
        put("/proc/sysrq-trigger", "c");
    } else if (!strcmp(how, "reset")) {
        put("/proc/sysrq-trigger", "b");
    } else if (!strcmp(how, "triple")) {
        put("/sys/kernel/reboot/type", "triple");
        put("/sys/kernel/reboot/mode", "cold");
        reboot(RB_AUTOBOOT);
    } else if (!strcmp(how, "poweroff")) {
        reboot(RB_POWER_OFF);
    }
    perror("still here");
    return 1;
}
