#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The files of tracer/ call each other in layers, never in a circle: the
# state machine (session.c) above its steps (run_guest.c, run_trace.c),
# what they share (step.c) below both.  Read from the objects' symbol
# tables: an edge A -> B when A.o uses a function B.o defines; tsort(1)
# rejects any cycle and names the files on it.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
objdir=${OBJ:-$top/build/obj}/tracer
shopt -s nullglob
objs=("$objdir"/*.o)
[ ${#objs[@]} -gt 1 ] || { echo "no objects in $objdir (make tracer first)"; exit 77; }
command -v nm >/dev/null && command -v tsort >/dev/null || { echo "nm or tsort missing"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for o in "${objs[@]}"; do
    f=$(basename "$o" .o)
    nm "$o" | awk -v f="$f" '$2 == "T" { print "D", f, $3 } $1 == "U" { print "U", f, $2 }'
done > "$tmp/syms"
awk '$1 == "D" { def[$3] = $2 }
     $1 == "U" { use[n++] = $2 " " $3 }
     END { for (i = 0; i < n; i++) { split(use[i], a, " ")
           if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]] } }' \
    "$tmp/syms" | sort -u > "$tmp/edges"
[ -s "$tmp/edges" ] || { echo "FAIL: no calls between tracer/ files found (symbol tables unreadable?)"; exit 1; }
# The layering this test exists for must be visible in the edges.
for e in "session run_guest" "run_guest step" "session step"; do
    grep -qx "$e" "$tmp/edges" || { echo "FAIL: expected the call edge $e"; exit 1; }
done
if ! tsort "$tmp/edges" > /dev/null 2> "$tmp/loop"; then
    echo "FAIL: tracer/ files call each other in a circle:"
    sed -n 's/^tsort: //p' "$tmp/loop"
    exit 1
fi
echo "ok: $(wc -l < "$tmp/edges") call edges among ${#objs[@]} tracer/ files, no circle"
