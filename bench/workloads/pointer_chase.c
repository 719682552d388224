/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pointer_chase: a cache-unfriendly load chain.  Before the traced region it
 * links `nodes` pointer-sized slots into one random cycle (Sattolo's
 * shuffle, fixed seed); the region then follows the cycle for `steps` loads,
 * each depending on the previous one, so neither the host cache nor QEMU's
 * TLB gets any help from locality.
 *
 * usage: pointer_chase [nodes] [steps]   (defaults: CHASE_NODES, CHASE_STEPS)
 * Prints its own markers (workload info: the array address and its size in
 * bytes); run it with --dont_add_communications_with_host_to_workload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Defaults; the build sets them per preset because the CLI passes no argv. */
#ifndef CHASE_NODES
#define CHASE_NODES (1ul << 20)
#endif
#ifndef CHASE_STEPS
#define CHASE_STEPS 20000000
#endif

static unsigned long arg(int argc, char **argv, int i, unsigned long dflt)
{
    return argc > i ? strtoul(argv[i], NULL, 0) : dflt;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)   /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

int main(int argc, char **argv)
{
    unsigned long nodes = arg(argc, argv, 1, CHASE_NODES);
    unsigned long steps = arg(argc, argv, 2, CHASE_STEPS);
    void **slot = malloc(nodes * sizeof(*slot));
    unsigned long *perm = malloc(nodes * sizeof(*perm));

    if (slot == NULL || perm == NULL || nodes < 2) {
        fprintf(stderr, "pointer_chase: bad size or out of memory\n");
        return 1;
    }
    for (unsigned long i = 0; i < nodes; i++) {
        perm[i] = i;
    }
    for (unsigned long i = nodes - 1; i > 0; i--) {   /* one single cycle */
        unsigned long j = rng() % i;
        unsigned long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (unsigned long i = 0; i < nodes; i++) {
        slot[perm[i]] = &slot[perm[(i + 1) % nodes]];
    }
    free(perm);

    printf("-----begin workload info-----\n%p %lu\n-----end workload info-----\n",
           (void *)slot, (unsigned long)(nodes * sizeof(*slot)));
    printf("Ready to trace. Press enter to continue\n");
    fflush(stdout);
    getchar();
    void **p = slot;
    for (unsigned long s = 0; s < steps; s++) {
        p = (void **)*p;
    }
    printf("Stop tracing\n");
    fflush(stdout);
    /* Keep the chain's end alive so the loop is not optimised away. */
    return p == NULL ? 2 : 0;
}
