/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unit tests' one assertion: prints the line tests/run.sh counts
 * ("PASS: name" or "FAIL: name: why") and remembers failures for the exit
 * status (return check_failures ? 1 : 0 from main).
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(name, cond) do { \
        if (cond) { \
            printf("PASS: %s\n", name); \
        } else { \
            printf("FAIL: %s: %s (line %d)\n", name, #cond, __LINE__); \
            check_failures++; \
        } \
    } while (0)

#endif /* TESTS_UNIT_CHECK_H */
