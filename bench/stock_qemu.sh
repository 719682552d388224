#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build stock Debian QEMU 7.2 (Debian's patches, none of ours) into
# BUILD/bench/stock, with exactly the configure flags qemu/build.sh uses (read
# from that script, so the two cannot drift), in a meson build directory of
# its own.  `make bench` runs it next to our patched binary to show what the
# patches cost when tracing is off.  Incremental and ccache'd like the main
# build; run at low priority so it does not starve other work on the machine.
#
# usage: bench/stock_qemu.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: stock_qemu.sh BUILD_DIR}" && pwd)
src="$build/qemu/pristine"
obj="$build/bench/stock/obj"
bin="$build/bench/stock/bin"

[ -f "$src/configure" ] || { echo "bench: $src missing (make qemu-source)" >&2; exit 1; }

export PATH="/usr/bin:/bin:/usr/sbin:/sbin:$PATH"
unset PYTHONPATH PYENV_VERSION || true
if command -v ccache >/dev/null 2>&1; then
    export CCACHE_DIR=${CCACHE_DIR:-${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}/ccache}
    export CCACHE_BASEDIR="$build"
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
    cc="ccache gcc"
else
    cc="gcc"
fi

# The configure_args=( ... ) array of qemu/build.sh, verbatim.
eval "$(sed -n '/^configure_args=(/,/^)/p' "$top/qemu/build.sh")"
[ "${#configure_args[@]}" -gt 0 ] || { echo "bench: no configure_args in qemu/build.sh" >&2; exit 1; }

want="$cc ${configure_args[*]} $(cat "$build/qemu/pristine.stamp" 2>/dev/null)"
if [ ! -f "$obj/build.ninja" ] || [ "$(cat "$obj/configure.args" 2>/dev/null)" != "$want" ]; then
    echo "bench: configuring stock QEMU in $obj"
    rm -rf "$obj"
    mkdir -p "$obj"
    (cd "$obj" && "$src/configure" --cc="$cc" "${configure_args[@]}" >configure.log 2>&1) || {
        tail -30 "$obj/configure.log" >&2
        exit 1
    }
    echo "$want" > "$obj/configure.args"
fi
echo "bench: building stock QEMU (nice 19)"
nice -n 19 ninja -C "$obj" -j"$(nproc)" qemu-system-x86_64 | { grep -v '^\[' || true; }
mkdir -p "$bin"
if ! cmp -s "$obj/qemu-system-x86_64" "$bin/qemu-system-x86_64"; then
    install -m 0755 "$obj/qemu-system-x86_64" "$bin/qemu-system-x86_64"
fi
echo "bench: stock QEMU at $bin/qemu-system-x86_64"
