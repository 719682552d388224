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

char *workload_inner_command(const Options *o, bool native,
                             const char *native_dir)
{
    g_autofree char *timeout = NULL;
    if (o->has_timeout) {
        g_autofree char *t = timeout_text(o->timeout);
        timeout = g_strdup_printf("timeout %s ", t);
    }
    const char *prefix = timeout ? timeout : "";

    /* The arguments are the script's own, forwarded as "$@": they never
     * pass through the shell's parser. */
    if (!native && o->workload_path_on_host) {
        return g_strdup_printf("%s" GUEST_EXECUTABLE2 " \"$@\"", prefix);
    }
    if (!native) {
        /* The guest helper starts us in the run's working directory. */
        g_autofree char *qpath = g_shell_quote(o->workload_path_on_guest);
        return g_strdup_printf("%s%s \"$@\"", prefix, qpath);
    }
    /* Natively: from the working directory that holds the copied files,
     * or, as the original, from the workload's own directory. */
    const char *path = o->workload_path_on_host;
    g_autofree char *dir = native_dir ? g_strdup(native_dir)
                                      : g_path_get_dirname(path);
    g_autofree char *qdir = g_shell_quote(dir);
    g_autofree char *qpath = g_shell_quote(path);
    return g_strdup_printf("(cd %s && %s%s \"$@\")", qdir, prefix, qpath);
}

char *workload_script(const Options *o, bool native, const char *native_dir)
{
    g_autofree char *inner = workload_inner_command(o, native, native_dir);
    if (o->dont_add_communications) {
        /* exec, so the helper sees the workload's own exit (a crash shows
         * as its signal, not as the shell's status).  Descriptor 3 (the
         * guest helper's output spool) is not the workload's. */
        if (!native && o->workload_path_on_host) {
            return g_strdup("#!/bin/sh\nexec " GUEST_EXECUTABLE2
                            " \"$@\" 3>&-\n");
        }
        if (!native) {
            g_autofree char *qpath = g_shell_quote(o->workload_path_on_guest);
            return g_strdup_printf("#!/bin/sh\nexec %s \"$@\" 3>&-\n", qpath);
        }
        const char *path = o->workload_path_on_host;
        g_autofree char *dir = native_dir ? g_strdup(native_dir)
                                          : g_path_get_dirname(path);
        g_autofree char *qdir = g_shell_quote(dir);
        g_autofree char *qpath = g_shell_quote(path);
        return g_strdup_printf("#!/bin/sh\ncd %s && exec %s \"$@\"\n", qdir,
                               qpath);
    }
    /* In the guest the workload's stdout and stderr go to the helper's
     * spool (descriptor 3), sent to the host after it exits: output costs
     * no tty work inside the traced region.  Natively they are the pipe
     * memory_tracer reads anyway.  `read` of a whole line works in
     * busybox ash, dash (the guest's tty, a native pipe) alike; Enter is a
     * single "\n". */
    return g_strdup_printf(
        "#!/bin/sh\n"
        "echo '" MARKER_INFO_BEGIN "'\n"
        "echo '" MARKER_INFO_END "'\n"
        "echo '" MARKER_READY_TO_TRACE "'\n"
        "read -r memory_tracer_enter\n"
        "%s%s\n"
        "memory_tracer_status=$?\n"
        "echo '" MARKER_STOP_TRACING "'\n"
        "exit $memory_tracer_status\n", inner,
        native ? "" : " >&3 2>&3 3>&-");
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
