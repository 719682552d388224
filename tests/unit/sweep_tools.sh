#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tools/sweep/ without a guest: a stand-in memory_tracer records the
# arguments each run gets.
#   check_counts / check_rejects   sweep_task.sh --check: the run count, and
#                  one clear line for each kind of bad line
#   task_arguments  a run line becomes exactly the expected argv, run from
#                  the sweep file's directory (paths with blanks intact)
#   task_trace_file without a destination in its options a run writes
#                  OUTDIR/NAME.trace.zst (--trace_file_path), or fails with one
#                  line if memory_tracer cannot
#   task_status     sweep_task.sh exits with memory_tracer's status
#   parallel_runs   run_parallel.sh: every run once, results.csv
#   collect_csv     collect.py: one row per report, the columns and values,
#                  an unreadable report as a row with its error
# The real runs (Slurm, GNU parallel, on the guest) are tests/guest/sweep_*.sh.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
S=$top/tools/sweep
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt sweep.XXXXXX")     # a blank on purpose
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

# The stand-in: writes its cwd and argv to REPORT.args and a small report;
# exits 3 for a workload named exit3.
fake=$tmp/fake_memory_tracer
cat > "$fake" <<'FAKE'
#!/usr/bin/env bash
if [ "${1:-}" = --help ]; then echo "usage: fake [--report_json PATH] ${FAKE_HELP:-}"; exit 0; fi
report= workload=
for ((i = 1; i <= $#; i++)); do
    case ${!i} in
    --report_json) j=$((i + 1)); report=${!j} ;;
    --workload_path_on_host|--workload_path_on_guest) j=$((i + 1)); workload=${!j} ;;
    esac
done
{ pwd; printf '%s\n' "$@"; } > "$report.args"
rc=0; [ "$(basename -- "$workload")" = exit3 ] && rc=3
printf '{"exit_status": %d, "memory_tracer_error": null, "workload_end": "exited", "workload_exit_status": %d, "options": {"workload_path_on_host": "%s", "log_of_GMBE_block_len": 1}, "trace_info": {"num_of_events_written_to_trace_buf": 7}, "analysis_output_fields": {"records": 7}}\n' "$rc" "$rc" "$workload" > "$report"
echo "tracing_duration_in_milliseconds: 1"
exit "$rc"
FAKE
chmod +x "$fake"
export MEMORY_TRACER=$fake

mkdir -p "$tmp/sweeps"
sweep=$tmp/sweeps/my.sweep
printf '%s\n' \
    '# name workload B R cpl3 format options' \
    '' \
    'first   w/one    0 0 all  -        --analysis_tool_path ../tool --dont_add_communications_with_host_to_workload' \
    '   # an indented comment' \
    "second	guest:/bin/ls	3	4	cpl3	compact8	--dont_trace" \
    'third   exit3    0 1 all  gmbeoo16 --dont_trace' > "$sweep"

n=$("$S/sweep_task.sh" --check "$sweep" 2>&1)
[ "$n" = 3 ] && pass check_counts || fail check_counts "got '$n'"

bad() {     # bad NAME REGEX LINE
    printf '%s\n' "$3" > "$tmp/bad.sweep"
    local err rc
    err=$("$S/sweep_task.sh" --check "$tmp/bad.sweep" 2>&1 >/dev/null); rc=$?
    if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$err" | grep -c '')" = 1 ] &&
       printf '%s' "$err" | grep -Eq -- "$2"; then
        return 0
    fi
    echo "$1: rc=$rc err=$err"
    return 1
}
why=$(
    bad fields 'expected NAME WORKLOAD B R CPL3 FORMAT' 'a w 0 0 all'
    bad name "bad NAME '../x'" '../x w 0 0 all - --dont_trace'
    bad b 'B must be a number' 'a w x 0 all - --dont_trace'
    bad r 'R must be a number' 'a w 0 -1 all - --dont_trace'
    bad cpl3 'CPL3 must be cpl3 or all' 'a w 0 0 yes - --dont_trace'
    bad format 'FORMAT must be' 'a w 0 0 all gmbeoo32 --dont_trace'
    bad dup 'NAME a also names run 1' $'a w 0 0 all - --dont_trace\na w 1 0 all - --dont_trace'
    bad empty 'has no runs' '# nothing'
)
[ -z "$why" ] && pass check_rejects || fail check_rejects "$why"

out="$tmp/out dir"
"$S/sweep_task.sh" "$sweep" 1 "$out" && "$S/sweep_task.sh" "$sweep" 2 "$out"
rc2=$?
want1=$(printf '%s\n' "$tmp/sweeps" --workload_path_on_host w/one \
    --log_of_GMBE_block_len 0 --log_of_GMBE_tracing_ratio 0 \
    --print_trace_info --report_json "$out/first.json" \
    --analysis_tool_path ../tool --dont_add_communications_with_host_to_workload)
want2=$(printf '%s\n' "$tmp/sweeps" --workload_path_on_guest /bin/ls \
    --log_of_GMBE_block_len 3 --log_of_GMBE_tracing_ratio 4 \
    --trace_only_CPL3_code_GMBE --trace_record_format compact8 \
    --print_trace_info --report_json "$out/second.json" --dont_trace)
