/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prints its argv[1...] as lowercase hex, one "argv[N]=HEX" line each, and
 * "argc=N": what memory_tracer sent after "--" must arrive byte for byte.
 * Built twice: plain (run inside the communications wrapper) and with
 * -DMARKERS (prints the contract's markers itself, for
 * --dont_add_communications_with_host_to_workload).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
#ifdef MARKERS
    printf("-----begin workload info-----\n-----end workload info-----\n"
           "Ready to trace. Press enter to continue\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin)) {
        return 2;
    }
#endif
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) {
        printf("argv[%d]=", i);
        for (const unsigned char *c = (const unsigned char *)argv[i]; *c; c++) {
            printf("%02x", *c);
        }
        printf("\n");
    }
#ifdef MARKERS
    printf("Stop tracing\n");
#endif
    fflush(stdout);
    return 0;
}
