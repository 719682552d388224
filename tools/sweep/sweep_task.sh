#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One run of a sweep: line INDEX of SWEEP_FILE through memory_tracer, its
# results into OUTDIR.  The Slurm array job (sweep.sbatch) and the GNU
# parallel runner (run_parallel.sh) both run this.
#
# usage: sweep_task.sh SWEEP_FILE INDEX OUTDIR
#        sweep_task.sh --check SWEEP_FILE    validate; print the run count
#
# The sweep file: one run per line, fields separated by spaces or tabs;
# blank lines and lines starting with '#' are ignored; INDEX counts runs
# from 1.
#
#   NAME  WORKLOAD  B  R  CPL3  FORMAT  [EXTRA OPTION...]
#
#   NAME      unique, [A-Za-z0-9][A-Za-z0-9._-]*: names the result files
#   WORKLOAD  a host file (--workload_path_on_host), or guest:PATH for a
#             program on the guest (--workload_path_on_guest)
#   B, R      --log_of_GMBE_block_len, --log_of_GMBE_tracing_ratio
#   CPL3      cpl3 (--trace_only_CPL3_code_GMBE) or all
#   FORMAT    gmbeoo16, compact8 or extended32 (--trace_record_format), or
#             - for memory_tracer's default
#   EXTRA     further memory_tracer options, one word each (no quoting:
#             a value cannot contain blanks), e.g. --analysis_tool_path
#             TOOL --dont_add_communications_with_host_to_workload
#
# Relative paths (WORKLOAD, paths in EXTRA) are relative to the sweep
# file's directory: the run starts there.  Without a trace destination in
# EXTRA (--analysis_tool_path, --trace_fifo_path, --trace_file_path,
# --dont_trace, --dont_use_qemu) the records go to OUTDIR/NAME.trace.zst
# (--trace_file_path).
#
# Results: OUTDIR/NAME.json (--report_json), NAME.out and NAME.err
# (memory_tracer's stdout and stderr), NAME.trace.zst when traced to a file.
# The exit status is memory_tracer's (the workload's, or 1 when
# memory_tracer failed: the JSON report says which).
#
# Environment: MEMORY_TRACER, the memory_tracer binary (default: this
# checkout's build/bin/memory_tracer, else memory_tracer on PATH).
set -euo pipefail

die() { echo "sweep_task: $*" >&2; exit 1; }

# sweep_lines FILE: the run lines, one per line.
sweep_lines() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        printf '%s\n' "$line"
    done < "$1"
}

# check_fields LINE_NO FIELD...: one run line's fields are well formed.
check_fields() {
    local n=$1; shift
    [ $# -ge 6 ] || die "run $n: expected NAME WORKLOAD B R CPL3 FORMAT [OPTIONS], got $# fields"
    [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "run $n: bad NAME '$1' (letters, digits, . _ -)"
    [[ $3 =~ ^[0-9]+$ ]] || die "run $n ($1): B must be a number, not '$3'"
    [[ $4 =~ ^[0-9]+$ ]] || die "run $n ($1): R must be a number, not '$4'"
    case $5 in cpl3|all) ;; *) die "run $n ($1): CPL3 must be cpl3 or all, not '$5'" ;; esac
    case $6 in -|gmbeoo16|compact8|extended32) ;;
        *) die "run $n ($1): FORMAT must be gmbeoo16, compact8, extended32 or -, not '$6'" ;; esac
}

if [ "${1:-}" = --check ]; then
    [ $# = 2 ] || die "usage: sweep_task.sh --check SWEEP_FILE"
    [ -f "$2" ] && [ -r "$2" ] || die "cannot read $2"
    n=0
    declare -A seen=()
    while IFS= read -r line; do
        n=$((n + 1))
        read -r -a f <<< "$line"
        check_fields "$n" "${f[@]}"
        [ -z "${seen[${f[0]}]:-}" ] || die "run $n: NAME ${f[0]} also names run ${seen[${f[0]}]}"
        seen[${f[0]}]=$n
    done < <(sweep_lines "$2")
    [ "$n" -gt 0 ] || die "$2 has no runs"
    echo "$n"
    exit 0
fi

[ $# = 3 ] || die "usage: sweep_task.sh SWEEP_FILE INDEX OUTDIR | --check SWEEP_FILE"
sweep=$1 index=$2 out=$3
[ -f "$sweep" ] && [ -r "$sweep" ] || die "cannot read $sweep"
[[ $index =~ ^[1-9][0-9]*$ ]] || die "INDEX must be a number from 1, not '$index'"
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd)
sweep_dir=$(cd -- "$(dirname -- "$sweep")" && pwd)

line=$(sweep_lines "$sweep" | sed -n "${index}p")
[ -n "$line" ] || die "$sweep has no run $index"
read -r -a f <<< "$line"
check_fields "$index" "${f[@]}"
name=${f[0]} workload=${f[1]} b=${f[2]} r=${f[3]} cpl3=${f[4]} format=${f[5]}
extra=("${f[@]:6}")

mt=${MEMORY_TRACER:-}
if [ -z "$mt" ]; then
    here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
    mt=$here/../../build/bin/memory_tracer
    [ -x "$mt" ] || mt=$(command -v memory_tracer || true)
fi
[ -n "$mt" ] && [ -x "$mt" ] || die "no memory_tracer (set MEMORY_TRACER)"

args=()
if [[ $workload == guest:* ]]; then
    args+=(--workload_path_on_guest "${workload#guest:}")
else
    args+=(--workload_path_on_host "$workload")
fi
args+=(--log_of_GMBE_block_len "$b" --log_of_GMBE_tracing_ratio "$r")
[ "$cpl3" = cpl3 ] && args+=(--trace_only_CPL3_code_GMBE)
[ "$format" != - ] && args+=(--trace_record_format "$format")

has_destination=
for a in "${extra[@]}"; do
    a=${a%%=*}
    case ${a//-/_} in
    __analysis_tool_path|__trace_fifo_path|__trace_file_path|__dont_trace|__dont_use_qemu)
        has_destination=1 ;;
    esac
done
rm -f -- "$out/$name".{json,out,err,trace.zst}
if [ -z "$has_destination" ]; then
    help=$("$mt" --help)
    [[ $help == *--trace_file_path* ]] ||
        die "run $index ($name): no trace destination in its options, and this memory_tracer cannot write trace files"
    args+=(--trace_file_path "$out/$name.trace.zst")
fi
args+=(--print_trace_info --report_json "$out/$name.json")

cd -- "$sweep_dir"
rc=0
"$mt" "${args[@]}" "${extra[@]}" >"$out/$name.out" 2>"$out/$name.err" </dev/null || rc=$?
exit "$rc"
