#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Restore + upload + run the hello workload 20 times in a row, each on a
# fresh restore of the snapshot (build/tests/guest/serial_smoke --repeat).
set -uo pipefail
smoke="${BUILD:-build}/tests/guest/serial_smoke"
if [ ! -x "$smoke" ]; then
    echo "$smoke not built"
    exit 77
fi
exec "$smoke" --repeat "${SMOKE_REPEAT:-20}"
