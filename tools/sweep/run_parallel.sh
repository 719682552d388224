#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run a sweep on this machine with GNU parallel: the same sweep file and the
# same per-run results as on Slurm (sweep_task.sh), then OUTDIR/results.csv
# (collect.py).  GNU parallel's job log is OUTDIR/parallel.joblog.
#
# usage: run_parallel.sh [-j JOBS] SWEEP_FILE OUTDIR
#
# JOBS defaults to half the CPUs (each run keeps about two busy: QEMU's vCPU
# and writer threads).  Exits 0 if every run exited 0, else 1 (the CSV says
# which runs did not, and why).
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
jobs=$(( ($(nproc) + 1) / 2 ))
if [ "${1:-}" = -j ]; then
    [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "run_parallel.sh: -j needs a number" >&2; exit 2; }
    jobs=$2; shift 2
fi
if [ $# != 2 ]; then
    echo "usage: run_parallel.sh [-j JOBS] SWEEP_FILE OUTDIR" >&2
    exit 2
fi
command -v parallel >/dev/null || { echo "run_parallel.sh: GNU parallel is not installed (Debian: parallel)" >&2; exit 1; }
n=$("$here/sweep_task.sh" --check "$1")
mkdir -p -- "$2"
out=$(cd -- "$2" && pwd)
sweep=$(cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
rc=0
# -q: every word of the command is quoted for parallel's shell, so paths
# stay single arguments; the only substituted value is the run index.
seq 1 "$n" | parallel --will-cite -q -j "$jobs" --joblog "$out/parallel.joblog" \
    "$here/sweep_task.sh" "$sweep" {} "$out" || rc=1
/usr/bin/python3 "$here/collect.py" -o "$out/results.csv" "$out" || rc=1
exit "$rc"
