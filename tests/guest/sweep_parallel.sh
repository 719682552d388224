#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A sweep of four exact-count runs, each into its own trace file, under GNU
# parallel (tools/sweep/run_parallel.sh, two at a time): every result
# checked exactly (tests/guest/sweep_lib.bash), no run left behind.  The same sweep
# on a Slurm cluster is tests/guest/sweep_slurm.sh.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"
source "$(dirname "$0")/sweep_lib.bash"
sweep_ready sweep_parallel || exit 0
if ! command -v parallel >/dev/null; then
    skip sweep_parallel "GNU parallel is not installed (Debian package parallel)"
    exit 0
fi
dir=$MT_TEST_TMP/run_parallel
mkdir -p "$dir/tmp"
sweep_write "$dir/exact.sweep"
TMPDIR=$dir/tmp MEMORY_TRACER=$MT "$top/tools/sweep/run_parallel.sh" -j 2 \
    "$dir/exact.sweep" "$dir/out" >"$dir/log" 2>&1
rc=$?
why=$(sweep_check "$dir/out")
left=$(ls -A "$dir/tmp")
[ -z "$left" ] || why="$why; left in TMPDIR: $left"
if [ "$rc" = 0 ] && [ -z "$why" ]; then
    pass sweep_parallel
else
    fail sweep_parallel "rc=$rc $why $(tail -c 300 "$dir/log") $(cat "$dir/out"/*.err 2>/dev/null | head -c 400)"
fi
