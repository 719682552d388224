/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "workload.h"

#include <string.h>

/* The timeout as Python printed the float: "4.0", "0.5", "2.25". */
static char *timeout_text(double t)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(buf, sizeof(buf), t);
    if (!strpbrk(buf, ".eEn")) {
        return g_strconcat(buf, ".0", NULL);
    }
    return g_strdup(buf);
}

char *workload_inner_command(const Options *o, bool native)
{
    g_autofree char *timeout = NULL;
    if (o->has_timeout) {
        g_autofree char *t = timeout_text(o->timeout);
        timeout = g_strdup_printf("timeout %s ", t);
    }
    const char *prefix = timeout ? timeout : "";

    if (!native && o->workload_path_on_host) {
        return g_strdup_printf("%s%s", prefix, GUEST_EXECUTABLE2);
    }
    /* A guest-resident workload, or a native run of the host file: run it
     * from its own directory.  The path is quoted for the guest's sh. */
    const char *path = native ? o->workload_path_on_host
                              : o->workload_path_on_guest;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *qdir = g_shell_quote(dir);
    g_autofree char *qpath = g_shell_quote(path);
    return g_strdup_printf("(cd %s && %s%s)", qdir, prefix, qpath);
}

char *workload_script(const Options *o, bool native)
{
    g_autofree char *inner = workload_inner_command(o, native);
    if (o->dont_add_communications) {
        /* exec, so the helper sees the workload's own exit (a crash shows
         * as its signal, not as the shell's status). */
        const char *path = native ? o->workload_path_on_host
                                  : o->workload_path_on_guest;
        if (!native && o->workload_path_on_host) {
            return g_strdup("#!/bin/sh\nexec " GUEST_EXECUTABLE2 "\n");
        }
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *qdir = g_shell_quote(dir);
        g_autofree char *qpath = g_shell_quote(path);
        return g_strdup_printf("#!/bin/sh\ncd %s && exec %s\n", qdir,
                               qpath);
    }
    /* `read` of a whole line works in busybox ash (guest, raw tty) and in
     * dash (native, a pipe) alike; Enter is a single "\n". */
    return g_strdup_printf(
        "#!/bin/sh\n"
        "echo '" MARKER_INFO_BEGIN "'\n"
        "echo '" MARKER_INFO_END "'\n"
        "echo '" MARKER_READY_TO_TRACE "'\n"
        "read -r memory_tracer_enter\n"
        "%s\n"
        "memory_tracer_status=$?\n"
        "echo '" MARKER_STOP_TRACING "'\n"
        "exit $memory_tracer_status\n", inner);
}

char **workload_info_tokens(const char *info)
{
    GPtrArray *tokens = g_ptr_array_new();
    const char *p = info;
    while (*p) {
        while (*p && g_ascii_isspace(*p)) {
            p++;
        }
        const char *start = p;
        while (*p && !g_ascii_isspace(*p)) {
            p++;
        }
        if (p > start) {
            g_ptr_array_add(tokens, g_strndup(start, p - start));
        }
    }
    g_ptr_array_add(tokens, NULL);
    return (char **)g_ptr_array_free(tokens, FALSE);
}
