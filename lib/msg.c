/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *program = "memory_tracer";
static bool debug_on;

void msg_set_program(const char *name)
{
    program = name;
}

const char *msg_program(void)
{
    return program;
}

void msg_set_debug(bool on)
{
    debug_on = on;
}

bool msg_debug(void)
{
    return debug_on;
}

/* "BEFORE<text>AFTER\n" (AFTER may be NULL), written with one call so that
 * concurrent writers do not interleave. */
static void print_line(const char *before, const char *after,
                       const char *fmt, va_list ap)
{
    char *text;
    if (vasprintf(&text, fmt, ap) < 0) {
        fprintf(stderr, "%s(out of memory)\n", before);
        return;
    }
    fprintf(stderr, "%s%s%s\n", before, text, after ? after : "");
    free(text);
}

static void print_error(const char *why, const char *fmt, va_list ap)
{
    char prefix[256], suffix[512];
    snprintf(prefix, sizeof(prefix), "%s: ", program);
    if (why) {
        snprintf(suffix, sizeof(suffix), ": %s", why);
    }
    print_line(prefix, why ? suffix : NULL, fmt, ap);
}

void error_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(NULL, fmt, ap);
    va_end(ap);
}

void perror_msg(const char *fmt, ...)
{
    const char *why = strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    print_error(why, fmt, ap);
    va_end(ap);
}

void error_msg_and_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(NULL, fmt, ap);
    va_end(ap);
    exit(1);
}

void debug_msg(const char *fmt, ...)
{
    if (!debug_on) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    print_line("---", "---", fmt, ap);
    va_end(ap);
}
