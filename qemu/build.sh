#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Configure (once) and build the patched QEMU, then install the two binaries
# we use to BUILD/bin.  Incremental: ninja only recompiles what changed.
#
# usage: qemu/build.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: build.sh BUILD_DIR}" && pwd)
src="$build/qemu/src"
obj="$build/qemu/obj"

# QEMU's configure wants the system Python and Debian's meson, not a pyenv
# python3 that may come first on PATH.
export PATH="/usr/bin:/bin:/usr/sbin:/sbin:$PATH"
unset PYTHONPATH PYENV_VERSION || true

if command -v ccache >/dev/null 2>&1; then
    export CCACHE_DIR=${CCACHE_DIR:-${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}/ccache}
    export CCACHE_BASEDIR="$build"
    export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
    # Object files do not depend on where the clone lives: let a fresh clone
    # (CI) hit the cache filled by another checkout.
    export CCACHE_NOHASHDIR=true
    cc="ccache gcc"
else
    cc="gcc"
fi

configure_args=(
    --target-list=x86_64-softmmu
    --without-default-features
    --enable-trace-backends=simple
    --enable-plugins
    --enable-tools
    --disable-docs
    --disable-werror
    --meson=/usr/bin/meson
)
want="$cc ${configure_args[*]}"
if [ ! -f "$obj/build.ninja" ] || [ "$(cat "$obj/configure.args" 2>/dev/null)" != "$want" ]; then
    echo "qemu: configuring"
    rm -rf "$obj"
    mkdir -p "$obj"
    (cd "$obj" && "$src/configure" --cc="$cc" "${configure_args[@]}" >configure.log 2>&1) || {
        tail -30 "$obj/configure.log" >&2
        exit 1
    }
    echo "$want" > "$obj/configure.args"
fi

echo "qemu: building"
# Keep the log short: ninja's progress lines are dropped, errors stay.
ninja -C "$obj" -j"$(nproc)" qemu-system-x86_64 qemu-img | { grep -v '^\[' || true; }
mkdir -p "$build/bin"
for b in qemu-system-x86_64 qemu-img; do
    if ! cmp -s "$obj/$b" "$build/bin/$b"; then
        install -m 0755 "$obj/$b" "$build/bin/$b"
    fi
done
echo "qemu: installed $build/bin/qemu-system-x86_64 $build/bin/qemu-img"
