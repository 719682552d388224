#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# GMBEOO record stream, checked exactly, through memory_tracer's command line
# on the embedded guest (issue 3 §8-9, issue 5).  The analysis tool is
# build/tests/gmbeoo/gmbeoo_count (tests/guest/gmbeoo_count.c); the
# workloads are tests/workloads/gmbeoo_*_workload.c (pre-touched buffers,
# workload info "ADDR LEN").
#
#  exact_counts      every record in the buffer of gmbeoo_exact_workload:
#                    offset, kind, size, sign bit, CPL 3 -- exactly the
#                    instructions' accesses (SSE 16-byte = two 8-byte
#                    records; lock xadd/cmpxchg and xchg = load then store;
#                    a page-crossing 8-byte load = one record; rep stos/movs
#                    = one record per element).
#  kernel_accesses   read(/dev/zero) / write(pipe) on a user buffer: every
#                    byte covered by CPL 0 stores / loads, no CPL 3 record.
#  cpl3_only         the same with --trace_only_CPL3_code_GMBE: no CPL 0
#                    record at all, and the event counter excludes them
#                    (events == written == records read, with B=R=0).
#  sampling_rule_*   the stride workload (one store per event, CPL3 only):
#                    B=R=0 keeps every store; B=3,R=4 keeps runs of exactly
#                    8 consecutive elements 128 apart; and for several (B,R)
#                    written == #{i < events : (i & mask) == 0}.  (The six
#                    original cases are in original_suite.sh.)
#  per_tb_*          sampling 1:256 or sparser, where a TB whose accesses
#                    run in a row takes them off the countdown at its start
#                    (patch 0019): B=3,R=8 keeps runs of exactly 8 stores
#                    2048 apart; sampled_exact_3_8 below.
#  fault_stride_*    gmbeoo_fault_stride_workload (the fault workload built
#                    with -DFAULT_STRIDE): five stores per TB over
#                    64 fresh pages, the first store to each page faults
#                    and is made again: full rate gives one repeated
#                    element per page; at B=0,R=8 (faults inside TBs that
#                    counted their stores at their start) kept records are
#                    exactly 256 events apart.
#  sampled_exact_*   gmbeoo_exact_workload (many accesses per TB, atomics,
#                    SSE, string ops) sampled with B=0,R=1 and B=2,R=3:
#                    every TB straddles keep/skip transitions of the
#                    countdown; written == the rule's count of events and
#                    the tool reads exactly that many.  Sampled runs arm
#                    GMBEOO before the region (patch 0021), so these go
#                    through code translated armed.  kernel_sampled_4_8:
#                    the kernel workload at B=4,R=8, where kernel TBs
#                    count each access (patch 0022) and user TBs count
#                    per TB, in runs of 16 kept events.
#  fault_reexecuted  gmbeoo_fault_workload: 16 untouched pages, each loaded
#                    (faults: the zero page is mapped), stored to (faults:
#                    copy on write) and loaded again.  A record is made
#                    before the access, so an access that faults is
#                    recorded again when it is executed again: exactly 2,
#                    2 and 1 records per page, 80 in all.  Also with
#                    compact8, with CPL3 only, and sampled (B=0,R=1 and
#                    B=1,R=2: written == the rule's count of events).
#                    Window (chunk) boundaries: long_lossless crosses
#                    ~78,000 of them (4096 records each) and wraps the
#                    ring (2^22 records) 76 times.
#  compact8_*        exact_counts, kernel_accesses, sampling_rule_3_4 and a
#                    sampled_exact case again with --trace_record_format
#                    compact8 (8-byte records, decoded with
#                    gmbeoo_decode_any): the same results.
#  stalled_reader    a reader that stops reading: counted drops, nothing
#                    missing, the run ends in bounded time.
#  long_lossless     320 M records (> 2^32 bytes) into a counting reader:
#                    read == written to ring == written to output, nothing
#                    missing or dropped, 320,000,000 in the array (one
#                    retry if the only flaw is drops: see below).
#                    GMBEOO_SKIP_LONG=1 skips it.
#
# group: guest.  Runtime: 1-2 min on the shared 2-core machine (long_lossless
# 20-30 s per attempt, stalled_reader about 25 s, the rest 3-7 s per run).
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

COUNT=$top/build/tests/gmbeoo/gmbeoo_count
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_gmbeoo; then
    skip gmbeoo_exact "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
mt_require_built gmbeoo_exact "$COUNT" "$WL"/gmbeoo_{exact,kernel,stride,long,medium,fault}_workload || exit 0

