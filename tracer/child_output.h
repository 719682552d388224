/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a child prints on a pipe to us (the analysis tool's stdout, a native
 * workload's stdout and stderr), kept whole so that we can wait for a text
 * in it, expect(1) style: child_output_find() searches from the position
 * after the last match.
 */
#ifndef MEMORY_TRACER_CHILD_OUTPUT_H
#define MEMORY_TRACER_CHILD_OUTPUT_H

#include <glib.h>
#include <stdbool.h>

typedef struct ChildOutput {
    int fd;                 /* the pipe's read end, non-blocking; -1: none */
    bool eof;               /* the child closed it (or reading failed) */
    GString *text;          /* everything read so far */
    gsize pos;              /* child_output_find() searches from here */
} ChildOutput;

/* Take @fd (made non-blocking). */
void child_output_init(ChildOutput *o, int fd);

/* Read what is there now, without blocking. */
void child_output_pump(ChildOutput *o);

/* Find @text at or after the search position; on success put the output
 * before it in *@before (may be NULL; NUL-terminated, *@before_len bytes
 * when that is not NULL: the output may hold NUL bytes) and move past it. */
bool child_output_find(ChildOutput *o, const char *text, char **before,
                       gsize *before_len);

/* Close the pipe and free the text. */
void child_output_clear(ChildOutput *o);

#endif /* MEMORY_TRACER_CHILD_OUTPUT_H */
