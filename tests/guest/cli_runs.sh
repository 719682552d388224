#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# memory_tracer end to end, without tracing (the embedded guest, untraced
# QEMU, native runs): the positional/default forms, host and guest
# workloads, own markers and odd-spaced info, --timeout, a crashing
# workload, SIGINT/SIGTERM mid-run, --dont_exit_qemu_when_done.  After each
# run: no runtime dir and no process left, no CR on stdout.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

if ! mt_have_guest; then
    skip cli_runs "the embedded guest or QEMU is not built"
    exit 0
fi

# -- /bin/date on the guest, every positional form -------------------------
only_duration() {
    local name=$1
    mt_ok "$name" || return
    if grep -qv '^tracing_duration_in_milliseconds: [0-9]\+$' "$MT_OUT" ||
       [ "$(wc -l < "$MT_OUT")" != 1 ]; then
        fail "$name" "stdout is not just the duration line: $(head -c 300 "$MT_OUT")"
        return
    fi
    pass "$name"
}
mt_run --workload_path_on_guest /bin/date --dont_trace
only_duration guest_date_embedded_default
(cd / && mt_run --workload-path-on-guest /bin/date --dont-trace \
    "$top/build/guest/guest.qcow2" ready_for_memory_tracer "$BIN" && only_duration positional_bin_dir)
mt_run --workload_path_on_guest /bin/date --dont_trace \
    "$top/build/guest/guest.qcow2" ready_for_memory_tracer "$QEMU_BIN"
only_duration positional_emulator_binary
mt_run --workload_path_on_guest /bin/date --dont_trace \
    "$top/build/guest/guest.qcow2" ready_for_memory_tracer "$top/build"
only_duration positional_build_dir
mt_run --workload_path_on_guest /bin/date --dont_trace \
    "$top/build/guest/guest.qcow2" no_such_snapshot "$BIN"
if [ "$MT_RC" = 1 ] && [ "$(wc -l < "$MT_ERR")" = 1 ] && [ -z "$MT_LEAK" ]; then
    pass wrong_snapshot_fails_cleanly
else
    fail wrong_snapshot_fails_cleanly "rc=$MT_RC leak=$MT_LEAK err=$(head -c 300 "$MT_ERR")"
fi

# -- host workloads, own markers, odd spacing -------------------------------
mt_run --workload_path_on_host "$WL/dummy_workload_with_funny_test_info" \
    --dont_add_communications_with_host_to_workload --dont_trace
if mt_ok funny_info; then
    info=$(sed -n '2p' "$MT_OUT" | tr -s ' \t' ' ')
    if [ "$(head -1 "$MT_OUT")" = "workload info:" ] &&
       [ "$(awk '/^workload info:$/{f=1;next} /^tracing_duration/{f=0} f' "$MT_OUT" | tr -s ' \t\n' ' ' | sed 's/ $//')" = "arg2 arg3 arg4 arg5 arg6" ]; then
        pass funny_info
    else
        fail funny_info "unexpected stdout: $(head -c 300 "$MT_OUT")"
    fi
fi
mt_run --workload_path_on_host "$WL/simple_user_memory_intensive_workload" \
    --dont_add_communications_with_host_to_workload --dont_trace
if mt_ok own_markers_host; then
    if sed -n 2p "$MT_OUT" | grep -q '^0x[0-9a-f]\+$' &&
       sed -n 3p "$MT_OUT" | grep -q '^tracing_duration_in_milliseconds: [0-9]\+$'; then
        pass own_markers_host
    else
        fail own_markers_host "unexpected stdout: $(head -c 300 "$MT_OUT")"
    fi
fi
mt_run --workload_path_on_host "$WL/empty_workload.sh" --dont_trace
only_duration wrapped_empty_host_workload

# -- --timeout: the wrapper's timeout ends the workload, the run reports ----
mt_run --workload_path_on_host "$WL/sleep_forever_workload.sh" --timeout 4 --dont_trace
if mt_ok timeout; then
    ms=$(mt_value tracing_duration_in_milliseconds)
    if [ "$ms" -ge 3800 ] && [ "$ms" -le 25000 ]; then
        pass timeout
    else
        fail timeout "duration $ms ms not in [3800, 25000]"
    fi
