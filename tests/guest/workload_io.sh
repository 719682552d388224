#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A workload's arguments, files and output (issue 19): everything after
# "--" arrives as argv[1...] byte for byte (an empty string, spaces,
# quotes, UTF-8, a 4 KiB argument) with and without the communications
# wrapper, for host and guest paths and natively, and --report_json has
# it; --copy_to_guest of a tree (nested folders, a link, an executable
# bit, an empty and a 5 MiB file) arrives identical (the workload lists it
# with CRCs); --workload_output_path holds the workload's output and not
# the markers, its tail is on stderr when it fails, and 100 MB of output
# neither block nor corrupt the run; binary output (NUL bytes) comes back
# byte for byte, natively and from the guest.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

if ! mt_have_guest; then
    skip workload_io "the embedded guest or QEMU is not built"
    exit 0
fi
T=$MT_TEST_TMP

# -- arguments ----------------------------------------------------------------
big=$(head -c 3072 /dev/zero | tr '\0' 'x')$(printf 'é%.0s' $(seq 512))
ARGS=("" "a b" "it's \"quoted\" \$HOME \`x\` *" "üñí€😀" "$big" "--" "-x")
hexof() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
expect_args=$T/args.expected
{
    echo "argc=$((${#ARGS[@]} + 1))"
    i=1
    for a in "${ARGS[@]}"; do echo "argv[$i]=$(hexof "$a")"; i=$((i + 1)); done
} > "$expect_args"

check_args() {
    local name=$1 got=$2
    if ! mt_ok "$name"; then return; fi
    if ! diff -q "$expect_args" "$got" >/dev/null; then
        fail "$name" "argv differs: $(diff "$expect_args" "$got" | head -c 400)"
        return
    fi
    pass "$name"
}
A=$WL/argv_hex_workload AM=$WL/argv_hex_markers_workload

mt_run --workload_path_on_host "$A" --dont_trace --workload_output_path "$T/o1" \
    --report_json "$T/r1.json" -- "${ARGS[@]}"
check_args args_host_wrapper "$T/o1"
if python3 - "$T/r1.json" "${ARGS[@]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = [a.encode('utf-8', 'surrogateescape').hex() for a in sys.argv[2:]]
sys.exit(0 if r['options']['workload_args_hex'] == want and
         r['options']['workload_args'] == sys.argv[2:] else 1)
PY
then pass report_json_records_argv; else fail report_json_records_argv "$(grep -A3 workload_args "$T/r1.json" | head -c 300)"; fi

mt_run --workload_path_on_host "$AM" --dont_add_communications_with_host_to_workload \
    --dont_trace --workload_output_path "$T/o2" -- "${ARGS[@]}"
check_args args_host_no_wrapper "$T/o2"

mt_run --copy_to_guest "$A" --workload_path_on_guest ./argv_hex_workload \
    --dont_trace --workload_output_path "$T/o3" -- "${ARGS[@]}"
check_args args_guest_path_wrapper "$T/o3"

mt_run --copy_to_guest "$AM" --workload_path_on_guest ./argv_hex_markers_workload \
    --dont_add_communications_with_host_to_workload --dont_trace \
    --workload_output_path "$T/o4" -- "${ARGS[@]}"
check_args args_guest_path_no_wrapper "$T/o4"

mt_run --workload_path_on_host "$A" --dont_use_qemu --workload_output_path "$T/o5" -- "${ARGS[@]}"
check_args args_native_wrapper "$T/o5"
mt_run --workload_path_on_host "$AM" --dont_use_qemu \
    --dont_add_communications_with_host_to_workload --workload_output_path "$T/o6" -- "${ARGS[@]}"
check_args args_native_no_wrapper "$T/o6"

if mt_have_gmbeoo; then
    mt_run --workload_path_on_host "$A" --analysis_tool_path "$SA" \
        --workload_output_path "$T/o7" -- "${ARGS[@]}"
    check_args args_traced_run "$T/o7"
fi

# -- files in -----------------------------------------------------------------
tree=$T/tree
mkdir -p "$tree/a/b/c" "$tree/empty_dir"
printf 'hello\n' > "$tree/a/hello.txt"
: > "$tree/a/b/zero"
head -c 5242880 /dev/urandom > "$tree/a/b/c/five_mib.bin"
printf '#!/bin/sh\necho run me\n' > "$tree/run.sh"; chmod 755 "$tree/run.sh"
chmod 640 "$tree/a/hello.txt"; chmod 700 "$tree/a/b"
ln -s b/c/five_mib.bin "$tree/a/link"
ln -s /nonexistent/target "$tree/dangling"
expected_tree() {
    python3 - "$1" <<'PY'
import os, sys, zlib, stat
root = sys.argv[1]
base = os.path.basename(root)
lines = []
def add(p, rel):
    st = os.lstat(p)
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        t, crc, size = 'l', zlib.crc32(os.fsencode(os.readlink(p))), 0
    elif stat.S_ISDIR(st.st_mode):
        t, crc, size = 'd', 0, 0
    else:
        t, crc, size = 'f', zlib.crc32(open(p, 'rb').read()), st.st_size
    lines.append((rel, '%s %04o %d %08x %s' % (t, mode, size, crc, rel)))
    if t == 'd':
        for n in os.listdir(p):
            add(os.path.join(p, n), rel + '/' + n)
add(root, base)
for _, l in sorted(lines, key=lambda x: x[0].encode()):
    print(l)
PY
}
expected_tree "$tree" > "$T/tree.expected"
mt_run --workload_path_on_host "$WL/tree_check_workload" --copy_to_guest "$tree" \
    --dont_trace --workload_output_path "$T/tree.got" --verbose
