#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# simple_analysis and gmbeoo_dump on a synthetic record stream (no QEMU):
# the original's output block (labels, column 61, counter_arr, cmd args),
# SIGUSR1 before and after EOF, compact8 input; gmbeoo_dump's text, CSV,
# DineroIV and summary forms for the three formats, drop markers, --cr3.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${BIN:-$top/build/bin}
for t in simple_analysis gmbeoo_dump; do
    [ -x "$bin/$t" ] || { echo "$bin/$t not built"; exit 77; }
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
# sa_feed OUT STREAM: simple_analysis on $fifo (buffer 0x10000) gets STREAM,
# then EOF, then SIGUSR1; sa is its pid, given 5 s to exit.
sa_feed() {
    "$bin/simple_analysis" "$fifo" 0x10000 extra_arg > "$1" &
    sa=$!; pids+=("$sa")
    for _ in $(seq 50); do grep -q 'Ready to analyze' "$1" && break; sleep 0.1; done
    cat "$2" > "$fifo"
    sleep 0.3
    kill -USR1 "$sa"
    for _ in $(seq 50); do kill -0 "$sa" 2>/dev/null || break; sleep 0.1; done
}
sa_feed "$tmp/sa.out" "$tmp/stream"
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
[ "$csv" = "vaddr,size,sign_extend,store,cpl,vcpu
0x10000,4,0,0,3,0" ] && echo "PASS: dump_csv_stdin" || echo "FAIL: dump_csv_stdin: $csv"
sum=$("$bin/gmbeoo_dump" --summary "$tmp/stream" | tr '\n' ' ')
[ "$sum" = "records: 40010 load: 20007 store: 20003 cpl0: 7 cpl3: 40003 size4: 40000 size8: 10 sign_extend: 7 " ] &&
    echo "PASS: dump_summary" || echo "FAIL: dump_summary: $sum"
n=$("$bin/gmbeoo_dump" "$tmp/stream" | wc -l)
[ "$n" = 40010 ] && echo "PASS: dump_all" || echo "FAIL: dump_all: $n lines"
"$bin/gmbeoo_dump" --limit x "$tmp/stream" 2>/dev/null; rc=$?
[ $rc = 2 ] && echo "PASS: dump_bad_option" || echo "FAIL: dump_bad_option: status $rc"

din=$("$bin/gmbeoo_dump" --din --limit 3 "$tmp/stream" | tr '\n' ' ')
[ "$din" = "0 10000 1 10000 0 10004 " ] && echo "PASS: dump_din" || echo "FAIL: dump_din: $din"
"$bin/gmbeoo_dump" --din --csv "$tmp/stream" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && echo "PASS: dump_exclusive_modes" || echo "FAIL: dump_exclusive_modes: status $rc"

# --- the other formats, drop markers, --cr3 -----------------------------------
/usr/bin/python3 - "$tmp" <<'EOF'
import struct, sys
d = sys.argv[1]
def info(ss, store, cpl, sx=0):
    return ss | sx << 3 | store << 5 | cpl << 6
c8 = bytearray()
c8 += struct.pack('<Q', (0xffff888000001000 << 8 | info(3, 1, 0)) & (2**64 - 1))
c8 += struct.pack('<Q', 5 << 8 | 0x07)            # drop marker: 5 dropped
c8 += struct.pack('<Q', 0x7ffc0000abcd << 8 | info(0, 0, 3, 1))
open(d + '/c8', 'wb').write(c8)
e = bytearray()
def ext(vaddr, paddr, pc, inf, vcpu, cr3):
    return struct.pack('<QQQQ', inf | vcpu << 8 | (cr3 >> 12) << 16 | 1 << 63, vaddr, paddr, pc)
e += ext(0x401000, 0x2345000, 0x401100, info(2, 0, 3), 1, 0x1234000)
e += ext(0x401008, 0x2345008, 0x401104, info(3, 1, 3), 0, 0x5678000)
e += struct.pack('<QQQQ', 0, 9, 0, 0)             # drop marker: 9 dropped
e += ext(0xffffffff81000000, 0xffffffffffffffff, 0xffffffff81000010, info(3, 0, 0), 0, 0x1234000)
open(d + '/e32', 'wb').write(e)
EOF
csv=$("$bin/gmbeoo_dump" --format compact8 --csv "$tmp/c8" 2>"$tmp/err")
[ "$csv" = "vaddr,size,sign_extend,store,cpl
0xffff888000001000,8,0,1,0
0x7ffc0000abcd,1,1,0,3" ] && grep -q '5 records dropped before record 1' "$tmp/err" &&
    echo "PASS: dump_compact8_csv" || echo "FAIL: dump_compact8_csv: $csv $(cat "$tmp/err")"
csv=$(GMBEOO_RECORD_FORMAT=extended32 "$bin/gmbeoo_dump" --csv "$tmp/e32" 2>/dev/null)
[ "$csv" = "vaddr,paddr,pc,size,sign_extend,store,cpl,vcpu,cr3
0x401000,0x2345000,0x401100,4,0,0,3,1,0x1234000
0x401008,0x2345008,0x401104,8,0,1,3,0,0x5678000
0xffffffff81000000,0xffffffffffffffff,0xffffffff81000010,8,0,0,0,0,0x1234000" ] &&
    echo "PASS: dump_extended32_csv_env" || echo "FAIL: dump_extended32_csv_env: $csv"
din=$("$bin/gmbeoo_dump" --format extended32 --din --cr3 0x1234000 "$tmp/e32" 2>/dev/null | tr '\n' ' ')
[ "$din" = "0 401000 0 ffffffff81000000 " ] && echo "PASS: dump_cr3_filter" || echo "FAIL: dump_cr3_filter: $din"
sum=$("$bin/gmbeoo_dump" --format extended32 --summary "$tmp/e32" | tr '\n' ' ')
[ "$sum" = "records: 3 load: 2 store: 1 cpl0: 1 cpl3: 2 size4: 1 size8: 2 sign_extend: 0 vcpu0: 2 vcpu1: 1 address_spaces: 2 drop_markers: 1 dropped_records: 9 record_format: extended32 " ] &&
    echo "PASS: dump_extended32_summary" || echo "FAIL: dump_extended32_summary: $sum"
txt=$("$bin/gmbeoo_dump" --format compact8 "$tmp/c8" | sed -n 2p)
[ "$txt" = "dropped 5 records" ] && echo "PASS: dump_drop_marker_text" || echo "FAIL: dump_drop_marker_text: $txt"
"$bin/gmbeoo_dump" --cr3 0x1000 "$tmp/stream" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'extended32' "$tmp/err" && echo "PASS: dump_cr3_needs_extended32" ||
    echo "FAIL: dump_cr3_needs_extended32: status $rc $(cat "$tmp/err")"
"$bin/gmbeoo_dump" --format bogus "$tmp/stream" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && echo "PASS: dump_bad_format" || echo "FAIL: dump_bad_format: status $rc"

# --- a zstd-compressed raw stream is detected and read ------------------------
if command -v zstd >/dev/null; then
    zstd -q -1 -c "$tmp/stream" > "$tmp/stream.zst"
    a=$("$bin/gmbeoo_dump" "$tmp/stream" | md5sum) b=$("$bin/gmbeoo_dump" < "$tmp/stream.zst" | md5sum)
    [ "$a" = "$b" ] && echo "PASS: dump_plain_zstd" || echo "FAIL: dump_plain_zstd"
else
    echo "SKIP: dump_plain_zstd: no zstd"
fi

# --- simple_analysis reads compact8 (GMBEOO_RECORD_FORMAT) --------------------
/usr/bin/python3 - "$tmp/stream" "$tmp/stream8" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out = bytearray()
for i in range(0, len(data), 16):
    w0, addr = struct.unpack_from('<QQ', data, i)
    out += struct.pack('<Q', ((addr << 8) | (w0 & 0xff)) & (2**64 - 1))
open(sys.argv[2], 'wb').write(out)
EOF
GMBEOO_RECORD_FORMAT=compact8 sa_feed "$tmp/sa8.out" "$tmp/stream8"
if diff <(sed -n '/begin analysis/,/counter_arr/p' "$tmp/sa.out") \
        <(sed -n '/begin analysis/,/counter_arr/p' "$tmp/sa8.out") >/dev/null; then
    echo "PASS: simple_analysis_compact8"
else
    echo "FAIL: simple_analysis_compact8: $(diff "$tmp/sa.out" "$tmp/sa8.out" | head -5 | tr '\n' ' ')"
fi

# --- gmbeoo_heatmap: a PNG of the stream; refuses what it cannot draw ---------
if [ -x "$bin/gmbeoo_heatmap" ]; then
    "$bin/gmbeoo_heatmap" "$tmp/stream" -o "$tmp/h.png" --width 800 --height 500 2>"$tmp/err"; rc=$?
    # PNG: 8-byte signature, then IHDR: width 800 (0x320), height 500 (0x1f4).
    ihdr=$(od -An -tx1 -j12 -N12 "$tmp/h.png" 2>/dev/null | tr -d ' \n')
    if [ $rc = 0 ] && [ "$ihdr" = 4948445200000320000001f4 ]; then
        echo "PASS: heatmap_png"
    else
        echo "FAIL: heatmap_png: status $rc, IHDR $ihdr $(cat "$tmp/err")"
    fi
    "$bin/gmbeoo_heatmap" "$fifo" -o "$tmp/f.png" 2>"$tmp/err"; rc=$?
    [ $rc = 1 ] && grep -q 'FIFO' "$tmp/err" && [ ! -e "$tmp/f.png" ] && echo "PASS: heatmap_refuses_fifo" ||
        echo "FAIL: heatmap_refuses_fifo: status $rc $(cat "$tmp/err")"
    : > "$tmp/empty"
    "$bin/gmbeoo_heatmap" "$tmp/empty" -o "$tmp/e.png" 2>"$tmp/err"; rc=$?
    [ $rc = 1 ] && grep -q 'no accesses' "$tmp/err" && echo "PASS: heatmap_empty" ||
        echo "FAIL: heatmap_empty: status $rc $(cat "$tmp/err")"
else
    echo "SKIP: heatmap_png: $bin/gmbeoo_heatmap not built"
fi