# run_count WORKLOAD [memory_tracer options...]: trace into gmbeoo_count.
run_count() {
    local w=$1
    shift
    mt_run --workload_path_on_host "$WL/$w" $NOCOMM --analysis_tool_path "$COUNT" \
        --print_trace_info "$@"
}

# The trace info counters and the tool's values of the last run.
events() { mt_value num_of_GMBE_events_since_enabling_GMBEOO; }
written() { mt_value num_of_events_written_to_trace_buf; }
output() { mt_value num_of_events_written_to_trace_file; }
attention() { grep -o 'ATTENTION.*' "$MT_OUT" | tr '\n' ' '; }

# ---- exact_counts ----
# expected_exact: tests/guest/exact_expected.bash (shared with the same
# workload built with the host's gcc in debian_userland.sh).
source "$(dirname "$0")/exact_expected.bash"
# check_at NAME WORKLOAD EXPECTED IN_RANGE [options]: the records in the
# workload's range, per (offset, kind, size, sign, CPL), are exactly what the
# function EXPECTED prints, IN_RANGE of them in all, and the tool read every
# record written.
check_at() {
    local name=$1 workload=$2 expected=$3 n=$4
    shift 4
    run_count "$workload" "$@"
    if mt_ok "$name"; then
        local got want
        got=$(grep '^at ' "$MT_OUT")
        want=$($expected)
        if [ "$got" != "$want" ]; then
            fail "$name" "records in the range differ (- want, + got): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ';')"
        elif [ "$(mt_value in_range)" != "$n" ]; then
            fail "$name" "in_range $(mt_value in_range), want $n"
        elif [ "$(mt_value eof)" != 1 ] || [ "$(mt_value records)" != "$(written)" ]; then
            fail "$name" "eof $(mt_value eof), read $(mt_value records), written $(written)"
        else
            pass "$name"
        fi
    fi
}
check_at exact_counts gmbeoo_exact_workload expected_exact 3601

# ---- kernel_accesses ----
check_kernel_accesses() {
local name=$1
shift
run_count gmbeoo_kernel_workload "$@"
if mt_ok "$name"; then
    st=$(mt_value covered_bytes_cpl0_store) ld=$(mt_value covered_bytes_cpl0_load)
    u=$(( $(mt_value covered_bytes_cpl3_store) + $(mt_value covered_bytes_cpl3_load) ))
    cpl0=$(mt_value records_cpl0)
    if [ "$st" = 65536 ] && [ "$ld" = 65536 ] && [ "$u" = 0 ]; then
        pass "$name"
    else
        fail "$name" "of 65536 bytes: $st covered by CPL0 stores, $ld by CPL0 loads, $u by CPL3 records"
    fi
fi
}
check_kernel_accesses kernel_accesses

# ---- cpl3_only ----
run_count gmbeoo_kernel_workload --trace_only_CPL3_code_GMBE
if mt_ok cpl3_only; then
    e=$(events) w=$(written) r=$(mt_value records)
    c0=$(mt_value records_cpl0) ir=$(mt_value in_range)
    if [ "$c0" != 0 ] || [ "$ir" != 0 ]; then
        fail cpl3_only "$c0 CPL0 records, $ir records in the buffer"
    elif [ "$e" != "$w" ] || [ "$w" != "$r" ] || [ "$r" = 0 ]; then
        fail cpl3_only "events $e, written $w, read $r: should be equal (B=R=0)"
    elif [ -n "${cpl0:-}" ] && [ "$e" -ge "$cpl0" ]; then
        fail cpl3_only "events $e >= the CPL0 records of the unfiltered run ($cpl0)"
    else
        pass cpl3_only
    fi
fi

# ---- sampling_rule ----
run_count gmbeoo_stride_workload --trace_only_CPL3_code_GMBE
if mt_ok sampling_rule_all; then
    d=$(mt_value deltas) ir=$(mt_value in_range)
    [ "$d" = "1:99999" ] && [ "$ir" = 100000 ] && [ "$(events)" = "$(written)" ] &&
        pass sampling_rule_all ||
        fail sampling_rule_all "in_range $ir, deltas '$d' (want 100000, '1:99999'), events $(events) written $(written)"
