#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The original tool's test suite (ORIGINAL_BEHAVIOUR §11, tests 1-12) with
# its exact assertions, run through memory_tracer's command line on the
# embedded guest.  Tests 3-5 (argument validation) live in
# tests/unit/cli_validation.sh; they are repeated here in brief.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

if ! mt_have_gmbeoo; then
    skip original_suite "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
USER_WL=$WL/simple_user_memory_intensive_workload
NOCOMM=--dont_add_communications_with_host_to_workload

# 1. test_analysis_tool_cmd_args
mt_run --workload_path_on_host "$WL/dummy_workload_with_funny_test_info" $NOCOMM \
    --analysis_tool_path "$SA"
if mt_ok analysis_tool_cmd_args; then
    python3 - "$MT_OUT" "$SA" <<'EOF' && pass analysis_tool_cmd_args || fail analysis_tool_cmd_args "see above"
import sys
out = open(sys.argv[1]).read()
assert out.startswith('workload info:'), 'stdout does not start with workload info:'
args = out.split('analysis cmd args:', 1)[1].split('-----end analysis output-----')[0]
args = args.strip().split(',')
assert args[0] == sys.argv[2], args
assert args[1].endswith('trace_fifo'), args
assert args[2:7] == ['arg2', 'arg3', 'arg4', 'arg5', 'arg6'], args
assert args[7:] == [''], args
EOF
fi

# 2. test_dont_use_nographic
mt_run --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" --dont_use_nographic
mt_ok dont_use_nographic && { err=$(mt_check_mem_accesses 2>&1) && pass dont_use_nographic || fail dont_use_nographic "$err"; }

# 3. test_invalid_combination_of_trace_fifo_and_analysis_tool_cmd_args
mt_run --workload_path_on_host "$USER_WL"
a=$MT_RC
mt_run --workload_path_on_host "$USER_WL" --analysis_tool_path "$SA" --trace_fifo_path /tmp
[ "$a" = 2 ] && [ "$MT_RC" = 2 ] && pass invalid_combination || fail invalid_combination "rc $a, $MT_RC"

# 6. test_sampling
sampling() {
    local b=$1 r=$2 check=$3 name=sampling_${1}_$2
    mt_run --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" \
        --print_trace_info --verbose --log_of_GMBE_block_len "$b" --log_of_GMBE_tracing_ratio "$r"
    mt_ok "$name" || return
    local ratio written
    ratio=$(mt_value 'actual_tracing_ratio (i.e. num_of_GMBE_events_since_enabling_GMBEOO / num_of_events_written_to_trace_buf)')
    written=$(mt_value num_of_events_written_to_trace_buf)
    if eval "$check"; then
        pass "$name"
    else
        fail "$name" "ratio=$ratio written=$written (want $check)"
    fi
}
sampling 3 4 '[ "$ratio" -ge 14 ] && [ "$ratio" -le 18 ]'
sampling 4 3 '[ "$ratio" -ge 7 ] && [ "$ratio" -le 9 ]'
sampling 61 3 '[ "$ratio" = 1 ]'
sampling 64 0 '[ "$ratio" = 1 ]'
sampling 0 64 '[ "$written" = 1 ]'
sampling 3 61 '[ "$written" = 8 ]'

# 7. test_timeout (traced, with the wrapper)
mt_run --workload_path_on_host "$WL/sleep_forever_workload.sh" --timeout 4 --analysis_tool_path "$SA"
if mt_ok timeout_traced; then
    ms=$(mt_value tracing_duration_in_milliseconds)
    [ "$ms" -ge 3800 ] && [ "$ms" -le 25000 ] && pass timeout_traced ||
        fail timeout_traced "duration $ms ms not in [3800, 25000]"
    [ "$ms" -gt 10000 ] && echo "note: timeout_traced took $ms ms"
fi

# 8. test_trace_fifo_path_cmd_arg: a reader the test starts; losslessness
fifo=$MT_TEST_TMP/fifo; mkfifo "$fifo"
tool_out=$MT_TEST_TMP/tool.out
"$SA" "$fifo" > "$tool_out" &
tool=$!; MT_BG_PIDS+=("$tool")
for _ in $(seq 50); do grep -q 'Ready to analyze' "$tool_out" && break; sleep 0.2; done
mt_run --workload_path_on_host "$USER_WL" $NOCOMM --trace_fifo_path "$fifo" --print_trace_info
if mt_ok trace_fifo_path; then
    kill -USR1 "$tool"
    for _ in $(seq 50); do grep -q -- '-----end analysis output-----' "$tool_out" && break; sleep 0.2; done
    written=$(mt_value num_of_events_written_to_trace_buf)
    read_by_tool=$(awk '/^num_of_mem_accesses:/ {print $2}' "$tool_out")
    if [ -n "$written" ] && [ "$written" = "$read_by_tool" ] && [ "$written" -gt 0 ]; then
        pass trace_fifo_path_lossless
    else
        fail trace_fifo_path_lossless "written to buf $written, read by the tool $read_by_tool"
    fi
fi
kill -KILL "$tool" 2>/dev/null; wait "$tool" 2>/dev/null

# 9. test_trace_only_CPL3_code_GMBE
mt_run --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" --trace_only_CPL3_code_GMBE
if mt_ok trace_only_CPL3; then
    err=$(mt_check_mem_accesses 2>&1)
    non=$(mt_value num_of_mem_accesses_by_non_CPL3_code)
    [ -z "$err" ] && [ "$non" = 0 ] && pass trace_only_CPL3 ||
        fail trace_only_CPL3 "$err non_CPL3=$non"
fi

# 10. test_user_mem_accesses
mt_run --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA"
mt_ok user_mem_accesses && { err=$(mt_check_mem_accesses 2>&1) && pass user_mem_accesses || fail user_mem_accesses "$err"; }

# 11. test_workload_path_on_guest (with --print_trace_info: labels)
mt_run --workload_path_on_guest /bin/date --analysis_tool_path "$SA" --print_trace_info
if mt_ok workload_path_on_guest; then
    if grep -q '^trace info:$' "$MT_OUT" &&
       grep -q '^num_of_GMBE_events_since_enabling_GMBEOO: [0-9]\+$' "$MT_OUT" &&
       grep -q '^num_of_events_written_to_trace_buf: [0-9]\+$' "$MT_OUT" &&
       grep -q '^actual_tracing_ratio (i.e. num_of_GMBE_events_since_enabling_GMBEOO / num_of_events_written_to_trace_buf): [0-9]\+$' "$MT_OUT"; then
        pass workload_path_on_guest
    else
        fail workload_path_on_guest "trace info labels missing: $(grep -v counter_arr -A0 "$MT_OUT" | cut -c1-100 | tail -12)"
    fi
fi

# 12. test_workload_without_info
mt_run --workload_path_on_host "$WL/empty_workload.sh" --analysis_tool_path "$SA"
if mt_ok workload_without_info; then
    python3 - "$MT_OUT" <<'EOF' && pass workload_without_info || fail workload_without_info "stdout: $(head -c 200 "$MT_OUT")"
import re, sys
out = open(sys.argv[1]).read()
sys.exit(0 if re.match(r'^tracing_duration_in_milliseconds:.*analysis output:.*analysis cmd args:.*', out, re.S) else 1)
EOF
fi
