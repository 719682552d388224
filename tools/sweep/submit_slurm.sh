#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Queue a sweep on Slurm: one array task per run of SWEEP_FILE
# (sweep.sbatch), then a job that merges the JSON reports into
# OUTDIR/results.csv once every task ended (sweep_collect.sbatch).
#
# usage: submit_slurm.sh SWEEP_FILE OUTDIR [SBATCH_OPTION...]
#
# SBATCH_OPTIONs go to both sbatch calls (e.g. --partition=p --time=2:00:00),
# except ours: --max-running=K runs at most K tasks at a time (--array=1-N%K).
# Prints the array's and the collector's job ids ("ARRAY_ID COLLECT_ID").
# Slurm logs go to OUTDIR/slurm-JOB_TASK.log.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 2 ]; then
    echo "usage: submit_slurm.sh SWEEP_FILE OUTDIR [SBATCH_OPTION...]" >&2
    exit 2
fi
sweep=$1 out=$2; shift 2
limit=
opts=()
for a in "$@"; do
    case $a in
    --max-running=*) limit=%${a#--max-running=} ;;
    *) opts+=("$a") ;;
    esac
done
n=$("$here/sweep_task.sh" --check "$sweep")
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd)
sweep=$(cd -- "$(dirname -- "$sweep")" && pwd)/$(basename -- "$sweep")
export MEMORY_TRACER_SWEEP=$here
if [ -z "${MEMORY_TRACER:-}" ] && [ -x "$here/../../build/bin/memory_tracer" ]; then
    MEMORY_TRACER=$(cd -- "$here/../../build/bin" && pwd)/memory_tracer
    export MEMORY_TRACER
fi
array=$(sbatch --parsable --array="1-$n$limit" --output="$out/slurm-%A_%a.log" \
    "${opts[@]}" "$here/sweep.sbatch" "$sweep" "$out")
array=${array%%;*}
collect=$(sbatch --parsable --dependency="afterany:$array" --kill-on-invalid-dep=yes \
    --output="$out/slurm-%j-collect.log" "${opts[@]}" "$here/sweep_collect.sbatch" "$out")
collect=${collect%%;*}
echo "$array $collect"
