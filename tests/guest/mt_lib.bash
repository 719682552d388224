# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the end-to-end tests of memory_tracer (tests/guest/*.sh).
#
# mt_run ARGS...   runs build/bin/memory_tracer on the embedded guest with a
#                  private TMPDIR; sets MT_RC, MT_OUT, MT_ERR (files) and
#                  checks afterwards that the run left no runtime directory
#                  and no process (QEMU, tool) behind: MT_LEAK says what.
# mt_have_guest / mt_have_gmbeoo   tell whether end-to-end runs can work.
# pass NAME / fail NAME WHY / skip NAME WHY   print the verdict lines.

top=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BIN:-$top/build/bin}
MT=$BIN/memory_tracer
SA=$BIN/simple_analysis
WL=$top/build/tests/workloads
QEMU_BIN=$BIN/qemu-system-x86_64
# MT_QEMU=DIR_OR_BINARY runs the embedded guest image on another emulator
# (given as positional arguments; for trying a QEMU under development).
MT_POS=()
if [ -n "${MT_QEMU:-}" ]; then
    MT_POS=("$top/build/guest/guest.qcow2" ready_for_memory_tracer "$MT_QEMU")
    QEMU_BIN=$MT_QEMU
    [ -d "$MT_QEMU" ] && QEMU_BIN=$MT_QEMU/qemu-system-x86_64
fi
MT_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mt-e2e.XXXXXX")
trap 'mt_cleanup' EXIT
MT_BG_PIDS=()

mt_cleanup() {
    local p
    for p in "${MT_BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$MT_TEST_TMP"
}

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# mt_require_built NAME FILE...: true if every FILE is executable, else
# NAME's SKIP line for the first one that is not, and false.
mt_require_built() {
    local name=$1 f
    shift
    for f in "$@"; do
        if [ ! -x "$f" ]; then
            skip "$name" "$f is not built (make check builds it)"
            return 1
        fi
    done
}

mt_have_guest() {
    [ -x "$MT" ] && [ -x "$QEMU_BIN" ] && [ -f "$top/build/guest/guest.conf" ]
}

mt_have_gmbeoo() {
    mt_have_guest && grep -q 'gmbeoo-enable' "$QEMU_BIN" 2>/dev/null
}

# Processes whose command line mentions our private TMPDIR (QEMU's runtime
# dir, the tool's FIFO argument) are leftovers once memory_tracer exited.
mt_leftover_processes() {
    local pid
    for pid in $(pgrep -f -- "$MT_TEST_TMP/run" 2>/dev/null); do
        [ "$pid" = "$$" ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-120
        echo
    done
}

mt_run() {
    local n=$((${MT_RUNS:-0} + 1)); MT_RUNS=$n
    local dir=$MT_TEST_TMP/run$n
    mkdir -p "$dir"
    MT_OUT=$dir.out MT_ERR=$dir.err
    # Positional arguments first: everything after "--" is the workload's.
    TMPDIR=$dir "$MT" "${MT_POS[@]}" "$@" >"$MT_OUT" 2>"$MT_ERR" </dev/null
    MT_RC=$?
    MT_LEAK=
    local left
    left=$(find "$dir" -mindepth 1 -maxdepth 1 -name 'memory_tracer.*' -type d)
    [ -n "$left" ] && MT_LEAK="runtime dir left: $left"
    sleep 0.2
    left=$(mt_leftover_processes)
    [ -n "$left" ] && MT_LEAK="$MT_LEAK processes left: $left"
    return 0
}

# Fails NAME unless the last run exited 0, leaked nothing and has no CR.
mt_ok() {
    local name=$1
    if [ "$MT_RC" != 0 ]; then
        fail "$name" "exit status $MT_RC: $(tail -c 400 "$MT_ERR")"
        return 1
    fi
    if [ -n "$MT_LEAK" ]; then
        fail "$name" "$MT_LEAK"
        return 1
    fi
    if grep -q $'\r' "$MT_OUT"; then
        fail "$name" "CR characters on stdout"
        return 1
    fi
    return 0
}

# kept E B R: how many of the events 0 .. E-1 the sampling rule keeps, the
# i with (i & mask) == 0, mask = ((1<<R)-1) << B (the first 2^B of every
# 2^(B+R)).
kept() {
    local e=$1 b=$2 r=$3
    if [ "$r" -eq 0 ] || [ "$b" -ge 64 ]; then
        echo "$e"
    elif [ $((b + r)) -ge 63 ]; then   # only the first 2^B events
        echo $((e < (1 << b) ? e : (1 << b)))
    else
        local p=$((1 << (b + r))) blk=$((1 << b)) rem
        rem=$((e % p))
        echo $(((e / p) * blk + (rem < blk ? rem : blk)))
    fi
}

# The value after "LABEL:" (first match) in the last run's stdout.
mt_value() {
    awk -v l="$1:" 'index($0, l) == 1 { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$MT_OUT"
}

# The original's check_mem_accesses (ORIGINAL_BEHAVIOUR §11) on MT_OUT.
mt_check_mem_accesses() {
    python3 - "$MT_OUT" <<'EOF'
import re, sys
out = open(sys.argv[1]).read()
labels = ['workload info:', 'tracing_duration_in_milliseconds:',
          'our_buf_addr:', 'num_of_mem_accesses_by_CPL3_code:',
          'counter_arr:', 'analysis cmd args:']
pos = 0
for l in labels:
    i = out.find(l, pos)
    if i < 0:
        sys.exit('missing (in order) ' + l)
    pos = i
info = out.split('workload info:\n', 1)[1].split('\n', 1)[0].strip()
buf = re.search(r'^our_buf_addr:\s+([0-9a-f]+)$', out, re.M).group(1)
if int(info, 16) != int(buf, 16):
    sys.exit('workload info %s != our_buf_addr %s' % (info, buf))
arr = out.split('counter_arr:\n', 1)[1].split('\n', 1)[0].split(',')
if arr[-1] != '':
    sys.exit('counter_arr does not end in a comma')
arr = [int(x) for x in arr[:-1]]
if len(arr) != 10000:
    sys.exit('counter_arr has %d entries' % len(arr))
if not 100000 <= sum(arr) <= 100100:
    sys.exit('sum(counter_arr) = %d not in [100000, 100100]' % sum(arr))
bad = [x for x in arr if not 10 <= x <= 20]
if bad:
    sys.exit('%d elements outside [10, 20], e.g. %d' % (len(bad), bad[0]))
EOF
}
