#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The libFuzzer harnesses of tests/fuzz/ in `make check`: build them
# (make fuzz-build), replay every corpus input (tests/fuzz/corpus/NAME/,
# regression inputs included), then fuzz each for FUZZ_SMOKE_SECONDS
# (default 5) without touching the corpus.  `make fuzz` is the long run.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SMOKE_SECONDS:-5}
fuzzers=(serial_frame serial_channel qmp_message qmp_client)
if ! command -v clang >/dev/null; then
    for f in "${fuzzers[@]}"; do
        echo "SKIP: fuzz_$f: clang is not installed (make fuzz installs clang libclang-rt-14-dev)"
    done
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! make -C "$top" --no-print-directory -s fuzz-build >"$tmp/build.log" 2>&1; then
    if grep -q 'fuzzer' "$tmp/build.log" && ! grep -q 'error:' "$tmp/build.log"; then
        for f in "${fuzzers[@]}"; do
            echo "SKIP: fuzz_$f: clang cannot link libFuzzer (install libclang-rt-14-dev)"
        done
        exit 0
    fi
    echo "FAIL: fuzz_build: $(grep -m3 -E 'error|Error' "$tmp/build.log" | tr '\n' '|')"
    exit 1
fi
for f in "${fuzzers[@]}"; do
    bin=$top/build/fuzz/fuzz_$f corpus=$top/tests/fuzz/corpus/$f
    mkdir -p "$tmp/$f"
    # Replay: each file run once (libFuzzer runs the inputs given as files).
    if ! "$bin" -runs=1 $(find "$corpus" -type f) >"$tmp/$f.replay" 2>&1; then
        echo "FAIL: fuzz_${f}_corpus: $(grep -m3 -E 'ERROR|runtime error|Assertion' "$tmp/$f.replay" | tr '\n' '|')"
        continue
    fi
    echo "PASS: fuzz_${f}_corpus"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="$tmp/$f/crash-" "$tmp/$f" "$corpus" >"$tmp/$f.log" 2>&1; then
        echo "PASS: fuzz_$f"
    else
        crash=$(ls "$tmp/$f"/crash-* 2>/dev/null | head -1)
        [ -n "$crash" ] && cp "$crash" "$top/build/fuzz/" 2>/dev/null
        echo "FAIL: fuzz_$f: $(grep -m3 -E 'ERROR|runtime error|Assertion' "$tmp/$f.log" | tr '\n' '|') (input kept in build/fuzz/)"
    fi
done
