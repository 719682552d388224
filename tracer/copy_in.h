/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --copy_to_guest HOST_PATH...: the files and directory trees that go into
 * the workload's working directory before the run.  Scanned once when the
 * options are checked (so a missing or unreadable path fails before QEMU
 * starts), packed into the archive stream of the serial protocol's payload
 * 4 (include/memory_tracer/serial_protocol.h), or, natively, copied into a
 * directory.  Each HOST_PATH lands under its own base name; inside a tree
 * symbolic links stay links and permission bits are kept.
 */
#ifndef MEMORY_TRACER_COPY_IN_H
#define MEMORY_TRACER_COPY_IN_H

#include <glib.h>
#include <stdbool.h>

typedef struct CopyEntry {
    char type;                  /* 'f', 'd' or 'l' */
    unsigned mode;              /* permission bits */
    char *host;                 /* where it is read from */
    char *rel;                  /* its path in the working directory */
    guint64 size;               /* 'f': bytes */
    char *target;               /* 'l': the link's text */
} CopyEntry;

typedef struct CopyIn {
    GPtrArray *entries;         /* CopyEntry *, parents first */
    guint64 file_bytes;         /* sum of the files' sizes */
    guint64 need_bytes;         /* what they take in a tmpfs (pages) */
} CopyIn;

/* Scan @paths (NULL-terminated, may be NULL).  @reserved: a name no
 * top-level entry may take (the workload's own file), or NULL. */
CopyIn *copy_in_scan(char *const *paths, const char *reserved, GError **err);

/* The archive stream of every entry (reads the files now). */
GByteArray *copy_in_archive(const CopyIn *c, GError **err);

/* Copy every entry under @dir (a native run). */
bool copy_in_to_dir(const CopyIn *c, const char *dir, GError **err);

void copy_in_free(CopyIn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CopyIn, copy_in_free)

#endif
