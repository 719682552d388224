#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --guest_num_of_vCPUs and workload_CR3 on the embedded guest (issue 10).
#
#  vcpus_2_pinned       the 2-vCPU snapshot restores and the two threads of
#                       gmbeoo_threads_workload each run pinned on their own
#                       CPU (the workload fails before "Ready to trace" when
#                       sched_setaffinity() to CPU 1 fails)
#  vcpus_4_pinned       the same on the 4-vCPU snapshot
#  vcpus_1_cannot_pin   one vCPU (the default): the workload cannot pin
#                       thread 1 and exits 2 before its workload info
#  vcpus_no_snapshot    3 vCPUs: a clear error naming the counts there are
#  vcpus_conf_mismatch  an image with a guest.conf saved with 1 vCPU and
#                       --guest_num_of_vCPUs 2: a clear error, QEMU never
#                       started
#  workload_cr3         trace info ends with "workload_CR3: 0x..." (a page
#                       address, not 0) when the run traces
#
# Tracing gmbeoo_threads_workload on 2 vCPUs (thread k pinned to CPU k makes
# L_k 4-byte loads at +0 and S_k 8-byte stores at +8 of its buffer k:
# L = 3000, 5000, S = 1000, 2000), the records read by gmbeoo_dump --csv
# from --trace_fifo_path:
#  vcpus_2_full_exact   gmbeoo16, full rate: buffer k has exactly L_k loads
#                       and S_k stores, CPL 3, every one with vCPU k in byte
#                       1, and nothing else; 0 dropped; as many rows as
#                       trace info's num_of_events_written_to_trace_file
#  vcpus_2_counts_sum   trace info's per-vCPU lines (QMP query-gmbeoo's
#                       'vcpus'): two of them, whose events,
#                       written_to_trace_buf and written_to_trace_file add
#                       up to the totals, and each vCPU wrote records
#  vcpus_2_sampled_exact  --trace_only_CPL3_code_GMBE, B=0,R=1 (each vCPU
#                       keeps its own even-numbered events): each vCPU's
#                       written_to_trace_buf is the rule's count for its own
#                       events, the total is their sum, the reader got them
#                       all, and buffer k has exactly L_k/2 loads and S_k/2
#                       stores with vCPU k.  That last count is exact
#                       whatever the vCPU's event index when the loops
#                       start: with CPL 3 only, a thread's L_k loads and S_k
#                       stores are consecutive events of its vCPU (an
#                       interrupt in between adds only CPL 0 events), and
#                       of an even number of consecutive events exactly
#                       half are even.  (Without the CPL filter, or with
#                       B > 0, the phase of the loops in the vCPU's event
#                       index, which the rest of the system decides, would
#                       change the count.)
#  vcpus_2_compact8     --trace_record_format compact8, full rate: the same
#                       exact counts per buffer (compact8 has no vCPU field)
#  vcpus_2_extended32   extended32, full rate: the same exact counts, every
#                       record of buffer k with vCPU k in word 0 bits 8-15
#  vcpus_2_order        gmbeoo_vcpu_order_workload: both threads stream 5.2 M
#                       stores each at once (each vCPU's 4 M-record ring
#                       wraps, the writer interleaves the rings): the raw
#                       stream (numpy) has buffer k's stores with vCPU k,
#                       exactly in program order, all records valid, none
#                       dropped, as many as written
#
# group: guest.  Runtime: 20-60 s on the shared 2-core machine (12 runs).
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

THREADS=$WL/gmbeoo_threads_workload
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_guest; then
    skip vcpus "the guest or memory_tracer is not built"
    exit 0
fi
mt_require_built vcpus "$THREADS" || exit 0

