#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Check the series the way a reviewer's bisect would: apply qemu/patches/
# series one patch at a time onto the pristine tree (plus include/gmbeoo/),
# in a work tree of its own, run the tree's scripts/checkpatch.pl on each
# patch and build qemu-system-x86_64 after each (configured once, then
# incremental; ccache serves what an earlier build already compiled).
# Says which patch broke what; exits non-zero if any patch did.
#
# usage: qemu/series-check.sh BUILD_DIR
#   work tree BUILD/qemu-series/{src,obj,bin,logs}; QEMU_BUILD_NICE as for
#   qemu/build.sh.  The main build (BUILD/qemu) is not touched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: series-check.sh BUILD_DIR}" && pwd)
pristine="$build/qemu/pristine"
work="$build/qemu-series"
src="$work/src"
logs="$work/logs"

[ -d "$pristine" ] || { echo "series-check: $pristine missing (make qemu-source)" >&2; exit 1; }

patches=()
while IFS= read -r p; do
    case "$p" in ''|'#'*) continue ;; esac
    patches+=("$p")
done < "$here/patches/series"

start=$(date +%s)
rm -rf "$src" "$logs"
mkdir -p "$work" "$logs"
cp -a "$pristine" "$src"
(cd "$top" && find include/gmbeoo -type f -name '*.h') | while IFS= read -r f; do
    mkdir -p "$src/$(dirname "$f")"
    cp "$top/$f" "$src/$f"
done
# The objects of an earlier run were built from patched files; the pristine
# copies are older than those objects, so make ninja look at them again.
for p in "${patches[@]}"; do
    sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$here/patches/$p"
done | sort -u | while IFS= read -r f; do
    [ ! -e "$src/$f" ] || touch "$src/$f"
done

failed=0
n=0
for p in "${patches[@]}"; do
    n=$((n + 1))
    t0=$(date +%s)
    tag="[$n/${#patches[@]}] $p"
    problems=()

    # checkpatch: every ERROR and WARNING counts but the question whether
    # MAINTAINERS needs updating for a new file (the series adds no
    # MAINTAINERS entry: it is not posted upstream).
    (cd "$src" && perl scripts/checkpatch.pl --no-color "$here/patches/$p") \
        > "$logs/$n.checkpatch" 2>&1 || true
    if grep '^\(ERROR\|WARNING\):' "$logs/$n.checkpatch" |
            grep -qv 'does MAINTAINERS need updating'; then
        problems+=("checkpatch: $(grep '^total:' "$logs/$n.checkpatch")" \
                   "(log: $logs/$n.checkpatch)")
    fi

    if ! patch -d "$src" -p1 -s --no-backup-if-mismatch -f \
            < "$here/patches/$p" > "$logs/$n.patch" 2>&1; then
        echo "series-check: $tag does not apply:" >&2
        cat "$logs/$n.patch" >&2
        exit 1
    fi

    if ! bash "$here/build.sh" "$build" "$src" "$work/obj" "$work/bin" \
            qemu-system-x86_64 > "$logs/$n.build" 2>&1; then
        grep -m 20 -E 'error|Error|undefined' "$logs/$n.build" >&2 || true
        echo "series-check: $tag does not build (log: $logs/$n.build)" >&2
        echo "series-check: stopped at patch $n; the later ones need it" >&2
        exit 1
    fi
    # A built binary that does not start is broken too.
    if ! echo '{"execute": "qmp_capabilities"} {"execute": "quit"}' |
            timeout 60 "$work/bin/qemu-system-x86_64" -machine none \
            -display none -nodefaults -qmp stdio > "$logs/$n.run" 2>&1; then
        problems+=("qemu-system-x86_64 does not start (log: $logs/$n.run)")
    fi

    if [ ${#problems[@]} -gt 0 ]; then
        failed=$((failed + 1))
        echo "series-check: $tag: FAIL: ${problems[*]}"
    else
        echo "series-check: $tag: ok (checkpatch clean, builds, starts;" \
             "$(( $(date +%s) - t0 )) s)"
    fi
done

echo "series-check: ${#patches[@]} patches, $failed failed," \
     "$(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
