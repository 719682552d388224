#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The sweep on a real Slurm cluster: a one-node cluster on localhost
# (tests/guest/slurm_cluster.bash: munged, slurmctld and slurmd with
# everything in a temporary directory), tools/sweep/submit_slurm.sh queues
# the four exact-count runs (one JSON report and one trace file per task) as
# a 4-task job array plus the collector job, and every result is checked
# exactly (tests/guest/sweep_lib.bash).  The
# daemons are stopped on every exit path.  Needs root (else SKIP).  About
# 20 s on the 2-core development machine, so it is part of `make check`.
#
#   slurm_array     all four array tasks COMPLETED, each run exact
#   slurm_collect   the collector job wrote results.csv after the array
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/mt_lib.bash"
source "$here/sweep_lib.bash"
source "$here/slurm_cluster.bash"
trap 'slurm_down; mt_cleanup' EXIT
for sig in INT TERM HUP; do trap "exit 1" "$sig"; done

sweep_ready slurm_array || exit 0
cluster=$MT_TEST_TMP/slurm
if ! slurm_up "$cluster"; then
    if [ "$(id -u)" != 0 ] || ! command -v slurmd >/dev/null; then
        skip slurm_array "$SLURM_WHY"
        exit 0
    fi
    fail slurm_array "cannot start the cluster: $SLURM_WHY; $(tail -n 3 "$cluster"/log/*.log 2>/dev/null | tr '\n' '|' | cut -c1-600)"
    exit 1
fi

dir=$MT_TEST_TMP/run_slurm
mkdir -p "$dir/tmp"
sweep_write "$dir/exact.sweep"
ids=$(TMPDIR=$dir/tmp MEMORY_TRACER=$MT "$top/tools/sweep/submit_slurm.sh" \
    "$dir/exact.sweep" "$dir/out" 2>"$dir/submit.err")
read -r array collect <<< "$ids"
if [ -z "${collect:-}" ]; then
    fail slurm_array "submit_slurm.sh: $(head -c 400 "$dir/submit.err")"
    exit 1
fi

# Wait (bounded) until both jobs left the queue.
end=$((SECONDS + 300))
while [ -n "$(squeue -h -j "$array,$collect" 2>/dev/null)" ] && [ "$SECONDS" -lt "$end" ]; do
    sleep 1
done
states=$(scontrol -o show job "$array" 2>/dev/null |
    sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*/\1=\2/p' | sort | tr '\n' ' ')
if [ "$SECONDS" -ge "$end" ]; then
    fail slurm_array "jobs still queued after 300 s: $(squeue 2>&1 | tr '\n' '|')"
    exit 1
fi

why=$(sweep_check "$dir/out")
[ -z "$(ls -A "$dir/tmp")" ] || why="$why; left in TMPDIR: $(ls -A "$dir/tmp")"
if [ "$states" = "1=COMPLETED 2=COMPLETED 3=COMPLETED 4=COMPLETED " ] && [ -z "$why" ]; then
    pass slurm_array
else
    fail slurm_array "task states '$states' $why $(cat "$dir/out"/slurm-*.log "$dir/out"/*.err 2>/dev/null | head -c 600)"
fi
cstate=$(scontrol -o show job "$collect" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\) .*/\1/p')
if [ "$cstate" = COMPLETED ] && [ -s "$dir/out/results.csv" ] &&
   [ "$(tail -n +2 "$dir/out/results.csv" | wc -l)" = 4 ]; then
    pass slurm_collect
else
    fail slurm_collect "collector job $cstate: $(cat "$dir/out"/slurm-*-collect.log 2>/dev/null | head -c 300)"
fi
