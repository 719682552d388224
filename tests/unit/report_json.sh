#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --report_json and the exit status rule without a guest (native runs and
# validation failures; the QEMU runs are in tests/guest/report_json.sh):
#   native_exit_3 / native_signal_11   the workload's status becomes
#                    memory_tracer's (3, 128+11) and the report says how it
#                    ended, with memory_tracer_error null
#   native_report_fields               options, version, times, duration
#                    equal to the printed line, no temporary file left
#   validation_failure_report          a check failing after parsing: exit 1,
#                    one line, a report with memory_tracer_error = that line
#   report_dir_missing                 an unwritable report path: exit 1, one
#                    line, nothing written
#   usage_error_no_report              exit 2 before parsing ends: no report
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
mt=${BIN:-$top/build/bin}/memory_tracer
PY=/usr/bin/python3
if [ ! -x "$mt" ]; then
    echo "SKIP: report_json: $mt not built"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-rj.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

printf '#!/bin/sh\necho work\nexit 3\n' > "$tmp/exit3"
printf '#!/bin/sh\nkill -SEGV $$\n' > "$tmp/segv"
chmod +x "$tmp/exit3" "$tmp/segv"

# jq_py REPORT EXPR: print a Python expression over the report r.
jq_py() {
    "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# run NAME ARGS...: sets RC, OUT, ERR files under $tmp/NAME.
run() {
    local name=$1; shift
    mkdir -p "$tmp/$name"
    "$mt" "$@" >"$tmp/$name/out" 2>"$tmp/$name/err" </dev/null
    RC=$?
}

run n3 --workload_path_on_host "$tmp/exit3" --dont_use_qemu --report_json "$tmp/n3/r.json"
got=$(jq_py "$tmp/n3/r.json" '(r["exit_status"], r["workload_exit_status"], r["workload_end"], r["workload_signal"], r["memory_tracer_error"])' 2>&1)
if [ "$RC" = 3 ] && [ "$got" = "(3, 3, 'exited', None, None)" ]; then
    pass native_exit_3
else
    fail native_exit_3 "rc=$RC report=$got err=$(head -c 200 "$tmp/n3/err")"
fi

run n11 --workload_path_on_host "$tmp/segv" --dont_use_qemu --report_json "$tmp/n11/r.json"
got=$(jq_py "$tmp/n11/r.json" '(r["exit_status"], r["workload_exit_status"], r["workload_end"], r["workload_signal"], r["memory_tracer_error"])' 2>&1)
if [ "$RC" = 139 ] && [ "$got" = "(139, 139, 'signal', 11, None)" ]; then
    pass native_signal_11
else
    fail native_signal_11 "rc=$RC report=$got"
fi

# The report against what was printed and what was asked.
printed=$(sed -n 's/^tracing_duration_in_milliseconds: //p' "$tmp/n3/out")
why=$("$PY" - "$tmp/n3/r.json" "$printed" "$tmp/exit3" "$mt" <<'EOF'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
o = r["options"]
checks = [
    (r["tracing_duration_in_milliseconds"] == int(sys.argv[2]), "duration"),
    (r["memory_tracer_version"] != "", "version"),
    (r["command_line"][0] == sys.argv[4], "command_line"),
    (o["workload_path_on_host"] == sys.argv[3], "workload path"),
    (o["dont_use_qemu"] is True and o["mode"] == "dont_use_qemu", "mode"),
    (o["log_of_GMBE_block_len"] == 0 and o["log_of_GMBE_tracing_ratio"] == 0, "B, R"),
    (o["report_json"] == sys.argv[1], "report_json"),
    (r["trace_info"] is None and r["analysis_output"] is None, "untraced"),
]
start = datetime.datetime.fromisoformat(r["start_time"].replace("Z", "+00:00"))
end = datetime.datetime.fromisoformat(r["end_time"].replace("Z", "+00:00"))
checks.append((start <= end, "start <= end"))
print(" ".join(w for ok, w in checks if not ok))
EOF
)
left=$(ls -A "$tmp/n3" | grep -v -x -e out -e err -e r.json)
if [ -z "$why" ] && [ -n "$printed" ] && [ -z "$left" ]; then
    pass native_report_fields
else
    fail native_report_fields "wrong: '$why' printed='$printed' left: $left"
fi

run v --workload_path_on_host "$tmp/no_such_workload" --dont_use_qemu --report_json "$tmp/v/r.json"
got=$(jq_py "$tmp/v/r.json" '(r["exit_status"], r["workload_end"])' 2>&1)
error=$(jq_py "$tmp/v/r.json" 'r["memory_tracer_error"]' 2>&1)
line=$(sed 's/^memory_tracer: //' "$tmp/v/err")
if [ "$RC" = 1 ] && [ "$(grep -c '' "$tmp/v/err")" = 1 ] &&
   [ "$got" = "(1, 'unknown')" ] && [ "$error" = "$line" ]; then
    pass validation_failure_report
else
    fail validation_failure_report "rc=$RC report=$got stderr=$line"
fi

run d --workload_path_on_host "$tmp/exit3" --dont_use_qemu --report_json "$tmp/no_dir/r.json"
if [ "$RC" = 1 ] && [ "$(grep -c '' "$tmp/d/err")" = 1 ] &&
   grep -q 'report_json must be a file path in a writable directory' "$tmp/d/err" &&
   [ ! -e "$tmp/no_dir" ] && [ ! -s "$tmp/d/out" ]; then
    pass report_dir_missing
else
    fail report_dir_missing "rc=$RC stderr=$(head -c 200 "$tmp/d/err")"
fi

run u --workload_path_on_host "$tmp/exit3" --report_json "$tmp/u/r.json"
if [ "$RC" = 2 ] && [ ! -e "$tmp/u/r.json" ]; then
    pass usage_error_no_report
else
    fail usage_error_no_report "rc=$RC"
fi