fi
check_sampling_3_4() {
local name=$1
shift
run_count gmbeoo_stride_workload --trace_only_CPL3_code_GMBE \
    --log_of_GMBE_block_len 3 --log_of_GMBE_tracing_ratio 4 "$@"
if mt_ok "$name"; then
    d=$(mt_value deltas) ir=$(mt_value in_range) e=$(events) w=$(written)
    ones=$(sed -n 's/^1:\([0-9]*\) 121:\([0-9]*\)$/\1/p' <<<"$d")
    gaps=$(sed -n 's/^1:\([0-9]*\) 121:\([0-9]*\)$/\2/p' <<<"$d")
    want=$(kept "$e" 3 4)
    # 100000 consecutive stores, period 128: 781..783 blocks, 6248..6256 kept;
    # with only deltas 1 and 121 that means every block inside is 8 long.
    if [ -z "$ones" ]; then
        fail "$name" "deltas '$d': want only 1 and 121"
    elif [ $((gaps + 1)) -lt 781 ] || [ $((gaps + 1)) -gt 783 ] ||
         [ "$ir" -lt 6248 ] || [ "$ir" -gt 6256 ] || [ $((ones + gaps + 1)) != "$ir" ]; then
        fail "$name" "$ir kept in $((gaps + 1)) blocks (deltas '$d')"
    elif [ "$w" != "$want" ] || [ "$(mt_value records)" != "$w" ]; then
        fail "$name" "events $e: written $w, read $(mt_value records), rule says $want"
    else
        pass "$name"
    fi
fi
}
check_sampling_3_4 sampling_rule_3_4

# ---- per_tb_*: sampling 1:256 and sparser counts a TB's accesses at its start ----
# The stride loop with B=3,R=8 (period 2048): runs of exactly 8 consecutive
# stores 2048 apart, whether the TB that holds the 8 is the counting
# variant (CF_GMBEOO_REC) or not.
run_count gmbeoo_stride_workload --trace_only_CPL3_code_GMBE \
    --log_of_GMBE_block_len 3 --log_of_GMBE_tracing_ratio 8
if mt_ok per_tb_rule_3_8; then
    d=$(mt_value deltas) ir=$(mt_value in_range) e=$(events) w=$(written)
    ones=$(sed -n 's/^1:\([0-9]*\) 2041:\([0-9]*\)$/\1/p' <<<"$d")
    gaps=$(sed -n 's/^1:\([0-9]*\) 2041:\([0-9]*\)$/\2/p' <<<"$d")
    # 100000 stores: 48..50 blocks, 384..392 kept, every block inside 8 long.
    if [ -z "$ones" ]; then
        fail per_tb_rule_3_8 "deltas '$d': want only 1 and 2041"
    elif [ $((gaps + 1)) -lt 48 ] || [ $((gaps + 1)) -gt 50 ] ||
         [ "$ir" -lt 384 ] || [ "$ir" -gt 392 ] || [ $((ones + gaps + 1)) != "$ir" ]; then
        fail per_tb_rule_3_8 "$ir kept in $((gaps + 1)) blocks (deltas '$d')"
    elif [ "$w" != "$(kept "$e" 3 8)" ] || [ "$(mt_value records)" != "$w" ]; then
        fail per_tb_rule_3_8 "events $e: written $w, read $(mt_value records), rule says $(kept "$e" 3 8)"
    else
        pass per_tb_rule_3_8
    fi
fi
# Faults inside TBs that took their accesses off the countdown: the fault
# stride workload's first store to each of 64 fresh pages faults and is
# made again, at each of the 5 positions of its TB in turn.  At full rate
# that is a 0 among the element differences per page; at 1:256 (B=0,R=8)
# consecutive kept records are exactly 256 events apart: 256 elements, or
# 255 across a page's first element (counted twice), nothing else.
run_count gmbeoo_fault_stride_workload --trace_only_CPL3_code_GMBE
if mt_ok fault_stride_all; then
    d=$(mt_value deltas) ir=$(mt_value in_range)
    if [ "$d" = "0:64 1:65534" ] && [ "$ir" = 65599 ]; then
        pass fault_stride_all
    else
        fail fault_stride_all "in_range $ir, deltas '$d' (want 65599, '0:64 1:65534')"
    fi
fi
run_count gmbeoo_fault_stride_workload --trace_only_CPL3_code_GMBE \
    --log_of_GMBE_block_len 0 --log_of_GMBE_tracing_ratio 8
