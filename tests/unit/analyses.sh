#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# gmbeoo_cachesim, gmbeoo_reuse and gmbeoo_wss on small hand-computed record
# streams (no QEMU): the numbers worked out in tests/unit/test_analyses.c,
# now through each tool's input and output (text, CSV, JSON, --plot), a
# zstd stream on stdin, extended32 with two vCPUs and --paddr, a drop
# marker, usage errors, and the analysis-tool contract on a FIFO.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${BIN:-$top/build/bin}
for t in gmbeoo_cachesim gmbeoo_reuse gmbeoo_wss; do
    [ -x "$bin/$t" ] || { echo "$bin/$t not built"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-analyses.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
CS=$bin/gmbeoo_cachesim RE=$bin/gmbeoo_reuse WS=$bin/gmbeoo_wss

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
# expect NAME WANT GOT
expect() { [ "$2" = "$3" ] && pass "$1" || fail "$1" "want '$2', got '$(echo "$3" | tr '\n' ' ' | head -c 600)'"; }

# The streams, encoded with include/gmbeoo/record.h's layout.
python3 - "$tmp" <<'EOF'
import struct, sys
d = sys.argv[1]
def rec(addr, store=0, cpl=3, shift=3, vcpu=0):
    return struct.pack('<QQ', shift | store << 5 | cpl << 6 | vcpu << 8 | 1 << 63, addr)
def ext(vaddr, paddr, vcpu, store=0, cpl=3):
    w0 = 3 | store << 5 | cpl << 6 | vcpu << 8 | 0x1234 << 16 | 1 << 63
    return struct.pack('<QQQQ', w0, vaddr, paddr, 0x401000)
def write(name, recs):
    open(f'{d}/{name}', 'wb').write(b''.join(recs))
# LRU: loads of lines 0 2 4 0 2 1 3 0.
write('lru', [rec(l * 64 + 8) for l in (0, 2, 4, 0, 2, 1, 3, 0)])
# Write-back and CPL: store 0 (CPL3), load line 2 (CPL0), load 0, store 0.
write('wb', [rec(0, store=1), rec(128, cpl=0), rec(0), rec(8, store=1)])
# Two vCPUs, extended32: the same physical line under two virtual ones.
write('ext', [ext(0x7000, 0x1000, 0), ext(0x9000, 0x1000, 1),
              ext(0x9000, 0x1000, 1), ext(0x5000, 2**64 - 1, 1)])
# Reuse: lines a b c a a b, d on page 1, c, and lines 0+1 at once.
write('reuse', [rec(a) for a in (0, 64, 128, 0, 0, 64, 4096, 128, 60)])
# Windows of 4: 0 8 64 4096 | 0 0 0 4092 (straddles) | 128.
write('wss', [rec(a) for a in (0, 8, 64, 4096, 0, 0, 0, 4092, 128)])
# A drop marker (valid bit clear, info 7, 1000 records) between two loads.
write('drops', [rec(0), struct.pack('<QQ', 7, 1000), rec(64)])
EOF

# --- gmbeoo_cachesim ------------------------------------------------------
small="--l1d 256:2:64 --l2 1k:4:64"
got=$("$CS" $small --csv "$tmp/lru" | grep ',all,all,all,')
expect cachesim_lru "L1d,all,all,all,8,7
L2,all,all,all,7,5" "$got"

got=$("$CS" --l1d 128:1:64 --l2 1k:4:64 --csv "$tmp/wb" | grep -E '^(level|L1d,all|L2,all),' |
      grep -v ',0,0$' | grep -v ',all,all,all,')
expect cachesim_writeback_cpl "level,vcpu,cpl,kind,refs,misses
L1d,all,0,load,1,1
L1d,all,3,load,1,1
L1d,all,3,store,2,1
L2,all,0,load,1,1
L2,all,3,load,1,0
L2,all,3,store,1,1
L2,all,all,writeback,1,0" "$got"

got=$("$CS" $small "$tmp/lru" | grep -E '^L|cpl3 load')
expect cachesim_text "L1d 256:2:64 (per vCPU): refs 8  misses 7  (87.50 %)
  cpl3 load    refs            8  misses            7  ( 87.50 %)
L2 1k:4:64 (per vCPU): refs 7  misses 5  (71.43 %)
  cpl3 load    refs            7  misses            5  ( 71.43 %)" "$got"

got=$("$CS" $small --json "$tmp/lru" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["accesses"], [(l["name"], l["refs"], l["misses"], l["cpl3"]["load"]["misses"]) for l in j["levels"]])')
expect cachesim_json "8 [('L1d', 8, 7, 7), ('L2', 7, 5, 5)]" "$got"

if command -v zstd >/dev/null; then
    zstd -q -c "$tmp/lru" > "$tmp/lru.zst"
    got=$("$CS" $small --csv - < "$tmp/lru.zst" | grep ',all,all,all,')
    expect cachesim_zstd_stdin "L1d,all,all,all,8,7
L2,all,all,all,7,5" "$got"
else
    echo "SKIP: cachesim_zstd_stdin: no zstd command"
fi

# vCPU 0 and 1 touch physical line 0x1000: private L1s miss once each, the
# shared LLC once; the record without a physical address is left out.
got=$("$CS" --paddr --l2 none --llc 1m:16:64 --format extended32 --csv "$tmp/ext" |
      grep -E '^(L1d|LLC),[01],all,all,')
expect cachesim_vcpus_paddr "L1d,0,all,all,1,1
L1d,1,all,all,2,1
LLC,0,all,all,1,1
LLC,1,all,all,1,0" "$got"
got=$("$CS" --format extended32 "$tmp/ext" | head -1)
expect cachesim_vaddr_by_default "accesses: 4 (extended32, raw record stream), filtered out: 0, without a physical address: 0" "$got"
got=$("$CS" --paddr --format extended32 "$tmp/ext" | head -1)
expect cachesim_no_paddr "accesses: 3 (extended32, raw record stream), filtered out: 0, without a physical address: 1" "$got"
"$CS" --paddr "$tmp/lru" > "$tmp/out" 2> "$tmp/err"; rc=$?
expect cachesim_paddr_needs_extended32 "1 gmbeoo_cachesim: --paddr needs extended32 records, these are gmbeoo16" "$rc $(cat "$tmp/err")"

"$CS" --l1d 32k:3:64 "$tmp/lru" > "$tmp/out" 2> "$tmp/err"; rc=$?
expect cachesim_bad_level "2 gmbeoo_cachesim: --l1d 32k:3:64: SIZE must be a multiple of WAYS * LINE" "$rc $(cat "$tmp/err")"
# An unknown --format is a usage error in every analysis, not "detect it".
for t in "$CS" "$RE" "$WS"; do
    "$t" --format gmbeoo17 "$tmp/lru" > "$tmp/out" 2> "$tmp/err"; rc=$?
    expect "$(basename "$t")_bad_format" "2 1" "$rc $(grep -c gmbeoo17 "$tmp/err")"
done
"$CS" --l1d 1k:2:128 --l2 1m:16:64 "$tmp/lru" > "$tmp/out" 2> "$tmp/err"; rc=$?
expect cachesim_line_order "2 1" "$rc $(wc -l < "$tmp/err")"

got=$("$CS" --range 0x40:64 --csv "$tmp/lru" | grep '^L1d,all,all,all')
expect cachesim_range "L1d,all,all,all,1,1" "$got"
got=$("$CS" --cpl 0 "$tmp/wb" | head -1)
expect cachesim_cpl_filter "accesses: 1 (gmbeoo16, raw record stream), filtered out: 3, without a physical address: 0" "$got"

got=$("$CS" "$tmp/drops" | sed -n 2p)
expect cachesim_drop_marker "ATTENTION: 1 drop markers, 1000 records missing: the counts are of what is left" "$got"

# --- gmbeoo_reuse -----------------------------------------------------------
got=$("$RE" --csv "$tmp/reuse")
expect reuse_csv "granularity,block_bytes,distance_min,distance_max,refs
line,64,0,0,1
line,64,1,1,0
line,64,2,3,5
line,64,cold,cold,4
page,4096,0,0,6
page,4096,1,1,1
page,4096,cold,cold,2" "$got"
got=$("$RE" --json "$tmp/reuse" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["line"]["refs"], j["line"]["cold"], j["page"]["cold"], [b["refs"] for b in j["page"]["buckets"]])')
expect reuse_json "10 4 2 [6, 1]" "$got"
got=$("$RE" --line 128 --page 8192 --csv "$tmp/reuse" | grep cold)
expect reuse_block_sizes "line,128,cold,cold,3
page,8192,cold,cold,1" "$got"
got=$("$RE" "$tmp/reuse" | grep -E '^(lines|pages)')
expect reuse_text "lines of 64 bytes: 10 references, 4 cold (distinct lines)
pages of 4096 bytes: 9 references, 2 cold (distinct pages)" "$got"

# --- gmbeoo_wss -------------------------------------------------------------
got=$("$WS" --window 4 --csv "$tmp/wss")
expect wss_csv "window,first_access,accesses,lines,pages,line_bytes,page_bytes
0,0,4,3,2,64,4096
1,4,4,3,2,64,4096
2,8,1,1,1,64,4096" "$got"
got=$("$WS" --window 4 --json "$tmp/wss" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["window"], [(w["first"], w["lines"], w["pages"]) for w in j["windows"]])')
expect wss_json "4 [(0, 3, 2), (4, 3, 2), (8, 1, 1)]" "$got"
got=$("$WS" --window 4 "$tmp/wss" | tail -1)
expect wss_text_partial "       2              8          1            1           64          1         4096  (partial)" "$got"

# --- plots ------------------------------------------------------------------
for t in cachesim reuse wss; do
    "$bin/gmbeoo_$t" --plot "$tmp/$t.png" "$tmp/reuse" > /dev/null
    magic=$(head -c 8 "$tmp/$t.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
    expect "${t}_plot_png" 89504e470d0a1a0a "$magic"
done

# --- the analysis-tool contract on a FIFO ----------------------------------
# tool OPTIONS... : started as memory_tracer starts it (FIFO, info tokens),
# fed the LRU stream, then EOF and SIGUSR1; its stdout is in $tmp/live.
contract() {
    local name=$1; shift
    rm -f "$tmp/fifo"; mkfifo "$tmp/fifo"
    "$@" "$tmp/fifo" 0x1000 16384 > "$tmp/live" &
    local p=$!; pids+=("$p")
    for _ in $(seq 50); do grep -q 'Ready to analyze' "$tmp/live" && break; sleep 0.1; done
    cat "$tmp/lru" > "$tmp/fifo"
    sleep 0.3
    kill -USR1 "$p"
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
        fail "$name" "still running after SIGUSR1"
    else
        wait "$p"; local rc=$?
        [ $rc = 0 ] || fail "$name" "exit status $rc"
    fi
}
contract cachesim_contract "$CS" $small --csv
got=$(sed -n '1p;2p;$p' "$tmp/live"; grep ',all,all,all,' "$tmp/live")
expect cachesim_contract "Ready to analyze
-----begin analysis output-----
-----end analysis output-----
L1d,all,all,all,8,7
L2,all,all,all,7,5" "$got"
contract reuse_contract "$RE"
got=$(grep -E '^(lines|pages) of' "$tmp/live"; tail -1 "$tmp/live")
expect reuse_contract "lines of 64 bytes: 8 references, 5 cold (distinct lines)
pages of 4096 bytes: 8 references, 1 cold (distinct pages)
-----end analysis output-----" "$got"
contract wss_contract "$WS" --window 5 --csv
got=$(sed -n '/begin analysis/,/end analysis/p' "$tmp/live" | sed '1d;$d')
expect wss_contract "window,first_access,accesses,lines,pages,line_bytes,page_bytes
0,0,5,3,1,64,4096
1,5,3,3,1,64,4096" "$got"
exit 0