for n in 2 4; do
    if [ ! -f "$top/build/guest/guest-${n}cpu.conf" ]; then
        fail vcpus_${n}_pinned "build/guest/guest-${n}cpu.conf is missing (make builds it)"
        continue
    fi
    mt_run --workload_path_on_host "$THREADS" $NOCOMM --dont_trace \
        --guest_num_of_vCPUs $n
    if mt_ok vcpus_${n}_pinned; then
        if grep -q '^0x[0-9a-f]* 16384 0x[0-9a-f]* 16384$' "$MT_OUT"; then
            pass vcpus_${n}_pinned
        else
            fail vcpus_${n}_pinned "no workload info: $(head -c 300 "$MT_OUT")"
        fi
    fi
done

mt_run --workload_path_on_host "$THREADS" $NOCOMM --dont_trace
if [ "$MT_RC" = 1 ] && grep -q 'the workload exited with status 2 before' "$MT_ERR"; then
    pass vcpus_1_cannot_pin
else
    fail vcpus_1_cannot_pin "exit $MT_RC: $(tail -c 300 "$MT_ERR")"
fi

mt_run --workload_path_on_host "$THREADS" $NOCOMM --dont_trace --guest_num_of_vCPUs 3
if [ "$MT_RC" = 1 ] &&
    grep -q 'has no snapshot for 3 vCPUs (it has snapshots for 1, 2, 4)' "$MT_ERR"; then
    pass vcpus_no_snapshot
else
    fail vcpus_no_snapshot "exit $MT_RC: $(tail -c 300 "$MT_ERR")"
fi

if [ -z "${MT_QEMU:-}" ]; then
    MT_POS=("$top/build/guest/guest.qcow2" ready_for_memory_tracer "$BIN")
    mt_run --workload_path_on_host "$THREADS" $NOCOMM --dont_trace --guest_num_of_vCPUs 2
    MT_POS=()
    if [ "$MT_RC" = 1 ] && grep -q 'guest_num_of_vCPUs is 2, but the snapshot of .*guest.qcow2 was saved with 1 vCPU' "$MT_ERR" &&
        ! grep -q 'QMP\|qemu' "$MT_ERR"; then
        pass vcpus_conf_mismatch
    else
        fail vcpus_conf_mismatch "exit $MT_RC: $(tail -c 300 "$MT_ERR")"
    fi
fi

if mt_have_gmbeoo && [ -x "$WL/gmbeoo_exact_workload" ]; then
    mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
        --analysis_tool_path "$top/build/tests/gmbeoo/gmbeoo_count" --print_trace_info
    if mt_ok workload_cr3; then
        cr3=$(mt_value workload_CR3)
        if [[ $cr3 =~ ^0x[0-9a-f]*000$ ]] && [ "$cr3" != 0x000 ] && [ "$cr3" != 0x0000 ]; then
            pass workload_cr3
        else
            fail workload_cr3 "workload_CR3 is '$cr3'"
        fi
    fi
else
    skip workload_cr3 "the patched QEMU (gmbeoo-enable) or gmbeoo_exact_workload is not built"
fi

if ! mt_have_gmbeoo || [ ! -f "$top/build/guest/guest-2cpu.conf" ] ||
   [ ! -x "$BIN/gmbeoo_dump" ]; then
    skip vcpus_2_trace "the patched QEMU, the 2-vCPU snapshot or gmbeoo_dump is not built"
    exit 0
fi

# run_threads NAME CSV FORMAT [options...]: trace the two-thread workload
# on 2 vCPUs in FORMAT into CSV (gmbeoo_dump --csv); 0 if the run and the
# reader both went well.
run_threads() {
    local name=$1 csv=$2 format=$3 fifo=$MT_TEST_TMP/threads.fifo
    shift 3
    rm -f "$fifo"
    mkfifo "$fifo"
    "$BIN/gmbeoo_dump" --format "$format" --csv "$fifo" > "$csv" 2>"$csv.err" &
    local reader=$!
    MT_BG_PIDS+=("$reader")
    mt_run --workload_path_on_host "$THREADS" $NOCOMM --guest_num_of_vCPUs 2 \
        --trace_fifo_path "$fifo" --trace_record_format "$format" \
        --print_trace_info "$@"
    wait "$reader" || { fail "$name" "gmbeoo_dump failed: $(head -c 300 "$csv.err")"; return 1; }
    mt_ok "$name"
}