if mt_ok fault_stride_per_tb; then
    d=$(mt_value deltas) ir=$(mt_value in_range)
    n255=$(sed -n 's/^255:\([0-9]*\) 256:\([0-9]*\)$/\1/p' <<<"$d")
    n256=$(sed -n 's/^255:\([0-9]*\) 256:\([0-9]*\)$/\2/p' <<<"$d")
    # 65599 events: 256 or 257 kept, 62..64 of the gaps across a page start.
    if [ -z "$n255" ] || [ $((n255 + n256 + 1)) != "$ir" ] ||
       [ "$ir" -lt 256 ] || [ "$ir" -gt 257 ] || [ "$n255" -lt 62 ] || [ "$n255" -gt 64 ]; then
        fail fault_stride_per_tb "in_range $ir, deltas '$d' (want only 255 and 256)"
    else
        pass fault_stride_per_tb
    fi
fi
for br in "4 3" "2 5" "0 1" "5 59" "1 63"; do
    set -- $br
    name=sampling_formula_$1_$2
    run_count gmbeoo_stride_workload --log_of_GMBE_block_len "$1" --log_of_GMBE_tracing_ratio "$2"
    if mt_ok "$name"; then
        e=$(events) w=$(written) want=$(kept "$(events)" "$1" "$2")
        [ "$w" = "$want" ] && [ "$(mt_value records)" = "$w" ] && [ "$e" -gt 100000 ] &&
            pass "$name" || fail "$name" "events $e: written $w, read $(mt_value records), rule says $want"
    fi
done

# ---- sampled_exact: keep/skip transitions inside TBs ----
# check_sampled_exact NAME B R [options]: gmbeoo_exact_workload, or the
# workload in $SAMPLED_WORKLOAD with at least $SAMPLED_MIN events.
check_sampled_exact() {
    local name=$1 b=$2 r=$3
    shift 3
    run_count "${SAMPLED_WORKLOAD:-gmbeoo_exact_workload}" \
        --log_of_GMBE_block_len "$b" --log_of_GMBE_tracing_ratio "$r" "$@"
    if mt_ok "$name"; then
        local e w want
        e=$(events) w=$(written) want=$(kept "$(events)" "$b" "$r")
        if [ "$w" = "$want" ] && [ "$(mt_value records)" = "$w" ] &&
           [ "$(mt_value invalid)" = 0 ] && [ "$e" -gt "${SAMPLED_MIN:-3601}" ]; then
            pass "$name"
        else
            fail "$name" "events $e: written $w, read $(mt_value records), rule says $want"
        fi
    fi
}
check_sampled_exact sampled_exact_0_1 0 1
check_sampled_exact sampled_exact_2_3 2 3
check_sampled_exact sampled_exact_3_8 3 8
SAMPLED_WORKLOAD=gmbeoo_kernel_workload SAMPLED_MIN=50000 check_sampled_exact kernel_sampled_4_8 4 8

# ---- fault_reexecuted: a faulting access is recorded again when re-executed ----
expected_fault() {
    local i
    for i in $(seq 0 15); do
        echo "at +$((i * 4096)) load size=4 sx=0 cpl=3: 2"
        echo "at +$((i * 4096 + 8)) store size=4 sx=0 cpl=3: 2"
        echo "at +$((i * 4096 + 16)) load size=4 sx=0 cpl=3: 1"
    done
}
check_at fault_reexecuted gmbeoo_fault_workload expected_fault 80
check_at compact8_fault_reexecuted gmbeoo_fault_workload expected_fault 80 \
    --trace_record_format compact8
check_at cpl3_fault_reexecuted gmbeoo_fault_workload expected_fault 80 \
    --trace_only_CPL3_code_GMBE
SAMPLED_WORKLOAD=gmbeoo_fault_workload SAMPLED_MIN=80 check_sampled_exact fault_sampled_0_1 0 1
SAMPLED_WORKLOAD=gmbeoo_fault_workload SAMPLED_MIN=80 check_sampled_exact fault_sampled_1_2 1 2 --trace_only_CPL3_code_GMBE

# ---- compact8: the same results from 8-byte records ----
check_at compact8_exact_counts gmbeoo_exact_workload expected_exact 3601 \
    --trace_record_format compact8
check_kernel_accesses compact8_kernel_accesses --trace_record_format compact8
check_sampling_3_4 compact8_sampling_rule_3_4 --trace_record_format compact8
check_sampled_exact compact8_sampled_exact_0_1 0 1 --trace_record_format compact8

