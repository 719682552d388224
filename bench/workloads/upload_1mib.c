/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upload_1mib: a workload that does nothing but is 1 MiB larger than
 * true_workload, so timing one whole run of each gives the upload rate of
 * the host-to-guest channel.  The pad is initialised data (so it is in the
 * file, not in .bss); main reads it so the linker keeps it.
 */
#include <stdint.h>

#define PAD_BYTES (1u << 20)

static volatile const uint8_t pad[PAD_BYTES] = { 1 };

int main(int argc, char **argv)
{
    (void)argv;
    return pad[(unsigned)argc % PAD_BYTES] == 7;
}
