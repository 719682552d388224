#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --report_json and the exit status on the embedded guest:
#   report_matches_output  the exact-count workload into gmbeoo_count with
#                   --print_trace_info: the report parses (Python's json),
#                   every trace info counter, the duration, the workload
#                   info and the analysis block equal what was printed;
#                   options, QEMU version, guest, times are there
#   report_without_print   without --print_trace_info nothing more is
#                   printed, but the report still has the counters
#   guest_kernel_release   the report's guest kernel_release is what
#                   `uname -r` says inside the guest
#   exit_0 / exit_3 / exit_139 / exit_127   the workload's status is
#                   memory_tracer's, and the report says how it ended with
#                   memory_tracer_error null
#   exit_timeout    a workload stopped by --timeout: 0, workload_end timeout
#   tracer_failure  memory_tracer's own failure: exit 1 and the report
#                   holds the stderr line in memory_tracer_error
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"
PY=/usr/bin/python3
COUNT=$top/build/tests/gmbeoo/gmbeoo_count
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_gmbeoo; then
    skip report_json "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
mt_require_built report_json "$COUNT" "$WL/gmbeoo_exact_workload" "$WL/crashing_workload" || exit 0
R=$MT_TEST_TMP/reports
mkdir -p "$R"

# field REPORT EXPR: a Python expression over the report r, printed.
field() {
    "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# ---- the report against the printed output ----
mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
    --analysis_tool_path "$COUNT" --print_trace_info --log_of_GMBE_block_len 0 \
    --report_json "$R/exact.json"
if mt_ok report_matches_output; then
    why=$("$PY" - "$R/exact.json" "$MT_OUT" "$WL/gmbeoo_exact_workload" "$COUNT" <<'PYEND'
import json, sys
r = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
bad = []
def block(label, nxt):
    body = out.split(label + "\n", 1)[1]
    for n in nxt:
        body = body.split("\n" + n, 1)[0]
    return body.strip("\n")
# Every "name: value" line of the trace info block, ATTENTION lines too.
info = {}
for line in block("trace info:", []).splitlines():
    line = line.replace("- - - - - - - - - - ATTENTION - - - - - - - - - -: ", "")
    k, v = line.rsplit(": ", 1)
    if k.startswith("actual_tracing_ratio"):
        k = "actual_tracing_ratio"
    if k == "workload_CR3":
        if r.get("workload_CR3") != v:
            bad.append("workload_CR3 printed %s, report %s" % (v, r.get("workload_CR3")))
        continue
    info[k] = int(v)
ti = r["trace_info"]
if len(info) < 4:
    bad.append("only %d printed counters" % len(info))
for k, v in info.items():
    if ti.get(k) != v:
        bad.append("%s printed %s, report %s" % (k, v, ti.get(k)))
for k in ("num_of_events_waiting_in_trace_buf", "num_of_missing_events",
          "num_of_dropped_events"):
    if k not in info and ti.get(k) != 0:
        bad.append("%s not printed but %s in the report" % (k, ti.get(k)))
dur = int(out.split("tracing_duration_in_milliseconds: ", 1)[1].split("\n", 1)[0])
if r["tracing_duration_in_milliseconds"] != dur:
    bad.append("duration %s vs %s" % (r["tracing_duration_in_milliseconds"], dur))
if r["workload_info"] != block("workload info:", ["tracing_duration"]):
    bad.append("workload_info %r" % r["workload_info"])
if r["analysis_output"] != block("analysis output:", ["trace info:"]):
    bad.append("analysis_output differs")
f = r["analysis_output_fields"]
if f.get("in_range") != 3601 or f.get("records") != ti["num_of_events_written_to_trace_buf"]:
    bad.append("analysis fields in_range %s records %s" % (f.get("in_range"), f.get("records")))
if (r["exit_status"], r["memory_tracer_error"], r["workload_end"], r["workload_exit_status"]) != (0, None, "exited", 0):
    bad.append("status %s" % [r[k] for k in ("exit_status", "memory_tracer_error", "workload_end", "workload_exit_status")])
o = r["options"]
want = {"workload_path_on_host": sys.argv[3], "analysis_tool_path": sys.argv[4],
        "mode": "analysis_tool", "log_of_GMBE_block_len": 0,
        "log_of_GMBE_tracing_ratio": 0, "trace_only_CPL3_code_GMBE": False,
        "print_trace_info": True, "report_json": sys.argv[1],
        "dont_add_communications_with_host_to_workload": True, "timeout": None}
for k, v in want.items():
    if o.get(k) != v:
        bad.append("option %s = %r, want %r" % (k, o.get(k), v))
if not o.get("qemu_binary") or o.get("guest_RAM_in_MBs") not in (None,) and o["guest_RAM_in_MBs"] <= 0:
    bad.append("qemu_binary/RAM %r %r" % (o.get("qemu_binary"), o.get("guest_RAM_in_MBs")))
q = r["qemu_version"] or {}
if (q.get("qemu", {}).get("major"), q.get("qemu", {}).get("minor")) != (7, 2):
    bad.append("qemu_version %r" % q)
g = r["guest"]
if not g["embedded"] or g["snapshot"] != "ready_for_memory_tracer" or not g["image"] or not g["ram_mb"]:
    bad.append("guest %r" % g)
if not r["memory_tracer_version"] or not r["start_time"] or r["command_line"][-1] != sys.argv[1]:
    bad.append("version/start/command_line")
print("; ".join(bad))
PYEND
    )
    [ -z "$why" ] && pass report_matches_output || fail report_matches_output "$why"
fi

mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
    --analysis_tool_path "$COUNT" --report_json "$R/quiet.json"
if mt_ok report_without_print; then
    w=$(field "$R/quiet.json" 'r["trace_info"]["num_of_events_written_to_trace_buf"] == r["analysis_output_fields"]["records"] > 0')
    if grep -q '^trace info:' "$MT_OUT"; then
        fail report_without_print "trace info printed without --print_trace_info"
    elif [ "$w" != True ]; then
        fail report_without_print "counters in the report: $w"
    else
        pass report_without_print
    fi
fi

# ---- the guest's kernel release ----
uname_wl=$MT_TEST_TMP/uname_workload
printf '%s\n' '#!/bin/sh' 'echo "-----begin workload info-----"' 'uname -r' \
    'echo "-----end workload info-----"' 'echo "Ready to trace. Press enter to continue"' \
    'read -r line' 'echo "Stop tracing"' > "$uname_wl"
chmod +x "$uname_wl"
mt_run --workload_path_on_host "$uname_wl" $NOCOMM --dont_trace --report_json "$R/uname.json"
if mt_ok guest_kernel_release; then
    inside=$(sed -n '/^workload info:$/{n;p;q}' "$MT_OUT")
    rel=$(field "$R/uname.json" 'r["guest"]["kernel_release"]')
    if [ -n "$inside" ] && [ "$rel" = "$inside" ] &&
       [ "$(field "$R/uname.json" 'r["guest"]["kernel_version"].startswith(r["guest"]["kernel_release"] + " ")')" = True ]; then
        pass guest_kernel_release
    else
        fail guest_kernel_release "uname -r in the guest '$inside', report '$rel'"
    fi
fi

# ---- exit statuses ----
# exit_status NAME WANT_RC WANT_END WANT_WORKLOAD_STATUS WANT_SIGNAL
exit_status() {
    local name=$1 rc=$2 want="($3, $4, $5, None, $2)"
    local got
    got=$(field "$R/$name.json" '(r["workload_end"], r["workload_exit_status"], r["workload_signal"], r["memory_tracer_error"], r["exit_status"])')
    if [ "$MT_RC" = "$rc" ] && [ "$got" = "$want" ] && [ -z "$MT_LEAK" ] &&
       grep -q '^tracing_duration_in_milliseconds: ' "$MT_OUT"; then
        pass "$name"
    else
        fail "$name" "rc=$MT_RC (want $rc) report=$got (want $want) leak=$MT_LEAK stderr=$(head -c 300 "$MT_ERR")"
    fi
}
mt_run --workload_path_on_guest /bin/true --dont_trace --report_json "$R/exit_0.json"
exit_status exit_0 0 "'exited'" 0 None
exit3=$MT_TEST_TMP/exit3_workload
printf '#!/bin/sh\necho leaving with 3\nexit 3\n' > "$exit3"; chmod +x "$exit3"
mt_run --workload_path_on_host "$exit3" --dont_trace --report_json "$R/exit_3.json"
exit_status exit_3 3 "'exited'" 3 None
mt_run --workload_path_on_host "$WL/crashing_workload" $NOCOMM --dont_trace --report_json "$R/exit_139.json"
exit_status exit_139 139 "'signal'" 139 11
mt_run --workload_path_on_guest /no_such_program --dont_trace --report_json "$R/exit_127.json"
exit_status exit_127 127 "'not_found'" 127 None
# --timeout stopping the workload is the end the user asked for: 0.  The
# guest's timeout is coreutils' (Debian root file system): it exits 124, as
# in the original's Ubuntu guest (busybox's was killed by SIGTERM: 143).
mt_run --workload_path_on_host "$WL/sleep_forever_workload.sh" --timeout 2 --dont_trace \
    --report_json "$R/exit_timeout.json"
exit_status exit_timeout 0 "'timeout'" 124 None

# ---- memory_tracer's own failure ----
mt_run --workload_path_on_guest /bin/true --dont_trace --report_json "$R/fail.json" \
    "$top/build/guest/guest.qcow2" no_such_snapshot "$BIN"
err=$(field "$R/fail.json" 'r["memory_tracer_error"]')
end=$(field "$R/fail.json" '(r["exit_status"], r["workload_end"], r["workload_exit_status"])')
line=$(head -n 1 "$MT_ERR")
if [ "$MT_RC" = 1 ] && [ "$end" = "(1, 'unknown', None)" ] && [ -n "$err" ] &&
   [[ $line == "memory_tracer: $err"* ]] && [ -z "$MT_LEAK" ] &&
   [ -z "$(ls -A "$R" | grep -v '\.json$')" ]; then
    pass tracer_failure
else
    fail tracer_failure "rc=$MT_RC report=$end error='$err' stderr='$line' files: $(ls -A "$R" | tr '\n' ' ')"
fi
