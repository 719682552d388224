#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make BUILD/qemu/src = pristine Debian tree + include/gmbeoo/ + our series,
# touching only the files whose content actually changes, so that a rebuild
# after editing one patch recompiles only what that patch affects.
#
# usage: qemu/apply-patches.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: apply-patches.sh BUILD_DIR}" && pwd)
pristine="$build/qemu/pristine"
src="$build/qemu/src"
stage="$build/qemu/stage"
touched_list="$build/qemu/touched-files"

[ -d "$pristine" ] || { echo "apply-patches: $pristine missing (run qemu/source.sh)" >&2; exit 1; }

# A fresh tree gets one summary line, an existing one a line per file that
# changed (what will be recompiled).
fresh=
if [ ! -d "$src" ]; then
    cp -a "$pristine" "$src.tmp"
    mv "$src.tmp" "$src"
    : > "$touched_list"
    fresh=1
fi

# Files our series (and the shared header) touch now.
series="$here/patches/series"
patches=()
if [ -f "$series" ]; then
    while IFS= read -r p; do
        case "$p" in ''|'#'*) continue ;; esac
        patches+=("$here/patches/$p")
    done < "$series"
fi
new_list=$(mktemp)
trap 'rm -f "$new_list"; rm -rf "$stage"' EXIT
(cd "$top" && find include/gmbeoo -type f -name '*.h') >> "$new_list"
for p in ${patches[@]+"${patches[@]}"}; do
    sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$p" >> "$new_list"
done
sort -u -o "$new_list" "$new_list"

# Build the stage: a hard-linked copy of pristine (patch replaces files by
# rename, so the pristine copies are never written through the links).
rm -rf "$stage"
cp -al "$pristine" "$stage"
while IFS= read -r f; do
    case "$f" in include/gmbeoo/*)
        mkdir -p "$stage/$(dirname "$f")"
        rm -f "$stage/$f"
        cp "$top/$f" "$stage/$f" ;;
    esac
done < "$new_list"
for p in ${patches[@]+"${patches[@]}"}; do
    [ -n "$fresh" ] || echo "qemu: applying $(basename "$p")"
    patch -d "$stage" -p1 -s --no-backup-if-mismatch -f < "$p" ||
        { echo "qemu: $(basename "$p") does not apply" >&2; exit 1; }
done

# Sync every file touched now or before into src, only where content differs.
changed=0
sort -u "$touched_list" "$new_list" | while IFS= read -r f; do
    if [ -e "$stage/$f" ]; then
        if ! cmp -s "$stage/$f" "$src/$f"; then
            mkdir -p "$src/$(dirname "$f")"
            rm -f "$src/$f"
            cp "$stage/$f" "$src/$f"
            [ -n "$fresh" ] || echo "qemu: updated $f"
        fi
    elif [ -e "$src/$f" ]; then
        rm -f "$src/$f"
        [ -n "$fresh" ] || echo "qemu: removed $f"
    fi
done
cp "$new_list" "$touched_list"
[ -z "$fresh" ] || echo "qemu: applied ${#patches[@]} patches (qemu/patches/series) to $src"
