#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Analysis tools that break the contract: each run must fail with one line
# naming what it waited for, exit 1, and leave nothing behind.  Deadlines
# are shortened through MEMORY_TRACER_PROTOCOL_DEADLINE.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

if ! mt_have_guest; then
    skip cli_analysis_tool "the embedded guest or QEMU is not built"
    exit 0
fi
USER_WL=$WL/simple_user_memory_intensive_workload
NOCOMM=--dont_add_communications_with_host_to_workload

tool() {    # tool NAME BODY: a /bin/sh analysis tool
    local path=$MT_TEST_TMP/$1
    printf '#!/bin/sh\n%s\n' "$2" > "$path"
    chmod +x "$path"
    echo "$path"
}

expect_failure() {  # NAME STDERR_REGEX
    local name=$1 want=$2
    if [ "$MT_RC" = 1 ] && [ "$(wc -l < "$MT_ERR")" = 1 ] &&
       grep -Eq "$want" "$MT_ERR" && [ -z "$MT_LEAK" ] && [ ! -s "$MT_OUT" ]; then
        pass "$name"
    else
        fail "$name" "rc=$MT_RC leak=$MT_LEAK stdout=$(head -c 100 "$MT_OUT") stderr=$(head -c 300 "$MT_ERR")"
    fi
}

early=$(tool exits_early 'echo starting; exit 3')
mt_run --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$early"
expect_failure tool_exits_early 'analysis tool exited with status 3.*"Ready to analyze"'

never=$(tool never_ready 'sleep 1000')
MEMORY_TRACER_PROTOCOL_DEADLINE=10 mt_run --workload_path_on_host "$USER_WL" $NOCOMM \
    --analysis_tool_path "$never"
expect_failure tool_never_ready 'timed out after 10 s waiting for "Ready to analyze" from the analysis tool'

# --print_trace_info without tracing prints no trace info.
mt_run --workload_path_on_guest /bin/true --dont_trace --print_trace_info
mt_ok print_trace_info_untraced && { grep -q 'trace info' "$MT_OUT" &&
    fail print_trace_info_untraced "trace info printed" || pass print_trace_info_untraced; }

if ! mt_have_gmbeoo; then
    skip tool_never_opens_fifo "the patched QEMU (gmbeoo-enable) is not built"
    skip tool_never_prints_block "the patched QEMU (gmbeoo-enable) is not built"
    exit 0
fi

no_open=$(tool never_opens 'echo "Ready to analyze"; exec sleep 1000')
MEMORY_TRACER_PROTOCOL_DEADLINE=10 mt_run --workload_path_on_host "$USER_WL" $NOCOMM \
    --analysis_tool_path "$no_open"
expect_failure tool_never_opens_fifo 'waiting for the analysis tool to open the trace FIFO'

# Reads everything, ignores SIGUSR1, never prints the block.
no_block=$(tool never_prints 'trap "" USR1; echo "Ready to analyze"; cat "$1" > /dev/null; exec sleep 1000')
MEMORY_TRACER_PROTOCOL_DEADLINE=10 mt_run --workload_path_on_host "$USER_WL" $NOCOMM \
    --analysis_tool_path "$no_block"
expect_failure tool_never_prints_block 'waiting for "-----begin analysis output-----" from the analysis tool'


# --trace_fifo_path whose FIFO nobody reads: fail fast, not fill the pipe.
lonely=$MT_TEST_TMP/lonely_fifo; mkfifo "$lonely"
MEMORY_TRACER_PROTOCOL_DEADLINE=10 mt_run --workload_path_on_host "$USER_WL" $NOCOMM \
    --trace_fifo_path "$lonely"
expect_failure trace_fifo_without_reader 'waiting for a reader of trace_fifo_path'

# SIGINT while tracing into the analysis tool: everything stopped, 130.
dir=$MT_TEST_TMP/sigint_traced; mkdir -p "$dir"
TMPDIR=$dir "$MT" --workload_path_on_host "$WL/sleep_forever_workload.sh" \
    --analysis_tool_path "$SA" -v "${MT_POS[@]}" >"$dir.out" 2>"$dir.err" </dev/null &
pid=$!
for _ in $(seq 240); do
    grep -q 'expecting "Stop tracing"' "$dir.err" && break
    sleep 0.25
done
sleep 0.5
kill -INT "$pid"
wait "$pid"; rc=$?
left=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
procs=$(pgrep -f -- "$dir/" | grep -v "^$$\$")
if [ "$rc" = 130 ] && [ -z "$left" ] && [ -z "$procs" ] &&
   grep -q 'interrupted by SIGINT while waiting for "Stop tracing"' "$dir.err"; then
    pass sigint_while_tracing
else
    fail sigint_while_tracing "rc=$rc left=$left procs=$procs err=$(tail -c 300 "$dir.err")"
fi
