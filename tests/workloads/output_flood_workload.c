/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * output_flood_workload MIB STATUS: writes MIB MiB of numbered lines to
 * stdout ("line 00000001 ..." 64 bytes each), then "Error: no such table"
 * and 25 numbered lines to stderr, and exits with STATUS: the workload's
 * output must be saved whole, and its tail shown when it fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1;
    int status = argc > 2 ? atoi(argv[2]) : 0;
    static char buf[1 << 16];
    long lines = mib * (1 << 20) / 64, n = 0;
    while (n < lines) {
        size_t used = 0;
        while (used + 64 <= sizeof(buf) && n < lines) {
            /* 64 bytes: "line " + 8 digits + 50 characters + "\n". */
            static const char text[] =
                " the quick brown fox jumps over the lazy dog .....\n";
            char num[16];
            snprintf(num, sizeof(num), "%08ld", ++n % 100000000);
            memcpy(buf + used, "line ", 5);
            memcpy(buf + used + 5, num, 8);
            memcpy(buf + used + 13, text, 51);
            used += 64;
        }
        if (write(1, buf, used) != (ssize_t)used) {
            return 3;
        }
    }
    for (int i = 1; i <= 25; i++) {
        fprintf(stderr, "stderr line %d\n", i);
    }
    fprintf(stderr, "Error: no such table: t\n");
    return status;
}
