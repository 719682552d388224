/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memory_tracer: trace every guest data access of a workload's marked
 * region under the patched QEMU.  See memory_tracer(1) and --help.
 */
#include <stdio.h>

#include "msg.h"
#include "options.h"
#include "report_json.h"
#include "runtime.h"
#include "session.h"
#include "version.h"

int main(int argc, char **argv)
{
    Options o;
    OptionsError e;
    msg_set_program("memory_tracer");
    if (!options_parse(&o, argc, argv, &e)) {
        error_msg("error: %s (see --help)", e.message);
        int code = e.exit_code;
        options_error_clear(&e);
        options_clear(&o);
        return code;
    }
    if (o.help) {
        fputs(options_usage_line(), stdout);
        fputs(options_help_text(), stdout);
        options_clear(&o);
        return 0;
    }
    if (o.version) {
        printf("memory_tracer %s\n", MEMORY_TRACER_VERSION);
        options_clear(&o);
        return 0;
    }
    report_json_start(argc, argv);
    if (!options_validate(&o, &e)) {
        error_msg("%s", e.message);
        int code = report_json_finish(&o, NULL, e.message, e.exit_code);
        options_error_clear(&e);
        options_clear(&o);
        return code;
    }
    msg_set_debug(o.verbose);
    runtime_signals_install();
    int status = o.mode == TRACE_NATIVE ? native_run(&o) : session_run(&o);
    options_clear(&o);
    return status;
}