if [ "$rc2" = 0 ] && [ "$(cat "$out/first.json.args")" = "$want1" ] &&
   [ "$(cat "$out/second.json.args")" = "$want2" ] &&
   grep -q '^tracing_duration' "$out/first.out"; then
    pass task_arguments
else
    fail task_arguments "rc=$rc2 first: $(tr '\n' ' ' < "$out/first.json.args") second: $(tr '\n' ' ' < "$out/second.json.args")"
fi

nodest=$tmp/sweeps/nodest.sweep
printf 'plain w/two 0 0 all - --verbose\n' > "$nodest"
err=$("$S/sweep_task.sh" "$nodest" 1 "$out" 2>&1); rc_no=$?
FAKE_HELP="--trace_file_path PATH" "$S/sweep_task.sh" "$nodest" 1 "$out"; rc_yes=$?
want=$(printf '%s\n' "$tmp/sweeps" --workload_path_on_host w/two \
    --log_of_GMBE_block_len 0 --log_of_GMBE_tracing_ratio 0 \
    --trace_file_path "$out/plain.trace.zst" \
    --print_trace_info --report_json "$out/plain.json" --verbose)
if [ "$rc_no" = 1 ] && [[ $err == *"cannot write trace files"* ]] &&
   [ "$rc_yes" = 0 ] && [ "$(cat "$out/plain.json.args")" = "$want" ]; then
    pass task_trace_file
else
    fail task_trace_file "rc $rc_no/$rc_yes err=$err args: $(tr '\n' ' ' < "$out/plain.json.args")"
fi

"$S/sweep_task.sh" "$sweep" 3 "$out"; rc=$?
err=$("$S/sweep_task.sh" "$sweep" 4 "$out" 2>&1); rc4=$?
if [ "$rc" = 3 ] && [ "$rc4" = 1 ] && [[ $err == *"has no run 4"* ]]; then
    pass task_status
else
    fail task_status "rc=$rc rc4=$rc4 err=$err"
fi

if command -v parallel >/dev/null; then
    rm -rf "$out"
    "$S/run_parallel.sh" -j 2 "$sweep" "$out" 2>"$tmp/par.err"; rc=$?
    rows=$(tail -n +2 "$out/results.csv" | cut -d, -f1,2 | tr '\n' ' ')
    runs=$(tail -n +2 "$out/parallel.joblog" | wc -l)
    # exit3 makes it fail: status 1, but every run ran and is in the CSV.
    if [ "$rc" = 1 ] && [ "$rows" = "first,0 second,0 third,3 " ] && [ "$runs" = 3 ]; then
        pass parallel_runs
    else
        fail parallel_runs "rc=$rc rows='$rows' joblog runs=$runs err=$(head -c 300 "$tmp/par.err")"
    fi
else
    echo "SKIP: parallel_runs: GNU parallel is not installed"
fi

# collect.py on its own: the columns, a broken report.
c=$tmp/collect; mkdir -p "$c"
"$S/sweep_task.sh" "$sweep" 1 "$c" && mv "$c/first.json" "$c/b.json" && rm "$c"/first.*
printf '{"exit_status": 1, "memory_tracer_error": "it broke", "analysis_output_fields": {"in_range": 3601}}' > "$c/a.json"
printf '{"exit_st' > "$c/c.json"
"$PY" "$S/collect.py" -o "$c/r.csv" "$c" 2>"$tmp/collect.err"; rc=$?
why=$("$PY" - "$c/r.csv" <<'PYEND'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
head = open(sys.argv[1]).readline().strip().split(",")
bad = []
if [r["name"] for r in rows] != ["a", "b", "c"]:
    bad.append("names %s" % [r["name"] for r in rows])
else:
    a, b, c = rows
    if (a["exit_status"], a["memory_tracer_error"], a["analysis.in_range"]) != ("1", "it broke", "3601"):
        bad.append("row a %s" % a)
    if (b["exit_status"], b["num_of_events_written_to_trace_buf"], b["analysis.records"],
            b["log_of_GMBE_block_len"], b["analysis.in_range"]) != ("0", "7", "7", "1", ""):
        bad.append("row b %s" % b)
    if not c["memory_tracer_error"].startswith("unreadable report"):
        bad.append("row c %s" % c)
for col in ("name", "exit_status", "memory_tracer_error", "workload_end",
            "workload_exit_status", "tracing_duration_in_milliseconds",
            "num_of_GMBE_events_since_enabling_GMBEOO",
            "num_of_events_written_to_trace_buf",
            "num_of_events_written_to_trace_file", "num_of_dropped_events"):
    if col not in head:
        bad.append("no column " + col)
print("; ".join(bad))
PYEND
)
if [ "$rc" = 0 ] && [ -z "$why" ] && [ -z "$(ls -A "$c" | grep '^\.results')" ]; then
    pass collect_csv
else
    fail collect_csv "rc=$rc $why $(head -c 200 "$tmp/collect.err")"
fi
