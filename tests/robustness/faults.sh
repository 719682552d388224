#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Faults during a traced run: the analysis tool dies or misbehaves mid-
# stream, the workload crashes or never says "Stop tracing", QEMU is
# SIGKILLed, memory_tracer itself gets SIGTERM/SIGINT/SIGKILL, two runs
# share the image.  Each must end within a bound, with one clear line on
# stderr (or a normal report), and leave no process and no runtime dir.
# (The tool that exits before "Ready to analyze" / never gets ready / never
# opens the FIFO / ignores SIGUSR1, SIGINT while tracing, and the crashing
# workload untraced are in tests/guest/cli_analysis_tool.sh and
# cli_runs.sh; a corrupted upload is rejected in tests/guest/serial_smoke.c,
# at the serial level: the CLI has no hook to corrupt one.)
set -uo pipefail
source "$(dirname "$0")/../guest/mt_lib.bash"

if ! mt_have_gmbeoo; then
    skip faults "the embedded guest or the patched QEMU is not built"
    exit 0
fi
FT=$top/build/tests/robustness-helpers/fault_tool
if [ ! -x "$FT" ]; then
    skip faults "$FT not built"
    exit 0
fi
USER_WL=$WL/simple_user_memory_intensive_workload
LONG_WL=$WL/simple_long_user_memory_intensive_workload
NOCOMM=--dont_add_communications_with_host_to_workload
export MEMORY_TRACER_PROTOCOL_DEADLINE=20

# timed_run MAX_SECONDS ARGS...: mt_run, plus MT_SECS and a time check.
timed_run() {
    local max=$1; shift
    local t0=$SECONDS
    mt_run "$@"
    MT_SECS=$((SECONDS - t0))
    MT_SLOW=
    [ "$MT_SECS" -le "$max" ] || MT_SLOW="took $MT_SECS s > $max s"
}

# expect_failure NAME STDERR_REGEX: exit 1, one line, no leak, in time.
expect_failure() {
    local name=$1 want=$2
    if [ "$MT_RC" = 1 ] && [ "$(grep -c '' "$MT_ERR")" = 1 ] &&
       grep -Eq -- "$want" "$MT_ERR" && [ -z "$MT_LEAK" ] && [ -z "$MT_SLOW" ]; then
        pass "$name"
    else
        fail "$name" "rc=$MT_RC $MT_SLOW leak=$MT_LEAK stderr=$(head -c 400 "$MT_ERR" | tr '\n' '|')"
    fi
}

# ---- the analysis tool dies mid-stream --------------------------------------
# The tool's argv is fixed by the contract (FIFO, info tokens), so each mode
# is a one-line wrapper script.
tool_for() {
    local path=$MT_TEST_TMP/tool_$1
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$FT" "$1" > "$path"
    chmod +x "$path"
    echo "$path"
}
timed_run 60 --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$(tool_for segv)"
expect_failure tool_segfaults_mid_stream 'analysis tool.*(signal 11|SIGSEGV)'
timed_run 60 --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$(tool_for abort)"
expect_failure tool_aborts_mid_stream 'analysis tool.*(signal 6|SIGABRT)'
timed_run 60 --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$(tool_for exit)"
expect_failure tool_exits_mid_stream 'analysis tool.*(status 7)'

# Closes the FIFO early but stays and answers SIGUSR1.  Either the run
# reports or it fails with one line; it must not hang.  (Today: QEMU's
# writer blocks -- memory_tracer's own FIONREAD probe keeps a read end
# open, so there is no EPIPE -- and the run fails at the protocol deadline
# while closing the trace output.)
MEMORY_TRACER_PROTOCOL_DEADLINE=10 timed_run 60 --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$(tool_for close)" \
    --print_trace_info
if [ -z "$MT_SLOW" ] && [ -z "$MT_LEAK" ] &&
   { { [ "$MT_RC" = 0 ] && grep -q '^analysis output:' "$MT_OUT"; } ||
     { [ "$MT_RC" = 1 ] && [ "$(grep -c "" "$MT_ERR")" = 1 ] &&
       grep -Eq "reader|FIFO|trace output" "$MT_ERR"; }; }; then
    pass tool_closes_fifo_early
else
    fail tool_closes_fifo_early "rc=$MT_RC $MT_SLOW leak=$MT_LEAK err=$(head -c 300 "$MT_ERR" | tr '\n' '|')"
fi

# A slow reader: the run still ends in bounded time, and what the tool
# counted plus what QEMU reports dropped is what QEMU recorded.
timed_run 120 --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$(tool_for slow)" \
    --print_trace_info
