/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * extended32 workload (tests/guest/extended32.sh): a page-aligned 16 KiB
 * buffer, every page written before "Ready to trace", its physical pages
 * read from /proc/self/pagemap (the guest runs as root).  Workload info:
 * "ADDR LEN PFN0 PFN1 PFN2 PFN3" (PFNs in hex).  Then, traced:
 *
 *   user_accesses():  1000 4-byte loads at +0, 500 8-byte stores at +8
 *                     (inline assembly: the compiler adds or removes none)
 *   read(/dev/zero):  the kernel stores 4096 bytes into page 1 (CPL 0)
 *   fork():           the child's child_accesses() makes 300 8-byte stores
 *                     at +8192 in its own address space (a copy-on-write
 *                     copy of page 2); the parent waits for it
 *
 * So the parent's CPL 3 records in the buffer have one CR3, the child's
 * another.  The two functions are not inlined, so each access's PC lies
 * between its function's symbol and the next one (nm).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN 16384
#define PAGES (LEN / 4096)

static unsigned char buf[LEN] __attribute__((aligned(4096)));

__attribute__((noinline)) void user_accesses(unsigned char *b)
{
    __asm__ volatile("mov $1000, %%ecx\n1:\n\tmovl (%%rdi), %%eax\n\t"
                     "dec %%ecx\n\tjnz 1b\n\t"
                     "mov $500, %%ecx\n2:\n\tmovq %%rax, 8(%%rdi)\n\t"
                     "dec %%ecx\n\tjnz 2b"
                     : : "D"(b) : "rax", "rcx", "memory", "cc");
}

__attribute__((noinline)) void child_accesses(unsigned char *b)
{
    __asm__ volatile("mov $300, %%ecx\n1:\n\tmovq %%rcx, 8192(%%rdi)\n\t"
                     "dec %%ecx\n\tjnz 1b"
                     : : "D"(b) : "rcx", "memory", "cc");
}

static uint64_t pfn_of(int fd, const void *p)
{
    uint64_t e = 0;
    off_t off = (off_t)((uintptr_t)p / 4096) * 8;

    if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e) ||
        !(e >> 63)) {
        return 0;
    }
    return e & ((UINT64_C(1) << 55) - 1);
}

int main(void)
{
    uint64_t pfn[PAGES];
    int fd;
    pid_t pid;

    memset(buf, 0x11, sizeof(buf));     /* touch every page */
    fd = open("/proc/self/pagemap", O_RDONLY);
    for (int i = 0; i < PAGES; i++) {
        pfn[i] = fd >= 0 ? pfn_of(fd, buf + i * 4096) : 0;
    }
    printf("-----begin workload info-----");
    printf("%p %d", (void *)buf, LEN);
    for (int i = 0; i < PAGES; i++) {
        printf(" %llx", (unsigned long long)pfn[i]);
    }
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();

    user_accesses(buf);
    fd = open("/dev/zero", O_RDONLY);
    if (fd < 0 || read(fd, buf + 4096, 4096) != 4096) {
        printf("gmbeoo_ext_workload: cannot read /dev/zero\n");
        return 2;
    }
    pid = fork();
    if (pid == 0) {
        child_accesses(buf);
        _exit(0);
    }
    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }

    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