# ---- stalled_reader ----
# The reader takes 1000 records and then keeps the FIFO open without
# reading; 10 M accesses overflow the ring (4 M records) and the pipe.
# memory_tracer may give up on draining the output (exit 1, naming the
# wait) or report normally; either way it must end in bounded time, leave
# nothing behind, and if it reports counters they must show drops and no
# missing record.  (gmbeoo_qmp checks the counters over QMP in any case.)
export GMBEOO_COUNT_STALL_AFTER=1000
t0=$(date +%s)
MEMORY_TRACER_PROTOCOL_DEADLINE=20 run_count gmbeoo_medium_workload
t1=$(date +%s)
unset GMBEOO_COUNT_STALL_AFTER
secs=$((t1 - t0))
dropped=$(sed -n 's/.*num_of_dropped_events: //p' "$MT_OUT")
missing=$(sed -n 's/.*num_of_missing_events: //p' "$MT_OUT")
if [ -n "$MT_LEAK" ]; then
    fail stalled_reader "$MT_LEAK"
elif [ "$secs" -gt 90 ]; then
    fail stalled_reader "the run took $secs s"
elif [ "$MT_RC" != 0 ]; then
    if grep -q 'timed out.*trace output' "$MT_ERR"; then
        echo "# stalled_reader: memory_tracer gave up after $secs s (rc $MT_RC, no counters): $(grep 'timed out' "$MT_ERR" | cut -c1-150)"
        pass stalled_reader
    else
        fail stalled_reader "rc $MT_RC after $secs s: $(tail -c 300 "$MT_ERR")"
    fi
elif [ -z "$dropped" ] || [ "$dropped" -le 0 ] || [ -n "$missing" ]; then
    fail stalled_reader "after $secs s: dropped '${dropped}', missing '${missing}'"
elif [ "$(mt_value records)" != 1000 ]; then
    fail stalled_reader "the tool read $(mt_value records) records, want 1000"
else
    echo "# stalled_reader: rc 0 in $secs s, dropped $dropped"
    pass stalled_reader
fi

# ---- long_lossless ----
# Drops are counted, never silent, and depend on how much CPU the writer
# thread and the reader get: on the shared 2-core machine a burst of other
# work can starve them.  So a run whose only flaw is dropped > 0 is tried
# once more (with a note); everything else fails at once.
long_run() {
    local t0 t1
    t0=$(date +%s)
    GMBEOO_COUNT_FAST=1 run_count gmbeoo_long_workload
    t1=$(date +%s)
    LONG_SECS=$((t1 - t0))
    LONG_WHY= LONG_DROPS=
    mt_ok long_lossless || { LONG_WHY=reported; return; }
    local r w o ir ms
    r=$(mt_value records) w=$(written) o=$(output) ir=$(mt_value in_range)
    ms=$(mt_value tracing_duration_in_milliseconds)
    echo "# long_lossless: $r records in $LONG_SECS s (traced region $ms ms)"
    LONG_DROPS=$(sed -n 's/.*num_of_dropped_events: //p' "$MT_OUT")
    if grep -q 'ATTENTION' "$MT_OUT" && [ -z "$LONG_DROPS" -o "$(grep -c ATTENTION "$MT_OUT")" -gt 1 ]; then
        LONG_WHY="$(attention)"
    elif [ "$r" != "$w" ] || [ "$w" != "$o" ] || [ "$(mt_value eof)" != 1 ] ||
         [ "$(mt_value partial_bytes)" != 0 ] || [ "$(mt_value invalid)" != 0 ]; then
        LONG_WHY="read $r, written to ring $w, to output $o, eof $(mt_value eof), invalid $(mt_value invalid)"
    elif [ "$w" -le 268435456 ]; then
        LONG_WHY="only $w records written (want > 2^28: 2^32 bytes)"
    elif [ -n "$LONG_DROPS" ]; then
        LONG_WHY="$LONG_DROPS dropped (read $r of $(events); load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    elif [ "$ir" != 320000000 ]; then
        LONG_WHY="$ir records in the array, want 320000000"
    fi
}
if [ -n "${GMBEOO_SKIP_LONG:-}" ]; then
    skip long_lossless "GMBEOO_SKIP_LONG is set"
else
    long_run
    if [ -n "$LONG_WHY" ] && [ "$LONG_WHY" != reported ] && [ -n "$LONG_DROPS" ] &&
       [[ $LONG_WHY == "$LONG_DROPS dropped"* ]]; then
        echo "note: long_lossless: first attempt: $LONG_WHY; trying once more"
        long_run
    fi
    if [ -z "$LONG_WHY" ]; then
        pass long_lossless
    elif [ "$LONG_WHY" != reported ]; then
        fail long_lossless "$LONG_WHY"
    fi
    [ "$LONG_SECS" -gt 180 ] && echo "note: long_lossless took $LONG_SECS s (> 3 min)"
fi
exit 0
