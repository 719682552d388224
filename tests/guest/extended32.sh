#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# extended32 records (issue 10) through memory_tracer's command line on the
# embedded guest.  The workload is tests/workloads/gmbeoo_ext_workload.c
# (workload info "ADDR LEN PFN0..PFN3", the PFNs from the guest's
# /proc/self/pagemap); the records are read from --trace_fifo_path by
# gmbeoo_dump --csv (vaddr,paddr,pc,size,sign_extend,store,cpl,vcpu,cr3).
#
#  ext_exact_counts    CPL 3 records in the buffer: exactly 1000 4-byte
#                      loads at +0 and 500 8-byte stores at +8 of the
#                      parent, 300 8-byte stores at +8192 of the child (301
#                      records: the first one faults on its copy-on-write
#                      page and is made again), and no other; as many CSV rows as trace info's
#                      num_of_events_written_to_trace_file
#  ext_pc_in_function  each of them has its PC inside the function that
#                      makes it (user_accesses / child_accesses, from nm)
#  ext_paddr           every record with a physical address has the page
#                      offset of its virtual address; the parent's buffer
#                      records have the physical page the guest kernel
#                      reports for that page (pagemap)
#  ext_kernel_copy     read(/dev/zero) into page 1: CPL 0 stores covering
#                      its 4096 bytes, all on that page's physical page
#  ext_cr3             the accesses of user_accesses() have one CR3, trace
#                      info's workload_CR3, those of child_accesses() one
#                      other (records of other processes at the same
#                      virtual addresses are told apart by their CR3)
#  ext_sampled         B=0,R=1: written == the rule's count of events and
#                      the reader gets exactly that many records;
#                      ext_sampled_per_tb the same at B=2,R=8 (TBs count
#                      their accesses at their start)
#
# group: guest.  Runtime: 10-20 s per run on the shared 2-core machine.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

EXT=$WL/gmbeoo_ext_workload
DUMP=$BIN/gmbeoo_dump
NOCOMM=--dont_add_communications_with_host_to_workload
# helper_gmbeoo_mem_ext's name is in the helper table of a QEMU that writes
# extended32 (patch 0012).
if ! mt_have_gmbeoo || ! grep -q 'gmbeoo_mem_ext' "$QEMU_BIN"; then
    skip extended32 "the QEMU does not write extended32 records (patch 0012) or the guest is not built"
    exit 0
fi
mt_require_built extended32 "$EXT" "$DUMP" || exit 0

# run_ext CSV [options...]: trace the workload in extended32 into CSV.
run_ext() {
    local csv=$1 fifo=$MT_TEST_TMP/ext.fifo
    shift
    rm -f "$fifo"
    mkfifo "$fifo"
    "$DUMP" --format extended32 --csv "$fifo" > "$csv" 2>"$csv.err" &
    local reader=$!
    MT_BG_PIDS+=("$reader")
    mt_run --workload_path_on_host "$EXT" $NOCOMM --trace_fifo_path "$fifo" \
        --trace_record_format extended32 --print_trace_info "$@"
    wait "$reader"
}

csv=$MT_TEST_TMP/full.csv
run_ext "$csv"
if mt_ok extended32_run; then
    nm "$EXT" > "$MT_TEST_TMP/nm.txt"
    /usr/bin/python3 - "$MT_OUT" "$csv" "$MT_TEST_TMP/nm.txt" <<'EOF'
import sys

out, csv_path, nm_path = sys.argv[1:4]
text = open(out).read().splitlines()
info = text[text.index('workload info:') + 1].split()
base, length = int(info[0], 16), int(info[1])
pfn = [int(x, 16) for x in info[2:6]]
def value(label):
    for l in text:
        if l.startswith(label + ':'):
            return l.split(':', 1)[1].strip()
    return None
written = int(value('num_of_events_written_to_trace_file'))
workload_cr3 = int(value('workload_CR3'), 16)

syms = sorted((int(a, 16), n) for a, t, n in
              (l.split() for l in open(nm_path) if len(l.split()) == 3))
def func_range(name):
    for i, (a, n) in enumerate(syms):
        if n == name:
            return a, next(b for b, _ in syms[i + 1:] if b > a)
    sys.exit('no symbol ' + name)
ranges = {'user_accesses': func_range('user_accesses'),
          'child_accesses': func_range('child_accesses')}

rows = []
lines = open(csv_path).read().splitlines()
header = lines[0].split(',')
for l in lines[1:]:
    r = dict(zip(header, l.split(',')))
    rows.append({k: int(v, 0) for k, v in r.items()})
NO = (1 << 64) - 1

def verdict(name, ok, why=''):
    print(('PASS: %s' % name) if ok else ('FAIL: %s: %s' % (name, why)))

