/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two-thread workload for multi-vCPU tracing (--guest_num_of_vCPUs 2):
 * thread k (the main thread is thread 0) pins itself to CPU k with
 * sched_setaffinity() before "Ready to trace", then, once Enter has come,
 * makes a fixed number of accesses to its own page-aligned, pre-touched
 * 16 KiB buffer by inline assembly (so the compiler adds or removes none):
 *
 *   thread 0: 3000 4-byte loads at +0, 1000 8-byte stores at +8
 *   thread 1: 5000 4-byte loads at +0, 2000 8-byte stores at +8
 *
 * Every record in buffer k must carry vCPU k.  Workload info:
 * "ADDR0 LEN ADDR1 LEN".  A guest with fewer than 2 CPUs makes it fail
 * (exit 2, before "Ready to trace") with a message saying so.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEN 16384

static unsigned char buf[2][LEN] __attribute__((aligned(4096)));
static const int loads[2] = { 3000, 5000 };
static const int stores[2] = { 1000, 2000 };
static pthread_barrier_t pinned, go;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0 ||
        sched_getcpu() != cpu) {
        printf("gmbeoo_threads_workload: cannot run on CPU %d (the guest "
               "needs 2 vCPUs: --guest_num_of_vCPUs 2)\n", cpu);
        fflush(stdout);
        _exit(2);
    }
}

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
        printf("gmbeoo_threads_workload: pthread_create failed\n");
        return 2;
    }
    pthread_barrier_wait(&pinned);
    printf("-----begin workload info-----");
    printf("%p %d %p %d", (void *)buf[0], LEN, (void *)buf[1], LEN);
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
