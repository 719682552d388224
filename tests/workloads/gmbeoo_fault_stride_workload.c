/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gmbeoo_fault_stride_workload: 4-byte stores to consecutive elements of 64
 * untouched pages, five stores per loop iteration with nothing in between
 * (one translation block), so that the first store to each page faults --
 * the page is made on that write fault -- and is made again, at every one
 * of the five positions in turn (1024 elements per page, 1024 mod 5 = 4).
 * tests/guest/gmbeoo_exact.sh (fault_stride_*) checks the element index
 * differences of the records: at full rate a 0 (the store made again) per
 * page, and sampled at 1:256, where such a TB takes its five stores off the
 * countdown at its start, exactly 256 events between kept records.
 *
 * Prints workload info "ADDR LEN" and its own markers: run it with
 * --dont_add_communications_with_host_to_workload.
 */
#include <stdio.h>
#include <sys/mman.h>

#define PAGES 64
#define PAGE 4096
#define ELEMENTS 65535      /* a multiple of 5 in 64 pages of ints */

int main(void)
{
    int *a = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (a == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* One fault per page, not one per 2 MiB. */
    madvise(a, PAGES * PAGE, MADV_NOHUGEPAGE);
    printf("-----begin workload info-----");
    printf("%p %d", (void *)a, PAGES * PAGE);
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
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
                     : : "D"(a), [n] "i"(ELEMENTS)
                     : "rcx", "memory", "cc");
    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