if mt_ok slow_reader && [ -z "$MT_SLOW" ]; then
    got=$(mt_value records)
    buf=$(mt_value num_of_events_written_to_trace_buf)
    file=$(mt_value num_of_events_written_to_trace_file)
    dropped=$(grep -o 'num_of_dropped_events: [0-9]*' "$MT_OUT" | grep -o '[0-9]*$')
    dropped=${dropped:-0}
    if [ -n "$got" ] && [ "$got" = "$file" ] && [ $((file + dropped)) -ge "$buf" ]; then
        pass slow_reader
    else
        fail slow_reader "tool read $got, QEMU wrote $file to the file, $buf to the buffer, dropped $dropped"
    fi
elif [ -n "$MT_SLOW" ]; then
    fail slow_reader "$MT_SLOW"
fi

# ---- the workload -------------------------------------------------------------
# A crash inside the traced region ends the region: the report (the tool's
# block included), a note, and the workload's status 128 + 11.
timed_run 60 --workload_path_on_host "$WL/crashing_workload" $NOCOMM --analysis_tool_path "$SA"
if [ "$MT_RC" = 139 ] && [ "$(grep -c '' "$MT_ERR")" = 1 ] &&
   grep -q 'killed by signal 11' "$MT_ERR" && grep -q '^analysis output:' "$MT_OUT" &&
   [ -z "$MT_LEAK" ] && [ -z "$MT_SLOW" ]; then
    pass workload_crashes_while_traced
else
    fail workload_crashes_while_traced "rc=$MT_RC $MT_SLOW leak=$MT_LEAK stderr=$(head -c 400 "$MT_ERR" | tr '\n' '|')"
fi

MEMORY_TRACER_WORKLOAD_DEADLINE=4 timed_run 60 --workload_path_on_host \
    "$WL/sleep_forever_workload.sh" --analysis_tool_path "$SA"
expect_failure workload_deadline 'timed out after 4 s waiting for "Stop tracing"'

