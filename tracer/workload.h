/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * executable1: the script the guest helper (or, natively, memory_tracer)
 * runs.  By default it is the original's communications wrapper around the
 * workload; with --dont_add_communications_with_host_to_workload it only
 * runs the workload, which then prints the markers itself.
 */
#ifndef MEMORY_TRACER_WORKLOAD_H
#define MEMORY_TRACER_WORKLOAD_H

#include <glib.h>
#include <stdbool.h>

#include "options.h"

/* The markers of the workload contract. */
#define MARKER_INFO_BEGIN "-----begin workload info-----"
#define MARKER_INFO_END "-----end workload info-----"
#define MARKER_READY_TO_TRACE "Ready to trace. Press enter to continue"
#define MARKER_STOP_TRACING "Stop tracing"

/* Where the guest helper stores the host workload: in the run's working
 * directory, which is the workload's current directory. */
#define GUEST_EXECUTABLE2 "./executable2"
#define GUEST_EXECUTABLE2_NAME "executable2"

/* The command that runs the workload itself (see ORIGINAL_BEHAVIOUR §3),
 * with the script's arguments ("$@") as the workload's.  @native_dir: a
 * native run's working directory (the copied files), or NULL. */
char *workload_inner_command(const Options *o, bool native,
                             const char *native_dir);

/* The whole of executable1 (run with the workload's arguments). */
char *workload_script(const Options *o, bool native, const char *native_dir);

/* Split the workload info into argv tokens (any whitespace, no quoting). */
char **workload_info_tokens(const char *info);

#endif