fi

# -- a workload that crashes before "Stop tracing": reported, exit 139 --------
mt_run --workload_path_on_host "$WL/crashing_workload" \
    --dont_add_communications_with_host_to_workload --dont_trace
if [ "$MT_RC" = 139 ] && [ "$(wc -l < "$MT_ERR")" = 1 ] &&
   grep -q 'killed by signal 11' "$MT_ERR" && [ -z "$MT_LEAK" ] &&
   grep -q '^tracing_duration_in_milliseconds: ' "$MT_OUT"; then
    pass crashing_workload
else
    fail crashing_workload "rc=$MT_RC leak=$MT_LEAK err=$(head -c 300 "$MT_ERR")"
fi

# -- native runs -------------------------------------------------------------
mt_run --workload_path_on_host "$WL/simple_user_memory_intensive_workload" \
    --dont_add_communications_with_host_to_workload --dont_use_qemu
if mt_ok native && sed -n 1p "$MT_OUT" | grep -q '^workload info:$' &&
   sed -n 3p "$MT_OUT" | grep -q '^tracing_duration_in_milliseconds: [0-9]\+$'; then
    pass native
else
    [ "$MT_RC" = 0 ] && fail native "unexpected stdout: $(head -c 300 "$MT_OUT")"
fi
mt_run --workload_path_on_host "$WL/sleep_forever_workload.sh" --timeout 1 --dont_use_qemu
if mt_ok native_timeout; then
    ms=$(mt_value tracing_duration_in_milliseconds)
    [ "$ms" -ge 900 ] && [ "$ms" -le 10000 ] && pass native_timeout ||
        fail native_timeout "duration $ms ms"
fi

# -- signals mid-run: clean up, exit 128 + signal ----------------------------
for sig in INT TERM; do
    dir=$MT_TEST_TMP/sig$sig; mkdir -p "$dir"
    TMPDIR=$dir "$MT" --workload_path_on_host "$WL/sleep_forever_workload.sh" \
        --dont_trace -v >"$dir.out" 2>"$dir.err" </dev/null &
    pid=$!
    for _ in $(seq 240); do
        grep -q 'expecting "Stop tracing"' "$dir.err" && break
        sleep 0.25
    done
    sleep 0.5
    kill -"$sig" "$pid"
    wait "$pid"; rc=$?
    want=$([ $sig = INT ] && echo 130 || echo 143)
    MT_TEST_TMP_SAVE=$MT_TEST_TMP
    left=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
    procs=$(pgrep -f -- "$dir/" | grep -v "^$$\$")
    if [ "$rc" = "$want" ] && [ -z "$left" ] && [ -z "$procs" ] &&
       grep -q "interrupted by SIG$sig" "$dir.err"; then
        pass "sig$sig"
    else
        fail "sig$sig" "rc=$rc (want $want) left=$left procs=$procs err=$(tail -c 300 "$dir.err")"
    fi
done

# -- --dont_exit_qemu_when_done: HMP on stdin --------------------------------
dir=$MT_TEST_TMP/monitor; mkdir -p "$dir"
printf 'info status\nquit\n' | TMPDIR=$dir "$MT" --workload_path_on_guest /bin/true \
    --dont_trace --dont_exit_qemu_when_done >"$dir.out" 2>"$dir.err"
rc=$?
left=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
procs=$(pgrep -f -- "$dir/" | grep -v "^$$\$")
if [ $rc = 0 ] && grep -q '^tracing_duration_in_milliseconds:' "$dir.out" &&
   grep -q 'VM status: paused' "$dir.out" && [ -z "$left" ] && [ -z "$procs" ]; then
    pass dont_exit_qemu_when_done
else
    fail dont_exit_qemu_when_done "rc=$rc out=$(head -c 200 "$dir.out") err=$(tail -c 200 "$dir.err")"
fi
