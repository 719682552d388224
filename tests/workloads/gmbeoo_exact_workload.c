/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO exact-count workload (tests/guest/gmbeoo_exact.sh): a page-aligned
 * 16 KiB buffer, every page written before "Ready to trace", then a fixed
 * set of accesses to it made by inline assembly (so the compiler adds or
 * removes none).  Workload info: "ADDR LEN" of the buffer.  The expected
 * records (offset, kind, size, sign) are listed in gmbeoo_exact.sh; keep
 * the two in step.
 */
#include <stdio.h>
#include <string.h>

#define LEN 16384

static unsigned char buf[LEN] __attribute__((aligned(4096)));

/* Repeat one instruction N times in a loop whose only memory access is
 * that instruction.  %rdi = buffer, %ecx = counter. */
#define LOOP(n, insn) \
    __asm__ volatile("mov %[cnt], %%ecx\n1:\n\t" insn "\n\tdec %%ecx\n\tjnz 1b" \
                     : : [cnt] "i"(n), "D"(buf) \
                     : "rax", "rcx", "rdx", "xmm0", "memory", "cc")

int main(void)
{
    memset(buf, 0x11, sizeof(buf));     /* touch every page */
    printf("-----begin workload info-----");
    printf("%p %d", (void *)buf, LEN);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();

    LOOP(1000, "movl (%%rdi), %%eax");              /* +0   load 4 */
    LOOP(700, "movq %%rax, 8(%%rdi)");              /* +8   store 8 */
    LOOP(300, "movzbl 16(%%rdi), %%eax");           /* +16  load 1 */
    LOOP(200, "movb %%al, 17(%%rdi)");              /* +17  store 1 */
    LOOP(150, "movzwl 18(%%rdi), %%eax");           /* +18  load 2 */
    LOOP(250, "movw %%ax, 20(%%rdi)");              /* +20  store 2 */
    LOOP(110, "movsbl 24(%%rdi), %%eax");           /* +24  load 1 sx */
    LOOP(120, "movswq 26(%%rdi), %%rax");           /* +26  load 2 sx */
    LOOP(130, "movslq 28(%%rdi), %%rax");           /* +28  load 4 sx */
    LOOP(90, "movq 32(%%rdi), %%rax");              /* +32  load 8 */
    LOOP(80, "movl %%eax, 40(%%rdi)");              /* +40  store 4 */
    LOOP(60, "movdqu 64(%%rdi), %%xmm0");           /* +64, +72 load 8 */
    LOOP(50, "movdqu %%xmm0, 96(%%rdi)");           /* +96, +104 store 8 */
    LOOP(40, "movl $1, %%eax\n\tlock xaddl %%eax, 128(%%rdi)"); /* +128 ld+st 4 */
    LOOP(30, "movq 136(%%rdi), %%rax\n\tlock cmpxchgq %%rdx, 136(%%rdi)");
                                /* +136 load 8 (mov), then load+store 8 */
    LOOP(20, "xchgl %%eax, 144(%%rdi)");            /* +144 ld+st 4 */
    LOOP(10, "pushq 160(%%rdi)\n\tpopq 168(%%rdi)"); /* +160 ld 8, +168 st 8 */
    LOOP(5, "movq 4092(%%rdi), %%rax");             /* +4092 load 8, crosses a page */
    LOOP(1, "push %%rdi\n\tcld\n\tlea 512(%%rdi), %%rdi\n\tmov $0x2222222222222222, %%rax\n\t"
            "push %%rcx\n\tmov $8, %%ecx\n\trep stosq\n\tpop %%rcx\n\tpop %%rdi");
                                                    /* +512..+568 store 8 */
    LOOP(1, "push %%rdi\n\tpush %%rsi\n\tcld\n\tlea 576(%%rdi), %%rsi\n\tlea 640(%%rdi), %%rdi\n\t"
            "push %%rcx\n\tmov $4, %%ecx\n\trep movsq\n\tpop %%rcx\n\tpop %%rsi\n\tpop %%rdi");
                                   /* +576..+600 load 8, +640..+664 store 8 */

    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
