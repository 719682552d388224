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
#  vcpus_2_trace_refused  tracing a 2-vCPU guest fails with QEMU's "one vCPU
#                       only" (the patches record one vCPU so far), cleanly
#
# group: guest.  Runtime: about a minute on the shared 2-core machine.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

THREADS=$WL/gmbeoo_threads_workload
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_guest; then
    skip vcpus "the guest or memory_tracer is not built"
    exit 0
fi
if [ ! -x "$THREADS" ]; then
    skip vcpus "$THREADS is not built (make check builds it)"
    exit 0
fi

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

if mt_have_gmbeoo && [ -f "$top/build/guest/guest-2cpu.conf" ]; then
    mt_run --workload_path_on_host "$THREADS" $NOCOMM --guest_num_of_vCPUs 2 \
        --analysis_tool_path "$top/build/tests/gmbeoo/gmbeoo_count"
    if [ "$MT_RC" = 1 ] && [ -z "$MT_LEAK" ] && grep -q 'one vCPU only' "$MT_ERR"; then
        pass vcpus_2_trace_refused
    else
        fail vcpus_2_trace_refused "exit $MT_RC $MT_LEAK: $(tail -c 300 "$MT_ERR")"
    fi
fi
