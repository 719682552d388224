/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memory_tracer's command line: the original memory_tracer.py's options,
 * with the same names (underscores; dashed spellings are aliases), the same
 * mutually exclusive groups and the same validation messages.
 *
 * options_parse() only reads argv.  options_validate() checks the file
 * system and resolves paths (the embedded guest when no positional
 * arguments are given).  Both print nothing: they return an OptionsError
 * whose message is one line and whose exit code is 2 for usage errors
 * (argparse's convention) and 1 for failed checks.
 */
#ifndef MEMORY_TRACER_OPTIONS_H
#define MEMORY_TRACER_OPTIONS_H

#include <glib.h>
#include <stdbool.h>

#include "trace_file.h"

typedef enum {
    TRACE_TO_ANALYSIS_TOOL,     /* --analysis_tool_path */
    TRACE_TO_FIFO,              /* --trace_fifo_path */
    TRACE_TO_FILE,              /* --trace_file_path (zstd trace file) */
    TRACE_NONE,                 /* --dont_trace */
    TRACE_NATIVE,               /* --dont_use_qemu */
} TraceMode;

typedef struct Options {
    /* Positional arguments, as given (NULL when none were given). */
    char *guest_image_path;
    char *snapshot_name;
    char *qemu_with_GMBEOO_path;

    char *workload_path_on_guest;   /* exactly one of these two */
    char *workload_path_on_host;

    TraceMode mode;
    char *analysis_tool_path;
    char *trace_fifo_path;
    char *trace_file_path;          /* absolute after options_validate() */

    bool has_timeout;
    double timeout;                 /* seconds */
    bool dont_add_communications;

    bool trace_only_cpl3;
    long log_of_block_len;
    long log_of_tracing_ratio;
    bool print_trace_info;
    bool dont_use_nographic;
    bool dont_exit_qemu_when_done;
    bool has_guest_ram;             /* --guest_RAM_in_MBs was given */
    long guest_ram_mb;              /* 0 unless given or from guest.conf */
    bool has_num_vcpus;             /* --guest_num_of_vCPUs was given */
    long num_vcpus;                 /* -smp: given, or the snapshot's */
    bool verbose;
    char *report_json;              /* --report_json PATH (absolute), or NULL */
    char **workload_args;           /* after "--": argv[1...]; NULL: none */
    char **copy_to_guest;           /* --copy_to_guest, in order; NULL: none */
    char *workload_output_path;     /* absolute after options_validate() */
    int record_format;              /* GmbeooRecordFormat, default gmbeoo16 */
    TraceCodec trace_file_codec;    /* default TRACE_CODEC_DEFAULT */
    bool has_trace_file_codec;      /* --trace_file_codec was given */
    bool analysis_transport_fifo;   /* --analysis_transport fifo: never */
                                    /*   offer the shared rings */
    bool has_analysis_transport;    /* --analysis_transport was given */

    bool help;
    bool version;

    /* Filled by options_validate(). */
    bool embedded_guest;            /* no positional arguments */
    char *qemu_binary;              /* the emulator to run */
    char *firmware_dir;             /* for -L, or NULL */
    char *guest_conf_path;          /* guest.conf (embedded guest, or one
                                     * beside the given image), or NULL */
} Options;

typedef struct OptionsError {
    int exit_code;                  /* 2: usage error, 1: failed check */
    char *message;                  /* one line, no trailing newline */
} OptionsError;

/* Parse argv.  On failure returns false and fills @error. */
bool options_parse(Options *o, int argc, char **argv, OptionsError *error);

/* Check paths and ranges, resolve the emulator, firmware and guest. */
bool options_validate(Options *o, OptionsError *error);

void options_clear(Options *o);

/* Fill @e (exit code @code, the message) and return false (options.c and
 * options_validate.c call it by the short name fail()). */
bool options_fail(OptionsError *e, int code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void options_error_clear(OptionsError *e);

/* The --help text. */
const char *options_help_text(void);
const char *options_usage_line(void);

/* The directory holding the running binary (/proc/self/exe), or NULL. */
char *options_self_dir(void);

#endif /* MEMORY_TRACER_OPTIONS_H */
