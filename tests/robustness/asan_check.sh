#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The second half of `make check-asan` (tests/robustness.mk): run the
# ASan+UBSan builds.  Not a test of `make check` (not executable on
# purpose: the runner only runs executable files).
#
# usage: tests/robustness/asan_check.sh ASAN_BUILD UNIT_TEST...
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
abuild=$1; shift
abin=$abuild/bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-asan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0

# sanitizer_clean LOG: no report of ASan, LSan or UBSan in LOG.
sanitizer_clean() {
    ! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$1"
}
verdict() {     # NAME OK WHY LOG
    if [ "$2" = 1 ]; then
        echo "PASS: asan: $1"; passed=$((passed + 1))
    else
        echo "FAIL: asan: $1: $3"
        [ -f "$4" ] && grep -E -A12 'ERROR: |runtime error:' "$4" | head -40 | sed 's/^/    | /'
        failed=$((failed + 1))
    fi
}

# -- unit tests and the shell tests that take BIN ---------------------------
for t in "$@"; do
    log=$tmp/$t.log
    (cd "$top" && BUILD=$abuild "$abuild/tests/unit/$t") >"$log" 2>&1; rc=$?
    ok=0; [ $rc = 0 ] && ! grep -q '^FAIL: ' "$log" && sanitizer_clean "$log" && ok=1
    verdict "$t" $ok "exit $rc, $(grep -c '^FAIL: ' "$log") FAIL lines" "$log"
done
for t in tests/unit/cli_validation.sh tests/unit/tools.sh; do
    log=$tmp/$(basename "$t").log
    (cd "$top" && BIN=$abin bash "$t") >"$log" 2>&1; rc=$?
    ok=0; [ $rc = 0 ] && ! grep -q '^FAIL: ' "$log" && sanitizer_clean "$log" && ok=1
    verdict "$t" $ok "exit $rc: $(grep '^FAIL: ' "$log" | head -3)" "$log"
done

# -- end to end: the ASan memory_tracer and simple_analysis, real QEMU ------
if [ ! -f "$top/build/guest/guest.conf" ] || [ ! -x "$top/build/bin/qemu-system-x86_64" ]; then
    echo "SKIP: asan: end-to-end: the embedded guest or QEMU is not built"
else
    pos=("$top/build/guest/guest.qcow2" ready_for_memory_tracer "$top/build/bin")
    wl=$top/build/tests/workloads
    e2e() {     # NAME WANT_RC ARGS...
        # MEMORY_TRACER_WORKLOAD_DEADLINE: a hang fails in seconds.
        local name=$1 want=$2; shift 2
        local log=$tmp/e2e_$name.log
        (cd "$tmp" && MEMORY_TRACER_PROTOCOL_DEADLINE=20 MEMORY_TRACER_WORKLOAD_DEADLINE=60 "$abin/memory_tracer" "$@" "${pos[@]}") \
            >"$log" 2>&1 </dev/null
        local rc=$? ok=0
        [ $rc = "$want" ] && sanitizer_clean "$log" && ok=1
        verdict "e2e_$name" $ok "exit $rc (want $want): $(tail -c 300 "$log")" "$log"
    }
    e2e traced 0 --workload_path_on_host "$wl/simple_user_memory_intensive_workload" \
        --dont_add_communications_with_host_to_workload \
        --analysis_tool_path "$abin/simple_analysis" --print_trace_info -v
    e2e sampling_cpl3 0 --workload_path_on_host "$wl/dummy_workload_with_funny_test_info" \
        --dont_add_communications_with_host_to_workload \
        --analysis_tool_path "$abin/simple_analysis" --log_of_GMBE_block_len 3 \
        --log_of_GMBE_tracing_ratio 4 --trace_only_CPL3_code_GMBE
    e2e guest_untraced 0 --workload_path_on_guest /bin/date --dont_trace
    e2e wrapped_timeout 0 --workload_path_on_host "$wl/sleep_forever_workload.sh" --timeout 2 \
        --analysis_tool_path "$abin/simple_analysis"
    e2e native 0 --workload_path_on_host "$wl/simple_user_memory_intensive_workload" \
        --dont_add_communications_with_host_to_workload --dont_use_qemu
    e2e crashing_workload 1 --workload_path_on_host "$wl/crashing_workload" \
        --dont_add_communications_with_host_to_workload --analysis_tool_path "$abin/simple_analysis"
    good_pos=("${pos[@]}")
    pos=("$top/build/guest/guest.qcow2" no_such_snapshot "$top/build/bin")
    e2e wrong_snapshot 1 --workload_path_on_guest /bin/true --dont_trace
    pos=("${good_pos[@]}")
    e2e tool_exits_early 1 --workload_path_on_host "$wl/simple_user_memory_intensive_workload" \
        --dont_add_communications_with_host_to_workload --analysis_tool_path /bin/false
fi
echo "check-asan: $passed passed, $failed failed"
[ "$failed" = 0 ]
