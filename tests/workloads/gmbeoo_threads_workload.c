/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two-thread workloads for multi-vCPU tracing (--guest_num_of_vCPUs 2):
 * thread k (the main thread is thread 0) pins itself to CPU k with
 * sched_setaffinity() before "Ready to trace", then, once Enter has come,
 * makes a fixed set of accesses to its own page-aligned, pre-touched
 * buffer by inline assembly (so the compiler adds or removes none).  A
 * guest with fewer than 2 CPUs makes it fail (exit 2, before "Ready to
 * trace") with a message saying so.
 *
 * gmbeoo_threads_workload (this file as it is): a 16 KiB buffer each,
 *
 *   thread 0: 3000 4-byte loads at +0, 1000 8-byte stores at +8
 *   thread 1: 5000 4-byte loads at +0, 2000 8-byte stores at +8
 *
 * and every record in buffer k must carry vCPU k.  Workload info:
 * "ADDR0 LEN ADDR1 LEN".
 *
 * gmbeoo_vcpu_order_workload (built with -DORDER_PASSES=N), for checking
 * per-vCPU program order: a 1 MiB buffer each, N passes over it, each pass
 * one 8-byte store to every element in increasing order.  Both threads run
 * at once, so the two vCPUs fill their rings together and each ring wraps
 * (2 x 5.2 M records with 4 M-record rings for N = 40).  In the stream the
 * records in buffer k must all carry vCPU k and their offsets must be 0,
 * 8, ..., LEN - 8, N times over, in that order.  Workload info:
 * "ADDR0 LEN ADDR1 LEN N".
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef ORDER_PASSES
#define NAME "gmbeoo_vcpu_order_workload"
#define LEN (1 << 20)
#else
#define NAME "gmbeoo_threads_workload"
#define LEN 16384
#endif

static unsigned char buf[2][LEN] __attribute__((aligned(4096)));
static pthread_barrier_t pinned, go;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0 ||
        sched_getcpu() != cpu) {
        printf(NAME ": cannot run on CPU %d (the guest needs 2 vCPUs: "
               "--guest_num_of_vCPUs 2)\n", cpu);
        fflush(stdout);
        _exit(2);
    }
}

#ifdef ORDER_PASSES
/* %rdi walks the buffer; the loop's only memory access is the store. */
static void work(int k)
{
    for (int p = 0; p < ORDER_PASSES; p++) {
        unsigned char *q = buf[k];

        __asm__ volatile("mov %[n], %%ecx\n1:\n\tmovq %%rax, (%%rdi)\n\t"
                         "add $8, %%rdi\n\tdec %%ecx\n\tjnz 1b"
                         : "+D"(q) : [n] "r"(LEN / 8)
                         : "rax", "rcx", "memory", "cc");
    }
}
#else
static const int loads[2] = { 3000, 5000 };
static const int stores[2] = { 1000, 2000 };

/* %rdi = buffer; the loop's only memory accesses are the two below. */
static void work(int k)
{
    __asm__ volatile("mov %[n], %%ecx\n1:\n\tmovl (%%rdi), %%eax\n\t"
                     "dec %%ecx\n\tjnz 1b"
                     : : [n] "r"(loads[k]), "D"(buf[k])
                     : "rax", "rcx", "memory", "cc");
    __asm__ volatile("mov %[n], %%ecx\n1:\n\tmovq %%rax, 8(%%rdi)\n\t"
                     "dec %%ecx\n\tjnz 1b"
                     : : [n] "r"(stores[k]), "D"(buf[k])
                     : "rax", "rcx", "memory", "cc");
}
#endif

static void *thread1(void *arg)
{
    (void)arg;
    pin(1);
    pthread_barrier_wait(&pinned);
    pthread_barrier_wait(&go);
    work(1);
    return NULL;
}

int main(void)
{
    pthread_t t;

    memset(buf, 0x11, sizeof(buf));     /* touch every page */
    pin(0);
    pthread_barrier_init(&pinned, NULL, 2);
    pthread_barrier_init(&go, NULL, 2);
    if (pthread_create(&t, NULL, thread1, NULL) != 0) {
        printf(NAME ": pthread_create failed\n");
        return 2;
    }
    pthread_barrier_wait(&pinned);
    printf("-----begin workload info-----");
    printf("%p %d %p %d", (void *)buf[0], LEN, (void *)buf[1], LEN);
#ifdef ORDER_PASSES
    printf(" %d", ORDER_PASSES);
#endif
    printf("-----end workload info-----\n");
    fflush(stdout);
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();

    pthread_barrier_wait(&go);
    work(0);
    pthread_join(t, NULL);

    printf("Stop tracing\n");
    fflush(stdout);
    return 0;
}
