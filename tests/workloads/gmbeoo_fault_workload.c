/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO page-fault workload (tests/guest/gmbeoo_exact.sh): an anonymous
 * mapping of PAGES pages that nothing has touched before "Ready to trace"
 * (huge pages off, so each page faults on its own).  In the traced region,
 * for each page in turn:
 *   +0   load 4    first touch: faults (the guest maps its zero page), and
 *                  the load is executed again after the fault
 *   +8   store 4   write to the zero page: faults (copy on write), again
 *   +16  load 4    no fault
 * GMBEOO records an access before it is made, so a faulting access is
 * recorded once per execution: 2, 2 and 1 records per page.
 *
 * Built with -DFAULT_STRIDE it is gmbeoo_fault_stride_workload: 4-byte
 * stores to consecutive elements of 64 untouched pages, five stores per
 * loop iteration with nothing in between (one translation block), so that
 * the first store to each page faults -- the page is made on that write
 * fault -- and is made again, at every one of the five positions in turn
 * (1024 elements per page, 1024 mod 5 = 4).  fault_stride_* checks the
 * element index differences of the records: at full rate a 0 (the store
 * made again) per page, and sampled at 1:256, where such a TB takes its
 * five stores off the countdown at its start, exactly 256 events between
 * kept records.
 *
 * Workload info: "ADDR LEN" of the mapping.  Prints its own markers: run
 * it with --dont_add_communications_with_host_to_workload.
 */
#include <stdio.h>
#include <sys/mman.h>

#ifdef FAULT_STRIDE
#define PAGES 64
#define ELEMENTS 65535      /* a multiple of 5 in 64 pages of ints */
#else
#define PAGES 16
#endif
#define PAGE 4096

int main(void)
{
    unsigned char *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* One fault per page, not one per 2 MiB. */
    madvise(p, PAGES * PAGE, MADV_NOHUGEPAGE);
    printf("-----begin workload info-----");
    printf("%p %d", (void *)p, PAGES * PAGE);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();

#ifdef FAULT_STRIDE
    __asm__ volatile("xor %%ecx, %%ecx\n"
                     "1:\n\t"
                     "movl %%ecx, (%%rdi,%%rcx,4)\n\t"
                     "movl %%ecx, 4(%%rdi,%%rcx,4)\n\t"
                     "movl %%ecx, 8(%%rdi,%%rcx,4)\n\t"
                     "movl %%ecx, 12(%%rdi,%%rcx,4)\n\t"
                     "movl %%ecx, 16(%%rdi,%%rcx,4)\n\t"
                     "add $5, %%ecx\n\t"
                     "cmp %[n], %%ecx\n\t"
                     "jne 1b"
                     : : "D"(p), [n] "i"(ELEMENTS)
                     : "rcx", "memory", "cc");
#else
    for (int i = 0; i < PAGES; i++) {
        unsigned char *q = p + i * PAGE;

        __asm__ volatile("movl (%0), %%eax\n\t"
                         "movl %%eax, 8(%0)\n\t"
                         "movl 16(%0), %%eax"
                         : : "r"(q) : "rax", "memory");
    }
#endif

    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
