#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test runner behind `make check`.
#
# The tests are listed in tests/tests.list (a script of the source tree, or
# a compiled program under build/); a listed test that is missing or not
# executable fails.  A test prints one line per case:
#     PASS: <name>
#     FAIL: <name>: <why>
#     SKIP: <name>: <why>
# and exits 0 unless something failed.  A test that prints no line is one
# case named after its file, passed iff it exited 0.  Exit status 77 (the
# automake convention) means skipped: a test that cannot run here says why
# on its last output line and exits 77; it counts as one skipped case unless
# it printed SKIP lines of its own.  Each file runs under a timeout; files
# run concurrently (TEST_JOBS at a time, default nproc).
#
# usage: tests/run.sh [GROUP...]      (default: unit guest robustness)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export TOP="$top" BUILD="$top/build" BIN="$top/build/bin"
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(unit guest robustness)
jobs=${TEST_JOBS:-$(nproc)}
per_test_timeout=${TEST_TIMEOUT:-600}
out=$(mktemp -d "${TMPDIR:-/tmp}/mt-tests.XXXXXX")
trap 'rm -rf "$out"' EXIT

files=()
while read -r t _; do
    case $t in ''|'#'*) continue ;; esac
    g=${t#build/}; g=${g#tests/}; g=${g%%/*}
    for want in "${groups[@]}"; do
        if [ "$g" = "$want" ]; then
            case $t in build/*) files+=("$BUILD/${t#build/}") ;; *) files+=("$top/$t") ;; esac
        fi
    done
done < "$top/tests/tests.list"

run_one() {
    local f=$1 log=$2 rc start end
    start=$(date +%s)
    if [ -f "$f" ] && [ -x "$f" ]; then
        (cd "$top" && timeout --kill-after=10 "$per_test_timeout" "$f") >"$log" 2>&1
        rc=$?
    else
        echo "FAIL: ${f#"$top/"}: listed in tests/tests.list but not built (make check builds it)" >"$log"
        rc=1
    fi
    end=$(date +%s)
    echo "$rc $((end - start))" > "$log.rc"
}

i=0
for f in "${files[@]}"; do
    i=$((i + 1))
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$f" "$out/$i.log" &
done
wait

pass=0 fail=0 skip=0 i=0
for f in "${files[@]}"; do
    i=$((i + 1))
    name=${f#"$top/"}; name=${name#build/}
    read -r rc secs < "$out/$i.log.rc"
    p=$(grep -c '^PASS: ' "$out/$i.log")
    fl=$(grep -c '^FAIL: ' "$out/$i.log")
    s=$(grep -c '^SKIP: ' "$out/$i.log")
    if [ "$rc" -eq 77 ] && [ "$s" -eq 0 ]; then
        why=$(grep -v -e '^PASS: ' -e '^FAIL: ' "$out/$i.log" | tail -n 1)
        echo "SKIP: $name: ${why:-exit status 77}" >> "$out/$i.log"
        s=1
    elif [ "$rc" -eq 77 ]; then
        :   # skipped, with its own SKIP lines
    elif [ $((p + fl + s)) -eq 0 ]; then
        if [ "$rc" -eq 0 ]; then p=1; else fl=1; fi
    elif [ "$rc" -ne 0 ] && [ "$fl" -eq 0 ]; then
        fl=1   # it died or timed out after its last verdict
        echo "FAIL: $name: exited with status $rc" >> "$out/$i.log"
    fi
    pass=$((pass + p)) fail=$((fail + fl)) skip=$((skip + s))
    status=ok; [ "$rc" -eq 77 ] && status=skipped; [ "$fl" -gt 0 ] && status=FAILED
    [ "$rc" -eq 124 ] && status="TIMED OUT after ${per_test_timeout}s"
    printf '%-48s %3d passed %3d failed %3d skipped  %4ss  %s\n' "$name" "$p" "$fl" "$s" "$secs" "$status"
    if [ "$fl" -gt 0 ] || [ -n "${VERBOSE:-}" ]; then
        sed 's/^/    | /' "$out/$i.log" | tail -n 60
    else
        grep '^SKIP: ' "$out/$i.log" | sed 's/^/    | /'
    fi
done
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
