#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The 16550 (ttyS0) channel that user-made images use: boot the embedded
# kernel + initramfs without a virtio console and run the hello workload
# (build/tests/guest/serial_smoke --boot-ttyS0).
set -uo pipefail
smoke="${BUILD:-build}/tests/guest/serial_smoke"
if [ ! -x "$smoke" ]; then
    echo "$smoke not built"
    exit 77
fi
exec "$smoke" --boot-ttyS0