# check_threads NAME CSV OUT DIVISOR: buffer k has exactly L_k/DIVISOR loads
# and S_k/DIVISOR stores (CPL 3, right offset and size), with vCPU k if the
# CSV has a vcpu column, and nothing else; no drops; rows == written.
check_threads() {
    /usr/bin/python3 - "$@" <<'EOF'
import sys

name, csv_path, out, div = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
text = open(out).read().splitlines()
info = text[text.index('workload info:') + 1].split()
bufs = [(int(info[0], 16), int(info[1])), (int(info[2], 16), int(info[3]))]
def value(label):
    for l in text:
        if l.startswith(label + ':'):
            return l.split(':', 1)[1].strip()
written = int(value('num_of_events_written_to_trace_file'))
lines = open(csv_path).read().splitlines()
header = lines[0].split(',')
rows = [dict(zip(header, l.split(','))) for l in lines[1:]]
want = {0: (3000 // div, 1000 // div), 1: (5000 // div, 2000 // div)}
bad = []
for k, (base, length) in enumerate(bufs):
    mine = [r for r in rows if 0 <= int(r['vaddr'], 16) - base < length]
    loads = [r for r in mine if int(r['vaddr'], 16) - base == 0 and
             r['size'] == '4' and r['store'] == '0' and r['cpl'] == '3']
    stores = [r for r in mine if int(r['vaddr'], 16) - base == 8 and
              r['size'] == '8' and r['store'] == '1' and r['cpl'] == '3']
    if (len(loads), len(stores), len(mine)) != want[k] + (sum(want[k]),):
        bad.append('buffer %d: %d loads, %d stores, %d records (want %s)' %
                   (k, len(loads), len(stores), len(mine), want[k]))
    if 'vcpu' in header:
        vcpus = sorted({r['vcpu'] for r in mine})
        if vcpus != [str(k)]:
            bad.append('buffer %d: vCPUs %s' % (k, vcpus))
if value('num_of_dropped_events') is not None:
    bad.append('dropped ' + value('num_of_dropped_events'))
if len(rows) != written:
    bad.append('%d rows, %d written' % (len(rows), written))
print('PASS: ' + name if not bad else 'FAIL: %s: %s' % (name, '; '.join(bad)))
EOF
}

# vcpu_lines OUT: "index events written_to_trace_buf written_to_trace_file"
# for each "vCPU k: ..." line of trace info.
vcpu_lines() {
    sed -n 's/^vCPU \([0-9]*\): events \([0-9]*\), written_to_trace_buf \([0-9]*\), written_to_trace_file \([0-9]*\), dropped \([0-9]*\)$/\1 \2 \3 \4/p' "$1"
}

csv=$MT_TEST_TMP/threads.csv
if run_threads vcpus_2_full_exact "$csv" gmbeoo16; then
    check_threads vcpus_2_full_exact "$csv" "$MT_OUT" 1
    lines=$(vcpu_lines "$MT_OUT")
    sums=$(awk '{ e += $2; b += $3; f += $4; n++; if ($3 == 0) z++ }
                END { print n, e, b, f, z + 0 }' <<<"$lines")
    want="2 $(mt_value num_of_GMBE_events_since_enabling_GMBEOO) $(mt_value num_of_events_written_to_trace_buf) $(mt_value num_of_events_written_to_trace_file) 0"
    if [ "$sums" = "$want" ]; then
        pass vcpus_2_counts_sum
    else
        fail vcpus_2_counts_sum "per-vCPU lines '$(tr '\n' ';' <<<"$lines")' sum to '$sums', want '$want'"
    fi
fi

if run_threads vcpus_2_sampled_exact "$csv" gmbeoo16 --trace_only_CPL3_code_GMBE \
        --log_of_GMBE_block_len 0 --log_of_GMBE_tracing_ratio 1; then
    bad=
    total=0
    while read -r k e b f; do
        want=$(kept "$e" 0 1)
        [ "$b" = "$want" ] || bad="$bad vCPU $k: events $e, written $b, rule says $want;"
        total=$((total + want))
    done < <(vcpu_lines "$MT_OUT")
    [ "$(vcpu_lines "$MT_OUT" | wc -l)" = 2 ] || bad="$bad not two per-vCPU lines;"
    w=$(mt_value num_of_events_written_to_trace_buf)
    [ "$w" = "$total" ] || bad="$bad written $w, the rule per vCPU says $total;"
    if [ -n "$bad" ]; then
        fail vcpus_2_sampled_exact "$bad"
    else
        check_threads vcpus_2_sampled_exact "$csv" "$MT_OUT" 2
    fi
fi

if run_threads vcpus_2_compact8 "$csv" compact8; then
    check_threads vcpus_2_compact8 "$csv" "$MT_OUT" 1
fi
if run_threads vcpus_2_extended32 "$csv" extended32; then
    check_threads vcpus_2_extended32 "$csv" "$MT_OUT" 1
fi

# ---- vcpus_2_order: program order per vCPU while both vCPUs stream ----
ORDER=$WL/gmbeoo_vcpu_order_workload
if [ ! -x "$ORDER" ]; then
    skip vcpus_2_order "$ORDER is not built (make check builds it)"
elif ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    skip vcpus_2_order "/usr/bin/python3 has no numpy (python3-numpy)"
else
    fifo=$MT_TEST_TMP/order.fifo stream=$MT_TEST_TMP/order.bin
    rm -f "$fifo"
    mkfifo "$fifo"
    cat "$fifo" > "$stream" &
    MT_BG_PIDS+=("$!")
    reader=$!
    mt_run --workload_path_on_host "$ORDER" $NOCOMM --guest_num_of_vCPUs 2 \
        --trace_fifo_path "$fifo" --print_trace_info
    wait "$reader"
    if mt_ok vcpus_2_order; then
        /usr/bin/python3 - "$MT_OUT" "$stream" <<'EOF'
import sys
import numpy as np

out, path = sys.argv[1:3]
text = open(out).read().splitlines()
info = text[text.index('workload info:') + 1].split()
bufs, length, passes = [int(info[0], 16), int(info[2], 16)], int(info[1]), int(info[4])
def value(label):
    for l in text:
        if l.startswith(label + ':'):
            return l.split(':', 1)[1].strip()
a = np.fromfile(path, dtype='<u8').reshape(-1, 2)
w0, va = a[:, 0], a[:, 1]
vcpu = (w0 >> np.uint64(8)) & np.uint64(0xff)
want = np.tile(np.arange(0, length, 8, dtype=np.uint64), passes)
bad = []
for k, base in enumerate(bufs):
    m = (va >= np.uint64(base)) & (va < np.uint64(base + length))
    if set(np.unique(vcpu[m]).tolist()) != {k}:
        bad.append('buffer %d: vCPUs %s' % (k, np.unique(vcpu[m]).tolist()))
    if not np.array_equal(va[m] - np.uint64(base), want):
        bad.append('buffer %d: %d records, not %d stores in program order'
                   % (k, int(m.sum()), len(want)))
if len(a) != int(value('num_of_events_written_to_trace_file')):
    bad.append('%d records read, %s written' % (len(a), value('num_of_events_written_to_trace_file')))
if not ((w0 >> np.uint64(63)) == 1).all() or value('num_of_dropped_events'):
    bad.append('drops or invalid records')
runs = np.diff(np.concatenate(([0], np.flatnonzero(np.diff(vcpu.astype(np.int64))) + 1, [len(a)])))
print('# vcpus_2_order: %d records in %d runs of one vCPU (median %d)'
      % (len(a), len(runs), int(np.median(runs))))
print('PASS: vcpus_2_order' if not bad else 'FAIL: vcpus_2_order: ' + '; '.join(bad))
EOF
    fi
fi
