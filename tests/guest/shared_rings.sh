#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The shared rings (issue 20, include/gmbeoo/rings.h): memory_tracer offers
# them to the analysis tool it starts, a tool built on libgmbeoo claims them
# and reads the records in place.  The tool is gmbeoo_count in its
# libgmbeoo mode (GMBEOO_COUNT_LIBGMBEOO=1: gmbeoo_tool_start(), so it takes
# the rings; its "source:" line says what it read); the workloads and the
# expected counts are gmbeoo_exact.sh's and vcpus.sh's, which check the
# same over the FIFO (gmbeoo_count there opens the FIFO itself: a tool not
# on libgmbeoo keeps the FIFO).
#  rings_exact_counts     gmbeoo_exact_workload: exactly the records of
#                         expected_exact in the buffer, every record written
#                         read, the end seen; --report_json says
#                         "analysis_transport": "shared-rings"
#  rings_compact8_exact_counts, rings_extended32_exact_counts  the same in
#                         the other record formats
#  rings_cpl3_only        --trace_only_CPL3_code_GMBE: no CPL0 record,
#                         events == written == read
#  rings_sampled_2_3, rings_sampled_3_8  written == the rule's count, all
#                         read
#  rings_vcpus_2          2 vCPUs (gmbeoo_threads_workload): buffer 0's
#                         3000 loads and 1000 stores exactly, all read, no
#                         drop
#  rings_transport_fifo   --analysis_transport fifo: the same tool gets the
#                         FIFO (the report says fifo) and the same counts
#  rings_unclaimed_fifo   a tool that opens the FIFO itself (gmbeoo_count's
#                         own mode) leaves the rings unclaimed and gets the
#                         FIFO: the report says fifo, the same counts
#  rings_consumer_killed, fifo_consumer_killed  a libgmbeoo tool that
#                         SIGKILLs itself mid-run: exit 1 with one line
#                         naming it, no QEMU, no runtime directory, no kept
#                         console log
#  rings_stalled_consumer a consumer that sleeps 4 s after 1000 records
#                         (a 4 M-record ring, 10 M accesses): the run
#                         completes, the drops are counted and marked
#                         (marked == QEMU's dropped count, read + dropped
#                         == events)
#
# group: guest.  Runtime: 1-2 min on the shared 2-core machine.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

COUNT=$top/build/tests/gmbeoo/gmbeoo_count
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_gmbeoo; then
    skip shared_rings "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
if ! grep -aq 'shared-rings' "$QEMU_BIN"; then
    skip shared_rings "this QEMU has no shared rings transport"
    exit 0
fi
mt_require_built shared_rings "$COUNT" "$WL"/gmbeoo_{exact,kernel,medium,threads}_workload || exit 0
source "$(dirname "$0")/exact_expected.bash"
export GMBEOO_COUNT_LIBGMBEOO=1

events() { mt_value num_of_GMBE_events_since_enabling_GMBEOO; }
written() { mt_value num_of_events_written_to_trace_buf; }

# run_rings WORKLOAD [options...]: gmbeoo_count over what memory_tracer
# offers; the JSON report in $MT_OUT.json.
run_rings() {
    local w=$1
    shift
    mt_run --workload_path_on_host "$WL/$w" $NOCOMM --analysis_tool_path "$COUNT" \
        --print_trace_info --report_json "$MT_TEST_TMP/report.json" "$@"
    mv -f "$MT_TEST_TMP/report.json" "$MT_OUT.json" 2>/dev/null
}

# transport_is WANT_SOURCE WANT_JSON: what the tool read and what the
# report says; prints why not.
transport_is() {
    local src json
    src=$(mt_value source)
    json=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("analysis_transport"))' "$MT_OUT.json" 2>/dev/null)
    if [ "$src" != "$1" ] || [ "$json" != "$2" ]; then
        echo "the tool read '$src' (want '$1'), the report says '$json' (want '$2')"
    fi
}

# check_exact NAME WANT_SOURCE WANT_JSON [options...]
check_exact() {
    local name=$1 want_src=$2 want_json=$3
    shift 3
    run_rings gmbeoo_exact_workload "$@"
    mt_ok "$name" || return
    local got want why
    got=$(grep '^at ' "$MT_OUT")
    want=$(expected_exact)
    why=$(transport_is "$want_src" "$want_json")
    if [ -n "$why" ]; then
        fail "$name" "$why"
    elif [ "$got" != "$want" ]; then
        fail "$name" "records in the range differ (- want, + got): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -5 | tr '\n' ';')"
    elif [ "$(mt_value in_range)" != 3601 ]; then
        fail "$name" "in_range $(mt_value in_range), want 3601"
    elif [ "$(mt_value eof)" != 1 ] || [ "$(mt_value records)" != "$(written)" ] ||
         [ "$(mt_value invalid)" != 0 ]; then
        fail "$name" "eof $(mt_value eof), read $(mt_value records), written $(written), invalid $(mt_value invalid)"
    else
        pass "$name"
    fi
}
check_exact rings_exact_counts "shared rings" shared-rings
check_exact rings_compact8_exact_counts "shared rings" shared-rings \
    --trace_record_format compact8
check_exact rings_extended32_exact_counts "shared rings" shared-rings \
    --trace_record_format extended32
check_exact rings_transport_fifo "raw record stream (FIFO or pipe)" fifo \
    --analysis_transport fifo
