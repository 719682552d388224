/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * executable1 as memory_tracer writes it (tracer/workload.c): the
 * original's wrapper lines in order, the inner command for host, guest and
 * native workloads, --timeout's text, quoting, and the info tokens.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "workload.h"

static void check_order(const char *text, const char *const *parts)
{
    const char *at = text;
    for (; *parts; parts++) {
        const char *hit = strstr(at, *parts);
        if (!hit) {
            g_error("\"%s\" missing (or out of order) in:\n%s", *parts, text);
        }
        at = hit + strlen(*parts);
    }
}

static void test_wrapper_host_timeout(void)
{
    Options o = { .workload_path_on_host = "/h/w", .has_timeout = true,
                  .timeout = 4 };
    g_autofree char *s = workload_script(&o, false, NULL);
    /* The arguments are "$@", the output goes to the helper's spool. */
    const char *const order[] = {
        "#!/bin/sh\n", "echo '-----begin workload info-----'\n",
        "echo '-----end workload info-----'\n",
        "echo 'Ready to trace. Press enter to continue'\n", "read ",
        "timeout 4.0 ./executable2 \"$@\" >&3 2>&3 3>&-\n",
        "echo 'Stop tracing'\n", NULL,
    };
    check_order(s, order);
    printf("PASS: wrapper_host_timeout\n");
}

static void test_guest_path_quoted(void)
{
    Options o = { .workload_path_on_guest = "/opt/my dir/w'x",
                  .has_timeout = true, .timeout = 0.5 };
    g_autofree char *inner = workload_inner_command(&o, false, NULL);
    g_assert_cmpstr(inner, ==,
                    "timeout 0.5 '/opt/my dir/w'\\''x' \"$@\"");
    printf("PASS: guest_path_quoted\n");
}

static void test_native_uses_host_path(void)
{
    Options o = { .workload_path_on_host = "/h/w" };
    g_autofree char *inner = workload_inner_command(&o, true, NULL);
    g_assert_cmpstr(inner, ==, "(cd '/h' && '/h/w' \"$@\")");
    g_autofree char *in_work = workload_inner_command(&o, true, "/r/work");
    g_assert_cmpstr(in_work, ==, "(cd '/r/work' && '/h/w' \"$@\")");
    g_autofree char *script = workload_script(&o, true, NULL);
    g_assert_null(strstr(script, ">&3"));   /* natively: the pipe itself */
    printf("PASS: native_uses_host_path\n");
}

static void test_no_communications(void)
{
    Options host = { .workload_path_on_host = "/h/w",
                     .dont_add_communications = true };
    g_autofree char *a = workload_script(&host, false, NULL);
    g_assert_cmpstr(a, ==, "#!/bin/sh\nexec ./executable2 \"$@\" 3>&-\n");
    Options guest = { .workload_path_on_guest = "/bin/date",
                      .dont_add_communications = true };
    g_autofree char *b = workload_script(&guest, false, NULL);
    g_assert_cmpstr(b, ==, "#!/bin/sh\nexec '/bin/date' \"$@\" 3>&-\n");
    g_assert_null(strstr(b, "Ready to trace"));
    printf("PASS: no_communications\n");
}

static void test_info_tokens(void)
{
    g_auto(GStrv) t = workload_info_tokens(" \t\narg2 \t arg3\n\n\t\targ4"
                                           "    arg5\t\n \n arg6 \t\n");
    const char *want[] = { "arg2", "arg3", "arg4", "arg5", "arg6", NULL };
    g_assert_true(g_strv_equal((const char *const *)t, want));
    g_auto(GStrv) none = workload_info_tokens("  \n\t ");
    g_assert_cmpuint(g_strv_length(none), ==, 0);
    /* No shell or Tcl meaning: braces and quotes are plain characters. */
    g_auto(GStrv) odd = workload_info_tokens("{a b} \"c [d]\" $(e)");
    const char *want_odd[] = { "{a", "b}", "\"c", "[d]\"", "$(e)", NULL };
    g_assert_true(g_strv_equal((const char *const *)odd, want_odd));
    printf("PASS: info_tokens\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/workload/wrapper_host_timeout",
                    test_wrapper_host_timeout);
    g_test_add_func("/workload/guest_path_quoted", test_guest_path_quoted);
    g_test_add_func("/workload/native_uses_host_path",
                    test_native_uses_host_path);
    g_test_add_func("/workload/no_communications", test_no_communications);
    g_test_add_func("/workload/info_tokens", test_info_tokens);
    return g_test_run();
}
