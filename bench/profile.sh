#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make bench-profile`: where does the time of a full-rate traced run go?
# Samples memory_tracer and all its descendants (QEMU, the analysis tool;
# not the rest of the shared machine, where other QEMUs may run) with perf
# (cpu-clock: this VM has no hardware counters, `perf stat -e instructions`
# says <not supported>) while memory_tracer traces mem_loop at full rate
# into drain and then into simple_analysis, and writes flat profiles by thread and by symbol to
# build/bench/profile/.  QEMU runs with -name debug-threads=on (through the
# same wrapper trick as bench.sh) so its writer thread has its own name.
# TCG-generated code, where the inline per-access hook lives, has no symbols
# in QEMU 7.2 (no -perfmap) and shows as [unknown] in the vCPU thread.
# bench/PROFILE.md interprets a run of this script.
#
# usage: bench/profile.sh [quick|full]   (workload size preset, default quick)
# env: PROFILE_WORKLOAD (default dense_rmw, the dense loop of issue 9; or
#      mem_loop).  Runs: full rate into drain (touching every record), into
#      simple_analysis, compact8 into a lean drain (DRAIN_TOUCH=0), sampled
#      B=16,R=10 into drain, then the plugin tracer.
set -uo pipefail

preset=${1:-quick}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build="$top/build"
bin="$build/bin"
out="$build/bench"
prof="$out/profile"
mkdir -p "$prof"

command -v perf >/dev/null || { echo "profile: perf not installed (apt-get install linux-perf)" >&2; exit 1; }
for f in "$bin/memory_tracer" "$bin/simple_analysis" "$out/drain" "$build/guest/guest.qcow2"; do
    [ -e "$f" ] || { echo "profile: $f missing (make all bench-tools)" >&2; exit 1; }
done

# make_variant NAME EXTRA_QEMU_ARGS: a build/-shaped directory whose emulator
# is the patched binary with EXTRA_QEMU_ARGS appended (see bench.sh).
make_variant() {
    local v="$out/variants/$1"
    rm -rf "$v"
    mkdir -p "$v/bin" "$v/share"
    cp "$bin/memory_tracer" "$v/bin/memory_tracer"
    ln -s "$build/guest" "$v/guest"
    ln -s "$build/share/qemu" "$v/share/qemu"
    printf '#!/bin/sh\nexec %q "$@" %s\n' "$bin/qemu-system-x86_64" "$2" > "$v/bin/qemu-system-x86_64"
    chmod 0755 "$v/bin/qemu-system-x86_64"
}

# Flat profiles: by thread over the run's processes, then each thread of
# interest on its own (percentages relative to that thread).
summarize() {   # name
    local data="$prof/perf-$1.data" t
    perf report -i "$data" --stdio --sort comm --percent-limit 0.5 2>/dev/null \
        | grep -v '^#' | sed '/^$/d' > "$prof/by-thread-$1.txt"
    : > "$prof/by-symbol-$1.txt"
    for t in "CPU 0/TCG" gmbeoo-writer plugin-writer qemu-system-x86 drain simple_analysis; do
        grep -q "  $t *$" "$prof/by-thread-$1.txt" || continue
        {
            echo "== $t (by object) =="
            perf report -i "$data" --stdio --comms "$t" --sort dso \
                --percentage relative --percent-limit 1 2>/dev/null \
                | grep -v '^#' | sed '/^$/d' | head -8
            echo "== $t (by symbol) =="
            perf report -i "$data" --stdio --comms "$t" --sort dso,sym \
                --percentage relative --percent-limit 0.5 2>/dev/null \
                | grep -v '^#' | sed '/^$/d' | head -25
        } >> "$prof/by-symbol-$1.txt"
    done
    echo "== $1: by thread (memory_tracer and its descendants) ==" >&2
    head -12 "$prof/by-thread-$1.txt" >&2
    cat "$prof/by-symbol-$1.txt" >&2
}

workload="$out/workloads/$preset/${PROFILE_WORKLOAD:-dense_rmw}"
common=(--workload_path_on_host "$workload" --dont_add_communications_with_host_to_workload)

make_variant profile "-name debug-threads=on"
for run in drain simple_analysis lean8 sampled; do
    tpath="$out/drain" extra=() envs=()
    case $run in
        simple_analysis) tpath="$bin/simple_analysis" ;;
        lean8) envs=(DRAIN_TOUCH=0); extra=(--trace_record_format compact8) ;;
        sampled) extra=(--log_of_GMBE_block_len 16 --log_of_GMBE_tracing_ratio 10) ;;
    esac
    echo "profile: tracing $workload ($run) under perf" >&2
    env ${envs[@]+"${envs[@]}"} perf record -q -o "$prof/perf-gmbeoo-$run.data" -e cpu-clock -F 1999 -- \
        "$out/variants/profile/bin/memory_tracer" "${common[@]}" \
        --analysis_tool_path "$tpath" --print_trace_info ${extra[@]+"${extra[@]}"} \
        > "$prof/run-gmbeoo-$run.out" 2> "$prof/run-gmbeoo-$run.err" < /dev/null
    echo "profile: memory_tracer exit $?" >&2
    grep -a -E 'tracing_duration|num_of_[a-zA-Z_]*:' "$prof/run-gmbeoo-$run.out" >&2
    summarize "gmbeoo-$run"
done

# The plugin tracer on the same binary, for comparison.
if [ -f "$out/gmbeoo_plugin.so" ]; then
    fifo="$prof/plugin.fifo"
    rm -f "$fifo"; mkfifo "$fifo"
    make_variant profile-plugin "-name debug-threads=on -plugin $out/gmbeoo_plugin.so,out=$fifo"
    "$out/drain" "$fifo" > "$prof/plugin-drain.out" 2>&1 &
    drain_pid=$!
    echo "profile: the same workload under gmbeoo_plugin.so (--dont_trace) under perf" >&2
    perf record -q -o "$prof/perf-plugin.data" -e cpu-clock -F 1999 -- \
        "$out/variants/profile-plugin/bin/memory_tracer" "${common[@]}" --dont_trace \
        > "$prof/run-plugin.out" 2> "$prof/run-plugin.err" < /dev/null
    echo "profile: memory_tracer exit $?" >&2
    kill -USR1 "$drain_pid" 2>/dev/null
    sleep 0.5
    kill -0 "$drain_pid" 2>/dev/null && kill -KILL "$drain_pid" 2>/dev/null
    wait "$drain_pid" 2>/dev/null
    grep -a tracing_duration "$prof/run-plugin.out" >&2
    grep -a num_of_records "$prof/plugin-drain.out" >&2
    summarize plugin
fi
echo "profile: reports in $prof" >&2
