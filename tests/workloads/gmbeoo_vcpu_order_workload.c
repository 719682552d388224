/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two pinned threads streaming stores, for checking per-vCPU program order
 * in a multi-vCPU trace (--guest_num_of_vCPUs 2): thread k (the main thread
 * is thread 0) pins itself to CPU k, then, once Enter has come, makes
 * PASSES passes over its own page-aligned, pre-touched 1 MiB buffer, each
 * pass one 8-byte store to every element in increasing order (inline
 * assembly: the loop's only memory access).  Both threads run at once, so
 * the two vCPUs fill their rings together and each ring wraps (2 x 5.2 M
 * records with 4 M-record rings).
 *
 * In the stream, the records in buffer k must all carry vCPU k and their
 * offsets must be 0, 8, ..., LEN - 8, PASSES times over, in that order.
 * Workload info: "ADDR0 LEN ADDR1 LEN PASSES".  Exit 2 before "Ready to
 * trace" on a guest with fewer than 2 CPUs.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEN (1 << 20)
#define PASSES 40

static unsigned char buf[2][LEN] __attribute__((aligned(4096)));
static pthread_barrier_t pinned, go;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0 ||
        sched_getcpu() != cpu) {
        printf("gmbeoo_vcpu_order_workload: cannot run on CPU %d (the "
               "guest needs 2 vCPUs: --guest_num_of_vCPUs 2)\n", cpu);
        fflush(stdout);
        _exit(2);
    }
}

static void work(int k)
{
    for (int p = 0; p < PASSES; p++) {
        unsigned char *q = buf[k];

        __asm__ volatile("mov %[n], %%ecx\n1:\n\tmovq %%rax, (%%rdi)\n\t"
                         "add $8, %%rdi\n\tdec %%ecx\n\tjnz 1b"
                         : "+D"(q) : [n] "r"(LEN / 8)
                         : "rax", "rcx", "memory", "cc");
    }
}

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
        printf("gmbeoo_vcpu_order_workload: pthread_create failed\n");
        return 2;
    }
    pthread_barrier_wait(&pinned);
    printf("-----begin workload info-----");
    printf("%p %d %p %d %d", (void *)buf[0], LEN, (void *)buf[1], LEN, PASSES);
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
