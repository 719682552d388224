/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One way for every program of the project to talk on stderr: the program
 * name, errno's words and the exit happen here, so no message writes its
 * "memory_tracer: " by hand.  Plain C and libc (the tools link it too).
 *
 *   error_msg("cannot open %s", path)   -> "PROG: cannot open PATH"
 *   perror_msg("cannot open %s", path)  -> "PROG: cannot open PATH: <errno>"
 *   error_msg_and_die(...)              -> error_msg(), then exit(1)
 *   debug_msg("enabling GMBEOO")        -> "---enabling GMBEOO---" (the
 *                                          original's --verbose style), only
 *                                          after msg_set_debug(true)
 */
#ifndef MEMORY_TRACER_MSG_H
#define MEMORY_TRACER_MSG_H

#include <stdbool.h>

#define MSG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Set once, first thing in main(). */
void msg_set_program(const char *name);
const char *msg_program(void);

void msg_set_debug(bool on);
bool msg_debug(void);

void error_msg(const char *fmt, ...) MSG_PRINTF(1, 2);
void perror_msg(const char *fmt, ...) MSG_PRINTF(1, 2);
void error_msg_and_die(const char *fmt, ...) MSG_PRINTF(1, 2)
    __attribute__((noreturn));
void debug_msg(const char *fmt, ...) MSG_PRINTF(1, 2);

#endif /* MEMORY_TRACER_MSG_H */
