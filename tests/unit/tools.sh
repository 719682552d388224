#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# simple_analysis and gmbeoo_dump on a synthetic record stream (no QEMU):
# the original's output block (labels, column 61, counter_arr, cmd args),
# SIGUSR1 before and after EOF, and the decoder's text/CSV/summary forms.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${BIN:-$top/build/bin}
for t in simple_analysis gmbeoo_dump; do
    [ -x "$bin/$t" ] || { echo "SKIP: tools: $bin/$t not built"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-tools.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# The stream: 2 passes over a 10,000-int buffer at 0x10000 (a CPL3 load and
# store per element), then 7 kernel loads and 3 CPL3 accesses to the
# cpu_entry_area.  Encoded with include/gmbeoo/record.h's layout.
python3 - "$tmp/stream" <<'EOF'
import struct, sys
def rec(addr, size_shift=2, store=0, cpl=3, sx=0):
    w0 = size_shift | sx << 3 | store << 5 | cpl << 6 | 1 << 63
    return struct.pack('<QQ', w0, addr)
out = bytearray()
for p in range(2):
    for i in range(10000):
        out += rec(0x10000 + 4 * i, store=0)
        out += rec(0x10000 + 4 * i, store=1)
for i in range(7):
    out += rec(0xffffffff81000000 + 8 * i, size_shift=3, cpl=0, sx=1)
for i in range(3):
    out += rec(0xfffffe0000001000 + 8 * i, size_shift=3, cpl=3, store=1)
open(sys.argv[1], 'wb').write(out)
EOF

# --- simple_analysis: EOF first, then SIGUSR1 --------------------------------
fifo=$tmp/fifo; mkfifo "$fifo"
"$bin/simple_analysis" "$fifo" 0x10000 extra_arg > "$tmp/sa.out" &
sa=$!; pids+=("$sa")
for _ in $(seq 50); do grep -q 'Ready to analyze' "$tmp/sa.out" && break; sleep 0.1; done
cat "$tmp/stream" > "$fifo"
sleep 0.3
kill -USR1 "$sa"
for _ in $(seq 50); do kill -0 "$sa" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sa" 2>/dev/null; then
    echo "FAIL: simple_analysis_exits: still running after its block"
else
    wait "$sa"; rc=$?
    [ $rc = 0 ] && echo "PASS: simple_analysis_exits" || echo "FAIL: simple_analysis_exits: status $rc"
fi
python3 - "$tmp/sa.out" "$bin/simple_analysis" "$fifo" <<'EOF' && echo "PASS: simple_analysis_block" || echo "FAIL: simple_analysis_block: see above"
import sys
out = open(sys.argv[1]).read()
assert out.startswith('Ready to analyze\n'), out[:80]
block = out.split('-----begin analysis output-----\n', 1)[1]
assert block.endswith('-----end analysis output-----\n'), block[-80:]
lines = block.split('\n')
want = [('our_buf_addr:', '10000'),
        ('num_of_mem_accesses_by_CPL3_code:', '40000'),
        ('num_of_mem_accesses_by_non_CPL3_code:', '7'),
        ('num_of_mem_accesses_by_CPL3_code_to_cpu_entry_area:', '3'),
        ('num_of_mem_accesses:', '40010'),
        ('num_of_mem_accesses_to_our_buf:', '40000'),
        ('num_of_mem_accesses_by_CPL3_after_another_by_CPL3:', '39999'),
        ('num_of_mem_accesses_by_non_CPL3_after_another_by_CPL3:', '1'),
        ('num_of_CPL3_accesses_code_to_cpu_entry_area_after_by_CPL3:', '0')]
for (label, value), line in zip(want, lines):
    assert line.startswith(label), (label, line)
    assert line[60:] == value and line[59] == ' ', (label, line, value)
i = lines.index('counter_arr:')
assert i == len(want), i
arr = lines[i + 1].split(',')
assert arr[-1] == '' and len(arr) == 10001, len(arr)
assert all(x == '4' for x in arr[:-1])
assert lines[i + 2] == 'analysis cmd args:', lines[i + 2]
args = lines[i + 3]
expect = ','.join([sys.argv[2], sys.argv[3], '0x10000', 'extra_arg']) + ',-----end analysis output-----'
assert args == expect, (args, expect)
EOF

# --- simple_analysis: SIGUSR1 while the writer is still attached ------------
"$bin/simple_analysis" "$fifo" > "$tmp/sa2.out" &
sa=$!; pids+=("$sa")
for _ in $(seq 50); do grep -q 'Ready to analyze' "$tmp/sa2.out" && break; sleep 0.1; done
exec 7>"$fifo"
head -c 1600 "$tmp/stream" >&7
sleep 0.3
kill -USR1 "$sa"
for _ in $(seq 50); do grep -q -- '-----end analysis output-----' "$tmp/sa2.out" && break; sleep 0.1; done
exec 7>&-
if grep -q '^num_of_mem_accesses: *100$' "$tmp/sa2.out" && grep -q -- '-----end analysis output-----' "$tmp/sa2.out"; then
    echo "PASS: simple_analysis_sigusr1_before_eof"
else
    echo "FAIL: simple_analysis_sigusr1_before_eof: $(grep num_of_mem_accesses: "$tmp/sa2.out")"
fi

# --- simple_analysis: the cpu_entry_area's bounds ----------------------------
# CPL3 accesses at its first and last byte count as cpu_entry_area ones; one
# byte outside either end does not.
python3 - "$tmp/cea" <<'EOF'
import struct, sys
out = b''.join(struct.pack('<QQ', 2 | 3 << 6 | 1 << 63, a) for a in
               (0xfffffe0000000000, 0xfffffe7fffffffff,
                0xfffffe8000000000, 0xfffffdffffffffff))
open(sys.argv[1], 'wb').write(out)
EOF
"$bin/simple_analysis" "$fifo" > "$tmp/sa3.out" &
sa=$!; pids+=("$sa")
for _ in $(seq 50); do grep -q 'Ready to analyze' "$tmp/sa3.out" && break; sleep 0.1; done
cat "$tmp/cea" > "$fifo"
sleep 0.3
kill -USR1 "$sa"
for _ in $(seq 50); do grep -q -- '-----end analysis output-----' "$tmp/sa3.out" && break; sleep 0.1; done
if grep -q '^num_of_mem_accesses_by_CPL3_code_to_cpu_entry_area: *2$' "$tmp/sa3.out" &&
   grep -q '^num_of_mem_accesses_by_CPL3_code: *2$' "$tmp/sa3.out"; then
    echo "PASS: simple_analysis_cpu_entry_area_bounds"
else
    echo "FAIL: simple_analysis_cpu_entry_area_bounds: $(grep CPL3_code "$tmp/sa3.out" | tr '\n' ' ')"
fi

# --- gmbeoo_dump --------------------------------------------------------------
first=$("$bin/gmbeoo_dump" --limit 2 "$tmp/stream")
[ "$first" = "load   size=4 cpl=3 le 0x0000000000010000
store  size=4 cpl=3 le 0x0000000000010000" ] && echo "PASS: dump_text" || echo "FAIL: dump_text: $first"
csv=$("$bin/gmbeoo_dump" --csv --limit 1 < "$tmp/stream")
[ "$csv" = "kind,size,sign_extend,endianness,cpl,address
load,4,0,le,3,0x0000000000010000" ] && echo "PASS: dump_csv_stdin" || echo "FAIL: dump_csv_stdin: $csv"
sum=$("$bin/gmbeoo_dump" --summary "$tmp/stream" | tr '\n' ' ')
[ "$sum" = "records: 40010 load: 20007 store: 20003 cpl0: 7 cpl3: 40003 size4: 40000 size8: 10 sign_extend: 7 " ] &&
    echo "PASS: dump_summary" || echo "FAIL: dump_summary: $sum"
n=$("$bin/gmbeoo_dump" "$tmp/stream" | wc -l)
[ "$n" = 40010 ] && echo "PASS: dump_all" || echo "FAIL: dump_all: $n lines"
"$bin/gmbeoo_dump" --limit x "$tmp/stream" 2>/dev/null; rc=$?
[ $rc = 2 ] && echo "PASS: dump_bad_option" || echo "FAIL: dump_bad_option: status $rc"
