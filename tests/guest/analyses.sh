#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The ready-made analyses (gmbeoo_cachesim, gmbeoo_reuse, gmbeoo_wss) on the
# embedded guest, each on a trace file and each live as the analysis tool,
# restricted with --range to the 16 KiB buffer of gmbeoo_exact_workload,
# whose accesses tests/guest/gmbeoo_exact.sh lists: 3601 accesses (2159
# loads, 1442 stores, all CPL 3).  By hand:
#   - line references: 3606, as the five 8-byte loads at +4092 straddle
#     lines 63/64 (and pages 0/1): 2164 loads, 1442 stores;
#   - lines touched: 0 1 2 8 9 10 63 64 (offsets 0-47, 64-111, 128-175,
#     512-575, 576-607, 640-671, 4092-4099), first by a load except 8
#     (rep stos) and 10 (rep movs' stores): at 32k:8:64 nothing is
#     evicted, so L1d misses 8 (6 loads, 2 stores) of 3606, L2 8 of 8;
#   - reuse: 8 cold lines of 3606 references, 2 cold pages of 3606;
#   - working set in one window: 8 lines, 2 pages.
#  analyses_file_*  memory_tracer --trace_file_path, then each tool on it.
#  analyses_live_*  --analysis_tool_path: a wrapper script passes the
#                   workload info ("ADDR LEN", its $2 $3) as --range.
#  analyses_vcpus_* gmbeoo_threads_workload on 2 vCPUs, extended32, to a
#                   trace file: thread k (pinned to vCPU k) makes 4000 /
#                   7000 accesses to one line of its buffer, so per vCPU,
#                   by virtual and by physical address, buffer 0 is 4000
#                   L1d references of vCPU 0 with 1 miss and none of vCPU
#                   1, buffer 1 7000 of vCPU 1 with 1 miss.
#
# group: guest.  Runtime: five guest runs, 30-90 s on the shared machine.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_gmbeoo; then
    skip analyses "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
mt_require_built analyses "$BIN"/gmbeoo_{cachesim,reuse,wss} "$WL/gmbeoo_exact_workload" || exit 0

# expect NAME WANT GOT
expect() {
    [ "$2" = "$3" ] && pass "$1" ||
        fail "$1" "want '$(echo "$2" | tr '\n' ' ')', got '$(echo "$3" | tr '\n' ' ' | head -c 600)'"
}

CACHE_WANT="L1d,all,all,all,3606,8
L1d,all,0,load,0,0
L1d,all,0,store,0,0
L1d,all,3,load,2164,6
L1d,all,3,store,1442,2
L1d,all,all,writeback,0,0
L2,all,all,all,8,8"
REUSE_WANT="line,64,cold,cold,8
page,4096,cold,cold,2"
WSS_WANT="0,0,3601,8,2,64,4096"
# The rows checked, from a tool's CSV.
cache_rows() { grep -E '^L1d,all,|^L2,all,all,all,'; }
reuse_rows() { grep ',cold,cold,'; }
wss_rows() { grep '^0,'; }
# The line references of reuse's CSV (all buckets and cold ones).
reuse_refs() { awk -F, -v g="$1" '$1 == g { n += $5 } END { print n }'; }

# ---- on a trace file ----
trace=$MT_TEST_TMP/exact.gmbeoo.zst
mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
    --trace_file_path "$trace"
if mt_ok analyses_file_run; then
    range=$(sed -n '/^workload info:/{n;p;q}' "$MT_OUT" | awk '{print $1 ":" $2}')
    got=$("$BIN/gmbeoo_cachesim" --range "$range" --csv "$trace" | cache_rows)
    expect analyses_file_cachesim "$CACHE_WANT" "$got"
    "$BIN/gmbeoo_reuse" --range "$range" --csv "$trace" > "$MT_TEST_TMP/reuse.csv"
    got=$(reuse_rows < "$MT_TEST_TMP/reuse.csv"
          reuse_refs line < "$MT_TEST_TMP/reuse.csv"
          reuse_refs page < "$MT_TEST_TMP/reuse.csv")
    expect analyses_file_reuse "$REUSE_WANT
3606
3606" "$got"
    got=$("$BIN/gmbeoo_wss" --range "$range" --csv "$trace" | wss_rows)
    expect analyses_file_wss "$WSS_WANT" "$got"
    # Unrestricted, the whole trace: every record is an access or a marker.
    n=$("$BIN/gmbeoo_cachesim" --json "$trace" | python3 -c '
import json, sys; j = json.load(sys.stdin); print(j["accesses"] + j["drop_markers"] > 3601)')
    expect analyses_file_whole_trace True "$n"
fi

# ---- live, as the analysis tool ----
# live NAME TOOL OPTIONS...: run TOOL through a wrapper that adds --range
# from the workload info; MT_OUT then holds the tool's block (the rows
# checked are found nowhere else in it).
live() {
    local name=$1 tool=$2 wrapper=$MT_TEST_TMP/$1.sh
    shift 2
    printf '#!/bin/sh\nexec "%s" %s --range "$2:$3" "$1"\n' "$tool" "$*" > "$wrapper"
    chmod +x "$wrapper"
    mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
        --analysis_tool_path "$wrapper"
    mt_ok "$name"
}
if live analyses_live_cachesim "$BIN/gmbeoo_cachesim" --csv; then
    expect analyses_live_cachesim "$CACHE_WANT" "$(cache_rows < "$MT_OUT")"
fi
if live analyses_live_reuse "$BIN/gmbeoo_reuse" --csv; then
    expect analyses_live_reuse "$REUSE_WANT
3606" "$(reuse_rows < "$MT_OUT"; reuse_refs line < "$MT_OUT")"
fi
if live analyses_live_wss "$BIN/gmbeoo_wss" --csv; then
    expect analyses_live_wss "$WSS_WANT" "$(wss_rows < "$MT_OUT")"
fi

# ---- two vCPUs ----
THREADS=$WL/gmbeoo_threads_workload
if [ ! -x "$THREADS" ] || [ ! -f "$top/build/guest/guest-2cpu.conf" ]; then
    skip analyses_vcpus "gmbeoo_threads_workload or the 2-vCPU snapshot is not built"
    exit 0
fi
trace2=$MT_TEST_TMP/threads.gmbeoo.zst
mt_run --workload_path_on_host "$THREADS" $NOCOMM --guest_num_of_vCPUs 2 \
    --trace_record_format extended32 --trace_file_path "$trace2"
if mt_ok analyses_vcpus_run; then
    read -r a0 l0 a1 l1 < <(sed -n '/^workload info:/{n;p;q}' "$MT_OUT")
    want="L1d,0,all,all,4000,1
L1d,0,all,all,0,0
L1d,1,all,all,7000,1"
    for opt in "" --paddr; do
        got=$("$BIN/gmbeoo_cachesim" $opt --range "$a0:$l0" --csv "$trace2" | grep -E '^L1d,[01],all,all,'
              "$BIN/gmbeoo_cachesim" $opt --range "$a1:$l1" --csv "$trace2" | grep -E '^L1d,[01],all,all,')
        name=analyses_vcpus_vaddr; [ -n "$opt" ] && name=analyses_vcpus_paddr
        expect "$name" "$want" "$got"
    done
fi
exit 0