# gmbeoo_count's own mode opens the FIFO itself (no libgmbeoo tool start):
# offered the rings, it does not claim them and gets the FIFO.
GMBEOO_COUNT_LIBGMBEOO=0 check_exact rings_unclaimed_fifo "" fifo

# ---- cpl3_only ----
run_rings gmbeoo_kernel_workload --trace_only_CPL3_code_GMBE
if mt_ok rings_cpl3_only; then
    e=$(events) w=$(written) r=$(mt_value records)
    why=$(transport_is "shared rings" shared-rings)
    if [ -n "$why" ]; then
        fail rings_cpl3_only "$why"
    elif [ "$(mt_value records_cpl0)" != 0 ] || [ "$(mt_value in_range)" != 0 ]; then
        fail rings_cpl3_only "$(mt_value records_cpl0) CPL0 records, $(mt_value in_range) in the buffer"
    elif [ "$e" != "$w" ] || [ "$w" != "$r" ] || [ "$r" = 0 ]; then
        fail rings_cpl3_only "events $e, written $w, read $r: should be equal (B=R=0)"
    else
        pass rings_cpl3_only
    fi
fi

# ---- sampled ----
check_sampled() {
    local name=$1 b=$2 r=$3
    run_rings gmbeoo_exact_workload --log_of_GMBE_block_len "$b" \
        --log_of_GMBE_tracing_ratio "$r"
    mt_ok "$name" || return
    local e w want why
    e=$(events) w=$(written) want=$(kept "$(events)" "$b" "$r")
    why=$(transport_is "shared rings" shared-rings)
    if [ -n "$why" ]; then
        fail "$name" "$why"
    elif [ "$w" = "$want" ] && [ "$(mt_value records)" = "$w" ] &&
         [ "$(mt_value invalid)" = 0 ] && [ "$e" -gt 3601 ]; then
        pass "$name"
    else
        fail "$name" "events $e: written $w, read $(mt_value records), rule says $want"
    fi
}
check_sampled rings_sampled_2_3 2 3
check_sampled rings_sampled_3_8 3 8

# ---- 2 vCPUs ----
if [ -f "$top/build/guest/guest-2cpu.conf" ]; then
    run_rings gmbeoo_threads_workload --guest_num_of_vCPUs 2
    if mt_ok rings_vcpus_2; then
        want=$'at +0 load size=4 sx=0 cpl=3: 3000\nat +8 store size=8 sx=0 cpl=3: 1000'
        got=$(grep '^at ' "$MT_OUT")
        why=$(transport_is "shared rings" shared-rings)
        if [ -n "$why" ]; then
            fail rings_vcpus_2 "$why"
        elif [ "$got" != "$want" ]; then
            fail rings_vcpus_2 "buffer 0: $(echo "$got" | tr '\n' ';')"
        elif [ "$(mt_value records)" != "$(written)" ] || [ "$(mt_value invalid)" != 0 ] ||
             grep -q num_of_dropped_events "$MT_OUT"; then
            fail rings_vcpus_2 "read $(mt_value records), written $(written), invalid $(mt_value invalid)"
        else
            pass rings_vcpus_2
        fi
    fi
else
    skip rings_vcpus_2 "the 2-vCPU snapshot is not built"
fi

# ---- a consumer that dies mid-run ----
check_killed() {
    local name=$1
    shift
    GMBEOO_COUNT_DIE_AFTER=5000 run_rings gmbeoo_medium_workload "$@"
    local dir=$MT_TEST_TMP/run$MT_RUNS
    if [ "$MT_RC" != 1 ]; then
        fail "$name" "exit status $MT_RC: $(tail -c 300 "$MT_ERR")"
    elif [ -n "$MT_LEAK" ]; then
        fail "$name" "$MT_LEAK"
    elif [ "$(wc -l < "$MT_ERR")" != 1 ] ||
         ! grep -q '^memory_tracer: the analysis tool was killed by signal 9' "$MT_ERR"; then
        fail "$name" "stderr: $(head -c 300 "$MT_ERR")"
    elif [ -n "$(ls -A "$dir")" ]; then
        fail "$name" "left in TMPDIR: $(ls -A "$dir" | tr '\n' ' ')"
    else
        pass "$name"
    fi
}
check_killed rings_consumer_killed
check_killed fifo_consumer_killed --analysis_transport fifo

# ---- a stalled consumer ----
GMBEOO_COUNT_PAUSE_AFTER=1000:4000 run_rings gmbeoo_medium_workload
if mt_ok rings_stalled_consumer; then
    dropped=$(sed -n 's/.*num_of_dropped_events: //p' "$MT_OUT")
    r=$(mt_value records) m=$(mt_value drop_markers) md=$(mt_value marked_dropped)
    why=$(transport_is "shared rings" shared-rings)
    if [ -n "$why" ]; then
        fail rings_stalled_consumer "$why"
    elif [ -z "$dropped" ] || [ "$m" = 0 ] || [ "$md" != "$dropped" ]; then
        fail rings_stalled_consumer "dropped '$dropped', $m markers for $md records"
    elif [ "$r" != "$(written)" ] || [ $((r - m + md)) != "$(events)" ] ||
         [ "$(mt_value eof)" != 1 ]; then
        fail rings_stalled_consumer "read $r ($m markers, $md marked), written $(written), events $(events), eof $(mt_value eof)"
    else
        echo "# rings_stalled_consumer: $md of $(events) dropped, $m markers"
        pass rings_stalled_consumer
    fi
fi