# Other processes (the guest helper, a static binary too) may have the
# same virtual addresses: CR3 tells them apart.  The parent is the process
# that printed the markers (workload_CR3), the child the one whose records
# come from child_accesses().
in_buf = [r for r in rows if r['cpl'] == 3 and 0 <= r['vaddr'] - base < length]
def in_func(r, name):
    lo, hi = ranges[name]
    return lo <= r['pc'] < hi
parent_cr3 = workload_cr3
child_cr3s = {r['cr3'] for r in in_buf if in_func(r, 'child_accesses')}
parent = [r for r in in_buf if r['cr3'] == parent_cr3]
child = [r for r in in_buf if r['cr3'] in child_cr3s]
mine = parent + child
def count(rs, off, size, store):
    return sum(1 for r in rs if r['vaddr'] - base == off and
               r['size'] == size and r['store'] == store)
# The child's first store hits its copy-on-write page: it faults and is
# made again, so it has two records (as in the original).
exp = [(parent, 0, 4, 0, 1000), (parent, 8, 8, 1, 500), (child, 8192, 8, 1, 301)]
got = [count(rs, o, s, st) for rs, o, s, st, _ in exp]
ok = (got == [e[4] for e in exp] and len(parent) == 1500 and
      len(child) == 301 and len(rows) == written)
verdict('ext_exact_counts', ok, 'loads/stores/child %s of %d in buffer, '
        '%d rows, %d written' % (got, len(mine), len(rows), written))

bad = ['pc 0x%x at +%d' % (r['pc'], r['vaddr'] - base) for r in parent
       if not in_func(r, 'user_accesses')]
bad += ['pc 0x%x at +%d' % (r['pc'], r['vaddr'] - base) for r in child
        if not in_func(r, 'child_accesses')]
verdict('ext_pc_in_function', not bad and mine, '; '.join(bad[:5]) or 'no records')

bad = [r for r in rows if r['paddr'] != NO and
       (r['paddr'] ^ r['vaddr']) & 0xfff]
bad += [r for r in parent if r['paddr'] >> 12 != pfn[(r['vaddr'] - base) // 4096]]
verdict('ext_paddr', not bad and all(pfn), '%d bad, e.g. %s; pfns %s' %
        (len(bad), bad[:2], [hex(p) for p in pfn]))

kern = [r for r in rows if r['cpl'] == 0 and r['store'] and
        4096 <= r['vaddr'] - base < 8192]
covered = set()
for r in kern:
    covered.update(range(r['vaddr'] - base, r['vaddr'] - base + r['size']))
ok = covered >= set(range(4096, 8192)) and all(r['paddr'] >> 12 == pfn[1] for r in kern)
verdict('ext_kernel_copy', ok, '%d CPL 0 stores cover %d bytes, paddrs %s' %
        (len(kern), len(covered & set(range(4096, 8192))),
         sorted({hex(r['paddr'] >> 12) for r in kern})[:4]))

# One address space per process: every access of user_accesses() has
# workload_CR3, every one of child_accesses() one other CR3.
user_cr3s = {r['cr3'] for r in in_buf if in_func(r, 'user_accesses')}
ok = (user_cr3s == {parent_cr3} and len(child_cr3s) == 1 and
      parent_cr3 not in child_cr3s)
verdict('ext_cr3', ok, 'user_accesses CR3s %s, child_accesses CR3s %s, '
        'workload_CR3 0x%x' % ([hex(c) for c in user_cr3s],
                               [hex(c) for c in child_cr3s], workload_cr3))
EOF
fi

# check_ext_sampled NAME B R [MIN]: sampled at B,R, written == the rule's
# count of events (more than MIN, if given) and the reader gets that many.
check_ext_sampled() {
    local name=$1 b=$2 r=$3 min=${4:-} csv=$MT_TEST_TMP/$1.csv
    local events written rows want
    run_ext "$csv" --log_of_GMBE_block_len "$b" --log_of_GMBE_tracing_ratio "$r"
    if mt_ok "$name"; then
        events=$(mt_value num_of_GMBE_events_since_enabling_GMBEOO)
        written=$(mt_value num_of_events_written_to_trace_buf)
        rows=$(($(wc -l < "$csv") - 1))
        want=$(kept "$events" "$b" "$r")
        if [ "$written" = "$want" ] && [ "$rows" = "$written" ] &&
           { [ -z "$min" ] || [ "$events" -gt "$min" ]; }; then
            pass "$name"
        else
            fail "$name" "events $events, written $written (rule: $want), rows $rows"
        fi
    fi
}
# B=0,R=1: event i is kept iff i is even.
check_ext_sampled ext_sampled 0 1
# 1:256 (B=2,R=8): TBs count their accesses at their start (patch 0019).
check_ext_sampled ext_sampled_per_tb 2 8 2000
