#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make bench-profile`: where does the time of a full-rate traced run go?
# Samples the whole machine with perf (cpu-clock: this VM has no hardware
# counters, `perf stat -e instructions` says <not supported>) while
# memory_tracer traces mem_loop at full rate into drain and then into
# simple_analysis, and writes flat profiles by thread and by symbol to
# build/bench/profile/.  QEMU runs with -name debug-threads=on (through the
# same wrapper trick as bench.sh) so its writer thread has its own name.
# TCG-generated code, where the inline per-access hook lives, has no symbols
# in QEMU 7.2 (no -perfmap) and shows as [unknown] in the vCPU thread.
# bench/PROFILE.md interprets a run of this script.
#
# usage: bench/profile.sh [quick|full]   (workload size preset, default quick)
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

v="$out/variants/profile"
rm -rf "$v"
mkdir -p "$v/bin" "$v/share"
cp "$bin/memory_tracer" "$v/bin/memory_tracer"
ln -s "$build/guest" "$v/guest"
ln -s "$build/share/qemu" "$v/share/qemu"
printf '#!/bin/sh\nexec %q "$@" -name debug-threads=on\n' "$bin/qemu-system-x86_64" > "$v/bin/qemu-system-x86_64"
chmod 0755 "$v/bin/qemu-system-x86_64"

workload="$out/workloads/$preset/mem_loop"
for tool in drain simple_analysis; do
    tpath="$out/drain"
    [ "$tool" = simple_analysis ] && tpath="$bin/simple_analysis"
    data="$prof/perf-$tool.data"
    echo "profile: tracing $workload at full rate into $tool under perf" >&2
    perf record -q -o "$data" -a -e cpu-clock -F 1999 -- \
        "$v/bin/memory_tracer" --workload_path_on_host "$workload" \
        --dont_add_communications_with_host_to_workload \
        --analysis_tool_path "$tpath" --print_trace_info \
        > "$prof/run-$tool.out" 2> "$prof/run-$tool.err" < /dev/null
    echo "profile: memory_tracer exit $?" >&2
    grep -a -E 'tracing_duration|num_of_(GMBE_events|events_written|dropped|records|mem_accesses):' \
        "$prof/run-$tool.out" >&2
    perf report -i "$data" --stdio --sort comm --percent-limit 0.5 2>/dev/null \
        | grep -v '^#' | sed '/^$/d' > "$prof/by-thread-$tool.txt"
    perf report -i "$data" --stdio --sort comm,dso,sym --percent-limit 0.3 2>/dev/null \
        | grep -v '^#' | sed '/^$/d' > "$prof/by-symbol-$tool.txt"
    echo "== by thread ($tool) ==" >&2
    head -15 "$prof/by-thread-$tool.txt" >&2
    echo "== by symbol ($tool) ==" >&2
    head -40 "$prof/by-symbol-$tool.txt" >&2
done
echo "profile: reports in $prof" >&2