# ---- signals to QEMU and to memory_tracer while tracing ---------------------
# start_bg NAME ARGS...: memory_tracer -v in the background, own TMPDIR;
# waits until tracing runs.  Sets BG_PID, BG_DIR.
start_bg() {
    BG_DIR=$MT_TEST_TMP/$1; shift
    mkdir -p "$BG_DIR"
    TMPDIR=$BG_DIR "$MT" -v "$@" "${MT_POS[@]}" >"$BG_DIR.out" 2>"$BG_DIR.err" </dev/null &
    BG_PID=$!
    local i
    for i in $(seq 240); do
        grep -q 'expecting "Stop tracing"' "$BG_DIR.err" && break
        sleep 0.25
    done
    sleep 0.5
}
# finish_bg NAME WANT_RC STDERR_REGEX MAX_SECONDS_AFTER_SIGNAL
finish_bg() {
    local name=$1 want_rc=$2 want=$3 max=$4 t0=$SECONDS rc
    local i
    for i in $(seq $((max * 4))); do
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$BG_PID" 2>/dev/null; then
        kill -KILL "$BG_PID"
        wait "$BG_PID"
        fail "$name" "still running $max s after the signal"
        return
    fi
    wait "$BG_PID"; rc=$?
    sleep 0.3
    local left procs
    left=$(find "$BG_DIR" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
    procs=$(pgrep -f -- "$BG_DIR/" | grep -v "^$$\$" | tr '\n' ' ')
    [ -n "$procs" ] && kill -KILL $procs 2>/dev/null
    # -v adds progress lines (---...---, the QEMU command line): the last
    # line is the verdict, the only "memory_tracer: " line.
    if [ "$rc" = "$want_rc" ] && [ -z "$left" ] && [ -z "$procs" ] &&
       grep -v "^---" "$BG_DIR.err" | tail -n 1 | grep -Eq -- "^memory_tracer: .*($want)" &&
       [ "$(grep -c "^memory_tracer: " "$BG_DIR.err")" = 1 ]; then
        pass "$name"
    else
        fail "$name" "rc=$rc (want $want_rc) left=$left procs=$procs after $((SECONDS - t0)) s: $(tail -n 2 "$BG_DIR.err" | head -c 400 | tr '\n' '|')"
    fi
}

start_bg qemu_killed --workload_path_on_host "$WL/sleep_forever_workload.sh" --analysis_tool_path "$SA"
qpid=$(pgrep -f -- "$BG_DIR/memory_tracer\..*qmp.sock" | head -1)
if [ -n "$qpid" ]; then
    kill -KILL "$qpid"
    finish_bg qemu_killed_mid_run 1 'QEMU.*(killed|signal 9|exited)' 15
else
    kill -KILL "$BG_PID"; wait "$BG_PID"
    fail qemu_killed_mid_run "no QEMU found: $(tail -c 300 "$BG_DIR.err")"
fi

start_bg sigterm_traced --workload_path_on_host "$WL/sleep_forever_workload.sh" --analysis_tool_path "$SA"
kill -TERM "$BG_PID"
finish_bg sigterm_while_tracing 143 'interrupted by SIGTERM' 15

start_bg tool_killed --workload_path_on_host "$WL/sleep_forever_workload.sh" --analysis_tool_path "$SA"
tpid=$(pgrep -f -- "^$SA $BG_DIR/" | head -1)
if [ -n "$tpid" ]; then
    kill -KILL "$tpid"
    finish_bg tool_sigkilled_while_tracing 1 'analysis tool.*(signal 9|killed)' 15
else
    kill -KILL "$BG_PID"; wait "$BG_PID"
    fail tool_sigkilled_while_tracing "no analysis tool found"
fi

# SIGINT early, while QEMU restores the snapshot: nothing half-started left.
dir=$MT_TEST_TMP/sigint_early; mkdir -p "$dir"
TMPDIR=$dir "$MT" -v --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" \
    "${MT_POS[@]}" >"$dir.out" 2>"$dir.err" </dev/null &
BG_PID=$! BG_DIR=$dir
for _ in $(seq 200); do
    grep -q 'waiting for the QMP greeting' "$dir.err" && break
    sleep 0.05
done
kill -INT "$BG_PID"
finish_bg sigint_while_starting 130 'interrupted by SIGINT' 15

# memory_tracer SIGKILLed: it cannot clean up, but its children must die
# with it (PR_SET_PDEATHSIG), within seconds.
start_bg mt_killed --workload_path_on_host "$WL/sleep_forever_workload.sh" --analysis_tool_path "$SA"
kill -KILL "$BG_PID"; wait "$BG_PID" 2>/dev/null
for _ in $(seq 40); do
    [ -z "$(pgrep -f -- "$BG_DIR/")" ] && break
    sleep 0.25
done
procs=$(pgrep -f -- "$BG_DIR/" | tr '\n' ' ')
if [ -z "$procs" ]; then
    pass memory_tracer_sigkilled_children_die
else
    kill -KILL $procs 2>/dev/null
    fail memory_tracer_sigkilled_children_die "still running 10 s later: $procs"
fi

# ---- two runs on the same image at once ----------------------------------------
img=$top/build/guest/guest.qcow2
[ -n "${MT_QEMU:-}" ] && img=${MT_POS[0]}
sum_before=$(sha256sum < "$img")
d1=$MT_TEST_TMP/conc1 d2=$MT_TEST_TMP/conc2; mkdir -p "$d1" "$d2"
t0=$SECONDS
TMPDIR=$d1 "$MT" --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" \
    "${MT_POS[@]}" >"$d1.out" 2>"$d1.err" </dev/null &
p1=$!
sleep 1
TMPDIR=$d2 "$MT" --workload_path_on_host "$USER_WL" $NOCOMM --analysis_tool_path "$SA" \
    "${MT_POS[@]}" >"$d2.out" 2>"$d2.err" </dev/null &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
secs=$((SECONDS - t0))
sum_after=$(sha256sum < "$img")
left=$(find "$d1" "$d2" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
ok2() { [ "$2" = 0 ] && grep -q '^counter_arr:' "$1.out"; }
if [ "$sum_before" != "$sum_after" ]; then
    fail concurrent_runs "the image changed"
elif [ -n "$left" ]; then
    fail concurrent_runs "left: $left"
elif ! ok2 "$d1" "$r1"; then
    fail concurrent_runs "first run: rc=$r1 $(head -c 300 "$d1.err")"
elif ok2 "$d2" "$r2" || { [ "$r2" = 1 ] && [ "$(grep -c '' "$d2.err")" = 1 ]; }; then
    if [ "$secs" -le 120 ]; then pass concurrent_runs; else fail concurrent_runs "took $secs s"; fi
else
    fail concurrent_runs "second run: rc=$r2 $(head -c 300 "$d2.err")"
fi

# ---- a workload that floods the serial channel (20 MB, one line) ------------
# The run completes and memory_tracer's memory stays bounded.
flood=$MT_TEST_TMP/flood.sh
printf '#!/bin/sh\nhead -c 20000000 /dev/zero | tr "\\000" x\necho\n' > "$flood"
chmod +x "$flood"
dir=$MT_TEST_TMP/flood; mkdir -p "$dir"
t0=$SECONDS
TMPDIR=$dir "$MT" --workload_path_on_host "$flood" --analysis_tool_path "$SA" \
    "${MT_POS[@]}" >"$dir.out" 2>"$dir.err" </dev/null &
pid=$! peak=0
while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
    [ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
    [ $((SECONDS - t0)) -gt 120 ] && kill -TERM "$pid"
    sleep 0.3
done
wait "$pid"; rc=$?
left=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'memory_tracer.*')
if [ "$rc" = 0 ] && [ "$peak" -lt 204800 ] && [ -z "$left" ] &&
   grep -q '^analysis output:' "$dir.out"; then
    pass workload_floods_serial
else
    fail workload_floods_serial "rc=$rc peak RSS ${peak} kB left=$left $((SECONDS - t0)) s err=$(head -c 300 "$dir.err")"
fi