if mt_ok copy_tree_identical; then
    if diff -q "$T/tree.expected" "$T/tree.got" >/dev/null; then
        pass copy_tree_identical
        grep -o 'upload took .*' "$MT_ERR" | sed 's/^/# /'
    else
        fail copy_tree_identical "$(diff "$T/tree.expected" "$T/tree.got" | head -c 600)"
    fi
fi
# A single file and a second tree, natively as in the guest.
mt_run --workload_path_on_host "$WL/tree_check_workload" --copy_to_guest "$tree" \
    --dont_use_qemu --workload_output_path "$T/tree.native"
if mt_ok copy_tree_native && diff -q "$T/tree.expected" "$T/tree.native" >/dev/null; then
    pass copy_tree_native
else
    fail copy_tree_native "$(diff "$T/tree.expected" "$T/tree.native" 2>&1 | head -c 400)"
fi

# -- output out ---------------------------------------------------------------
F=$WL/output_flood_workload
"$F" 1 3 > "$T/flood1.expected" 2>&1
mt_run --workload_path_on_host "$F" --dont_trace --workload_output_path "$T/flood1" -- 1 3
if [ "$MT_RC" = 3 ] && [ -z "$MT_LEAK" ] && cmp -s "$T/flood1.expected" "$T/flood1" &&
   [ "$(wc -l < "$MT_OUT")" = 1 ] && grep -q '^tracing_duration_in_milliseconds: ' "$MT_OUT" &&
   head -1 "$MT_ERR" | grep -q '^memory_tracer: note: the workload exited with status 3$' &&
   [ "$(sed 1d "$MT_ERR" | wc -l)" = 20 ] && tail -1 "$MT_ERR" | grep -qx 'Error: no such table: t' &&
   sed 1d "$MT_ERR" | head -1 | grep -qx 'stderr line 7'; then
    pass output_saved_tail_on_failure
else
    fail output_saved_tail_on_failure "rc=$MT_RC leak=$MT_LEAK out=$(head -c 200 "$MT_OUT") err=$(head -c 300 "$MT_ERR") cmp=$(cmp "$T/flood1.expected" "$T/flood1" 2>&1 | head -c 200)"
fi
# Without --workload_output_path the tail is still shown.
mt_run --workload_path_on_host "$F" --dont_trace -- 0 1
if [ "$MT_RC" = 1 ] && [ -z "$MT_LEAK" ] && grep -qx 'Error: no such table: t' "$MT_ERR"; then
    pass output_tail_without_path
else
    fail output_tail_without_path "rc=$MT_RC leak=$MT_LEAK err=$(head -c 300 "$MT_ERR")"
fi
# Binary output (NUL bytes, no final newline) comes back byte for byte,
# natively and from the guest: /bin/cat of a copied-in file of every byte
# value.
/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4096 + b"\0tail")' > "$T/binary"
for mode in native guest; do
    if [ $mode = native ]; then
        mt_run --workload_path_on_host /bin/cat --dont_use_qemu --copy_to_guest "$T/binary" \
            --workload_output_path "$T/binary.$mode" -- binary
    else
        mt_run --workload_path_on_guest /bin/cat --dont_trace --copy_to_guest "$T/binary" \
            --workload_output_path "$T/binary.$mode" -- binary
    fi
    if mt_ok "output_binary_$mode" && cmp -s "$T/binary" "$T/binary.$mode"; then
        pass "output_binary_$mode"
    else
        fail "output_binary_$mode" "rc=$MT_RC $(cmp "$T/binary" "$T/binary.$mode" 2>&1 | head -c 200) err=$(head -c 300 "$MT_ERR")"
    fi
done
# 100 MB inside the traced region (spooled in the guest, sent after the
# workload's exit, outside it).
"$F" 100 0 2>&1 | md5sum > "$T/flood100.md5"
TRACE=(--dont_trace)
mt_have_gmbeoo && TRACE=(--analysis_tool_path "$SA" --log_of_GMBE_tracing_ratio 10)
mt_run --workload_path_on_host "$F" "${TRACE[@]}" --workload_output_path "$T/flood100" -- 100 0
if mt_ok output_100mb && [ "$(md5sum < "$T/flood100")" = "$(cat "$T/flood100.md5")" ] &&
   ! grep -q 'quick brown fox' "$MT_OUT"; then
    pass output_100mb
else
    fail output_100mb "rc=$MT_RC size=$(stat -c %s "$T/flood100" 2>/dev/null) err=$(head -c 300 "$MT_ERR")"
fi
