#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build stock Debian QEMU 7.2 (Debian's patches, none of ours) into
# BUILD/bench/stock through qemu/build.sh, so it is configured with exactly
# the flags of our patched build, in a meson build directory of its own.
# `make bench` runs it next to our patched binary to show what the patches
# cost when tracing is off.  Incremental and ccache'd like the main build;
# low priority so it does not starve other work on the machine.
#
# usage: bench/stock_qemu.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: stock_qemu.sh BUILD_DIR}" && pwd)
QEMU_BUILD_NICE=19 bash "$here/../qemu/build.sh" "$build" "$build/qemu/pristine" \
    "$build/bench/stock/obj" "$build/bench/stock/bin" qemu-system-x86_64
echo "bench: stock QEMU at $build/bench/stock/bin/qemu-system-x86_64"
