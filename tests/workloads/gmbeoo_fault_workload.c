/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GMBEOO page-fault workload (tests/guest/gmbeoo_fault.sh): an anonymous
 * mapping of PAGES pages that nothing has touched before "Ready to trace"
 * (huge pages off, so each page faults on its own).  In the traced region,
 * for each page in turn:
 *   +0   load 4    first touch: faults (the guest maps its zero page), and
 *                  the load is executed again after the fault
 *   +8   store 4   write to the zero page: faults (copy on write), again
 *   +16  load 4    no fault
 * GMBEOO records an access before it is made, so a faulting access is
 * recorded once per execution: 2, 2 and 1 records per page.
 * Workload info: "ADDR LEN" of the mapping.
 */
#include <stdio.h>
#include <sys/mman.h>

#define PAGES 16
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

    for (int i = 0; i < PAGES; i++) {
        unsigned char *q = p + i * PAGE;

        __asm__ volatile("movl (%0), %%eax\n\t"
                         "movl %%eax, 8(%0)\n\t"
                         "movl 16(%0), %%eax"
                         : : "r"(q) : "rax", "memory");
    }

    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
