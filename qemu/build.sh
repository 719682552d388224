#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Configure (once) and build QEMU, then install the binaries we use.
# Incremental: ninja only recompiles what changed.
#
# usage: qemu/build.sh BUILD_DIR [SRC OBJ BINDIR [TARGET...]]
#   default: the patched tree BUILD/qemu/src, built in BUILD/qemu/obj,
#   qemu-system-x86_64 and qemu-img installed to BUILD/bin.  The benchmarks
#   build stock QEMU (the pristine tree) through the same path, so both are
#   configured with exactly the same flags.  QEMU_BUILD_NICE=N lowers the
#   priority of the compile.
#
# Only what memory_tracer runs is built: the x86_64 system emulator with the
# devices listed in qemu/devices-x86_64.mak, TCG plugins (bench/), qemu-img,
# and no optional feature that is not asked for here.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

build=$(cd "${1:?usage: build.sh BUILD_DIR [SRC OBJ BINDIR [TARGET...]]}" && pwd)
src=$(realpath -m "${2:-$build/qemu/src}")
obj=$(realpath -m "${3:-$build/qemu/obj}")
bindir=$(realpath -m "${4:-$build/bin}")
shift $(($# < 4 ? $# : 4))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(qemu-system-x86_64 qemu-img)

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
    # Depend mode: a miss runs the compiler once (its -MD output names the
    # headers), not the preprocessor first and then the compiler: the first
    # build of a fresh cache costs about what it would without ccache
    # (measured: 25% less CPU than the default mode on QEMU's files).
    export CCACHE_DEPEND=true
    cc="ccache gcc"
else
    cc="gcc"
fi

# configure takes a device list by name, as configs/devices/ARCH-softmmu/
# NAME.mak in the source tree; a path relative to that folder names ours
# without copying it into the (pristine or patched) tree.
devices=$(realpath -m --relative-to="$src/configs/devices/x86_64-softmmu" \
          "$here/devices-x86_64")
configure_args=(
    --target-list=x86_64-softmmu
    --without-default-features
    --without-default-devices
    "--with-devices-x86_64=$devices"
    --enable-trace-backends=log
    --enable-plugins
    --enable-tools
    --disable-docs
    --disable-werror
    --meson=/usr/bin/meson
)
[ -f "$src/configure" ] || { echo "qemu: $src has no configure (make qemu-source)" >&2; exit 1; }
want="$cc ${configure_args[*]}"
if [ ! -f "$obj/build.ninja" ] || [ "$(cat "$obj/configure.args" 2>/dev/null)" != "$want" ]; then
    echo "qemu: configuring $obj"
    rm -rf "$obj"
    mkdir -p "$obj"
    (cd "$obj" && "$src/configure" --cc="$cc" "${configure_args[@]}" >configure.log 2>&1) || {
        tail -30 "$obj/configure.log" >&2
        exit 1
    }
    echo "$want" > "$obj/configure.args"
fi

echo "qemu: building ${targets[*]} in $obj"
ninja=(nice -n "${QEMU_BUILD_NICE:-0}" ninja -C "$obj" -j"$(nproc)" "${targets[@]}")
if [ -t 1 ]; then
    # A terminal: ninja's own one-line [n/N] progress status.
    "${ninja[@]}"
else
    # A log (CI, make > file): drop the progress lines, keep the errors.
    "${ninja[@]}" | { grep -v '^\[' || true; }
fi
mkdir -p "$bindir"
for b in "${targets[@]}"; do
    if ! cmp -s "$obj/$b" "$bindir/$b"; then
        install -m 0755 "$obj/$b" "$bindir/$b"
    fi
done
echo "qemu: installed ${targets[*]} to $bindir"
