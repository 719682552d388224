#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tools/python as a package (issue 21):
#  venv_install       `pip install --no-build-isolation --no-deps` of a copy
#                     of tools/python into a venv of Debian's python3 (with
#                     its site packages: offline), then `import gmbeoo` from
#                     elsewhere finds the installed module and reads a stream.
#  missing_numpy      under an interpreter without numpy (a bare venv), the
#                     import fails and its last stderr line says what to
#                     install.
#  make_install       `make install-python DESTDIR=...` puts gmbeoo.py in a
#                     directory that Debian's python3 has on its path.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
py=/usr/bin/python3
if ! $py -c 'import numpy, zstandard, lz4, venv, setuptools' 2>/dev/null; then
    echo "SKIP: python_package: /usr/bin/python3 lacks numpy, zstandard, lz4, venv or setuptools (python3-numpy python3-zstandard python3-lz4 python3-venv python3-setuptools)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-pypkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

# A small raw gmbeoo16 stream: 3 stores to 0x1000, 0x1008, 0x1010.
$py -c '
import struct, sys
sys.stdout.buffer.write(b"".join(struct.pack("<QQ", 0x23 | 3 << 6 | 1 << 63, 0x1000 + 8 * i) for i in range(3)))
' > "$tmp/s.raw"

# ---- venv_install ----
# From a copy: pip builds in the source tree (build/, *.egg-info).
cp -r "$top/tools/python" "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info
if ! $py -m venv --system-site-packages "$tmp/venv" > "$tmp/venv.log" 2>&1; then
    fail venv_install "python3 -m venv: $(tail -2 "$tmp/venv.log" | tr '\n' ' ')"
elif ! "$tmp/venv/bin/pip" install --no-build-isolation --no-deps --no-index \
        "$tmp/src" > "$tmp/pip.log" 2>&1; then
    fail venv_install "pip install: $(tail -3 "$tmp/pip.log" | tr '\n' ' ')"
else
    got=$(cd / && "$tmp/venv/bin/python" -c '
import sys, gmbeoo
a = gmbeoo.read(sys.argv[1], format="gmbeoo16")
print(gmbeoo.__file__.startswith(sys.prefix), len(a), hex(int(a["vaddr"][2])), bool(a["store"].all()))
' "$tmp/s.raw" 2>&1)
    if [ "$got" = "True 3 0x1010 True" ]; then
        pass venv_install
    else
        fail venv_install "$got"
    fi
fi

# ---- missing_numpy ----
$py -m venv --without-pip "$tmp/bare" > "$tmp/bare.log" 2>&1
if ! "$tmp/bare/bin/python" -c 'import numpy' 2>/dev/null; then
    (cd / && PYTHONPATH=$top/tools/python "$tmp/bare/bin/python" -c 'import gmbeoo') \
        > "$tmp/out" 2> "$tmp/err"
    rc=$?
    last=$(tail -1 "$tmp/err")
    if [ $rc != 0 ] && [[ "$last" == "ImportError: gmbeoo needs numpy and zstandard"* ]] &&
       [[ "$last" == *"python3-numpy python3-zstandard"* ]] &&
       [[ "$last" == *"pip install numpy zstandard"* ]]; then
        pass missing_numpy
    else
        fail missing_numpy "status $rc, last line: $last"
    fi
else
    fail missing_numpy "a venv without site packages has numpy?"
fi

# ---- make_install ----
make -s -C "$top" install-python DESTDIR="$tmp/dest" PREFIX=/usr/local \
    > "$tmp/make.log" 2>&1
inst=$(cd "$tmp/dest" 2>/dev/null && find . -name gmbeoo.py | sed 's/^\.//')
dir=$(dirname "$inst" 2>/dev/null)
if [ -z "$inst" ]; then
    fail make_install "no gmbeoo.py under DESTDIR: $(tail -2 "$tmp/make.log" | tr '\n' ' ')"
elif ! $py -c 'import sys; sys.exit(0 if sys.argv[1] in sys.path else 1)' "$dir"; then
    fail make_install "$dir is not on /usr/bin/python3's sys.path"
elif ! cmp -s "$tmp/dest$inst" "$top/tools/python/gmbeoo.py"; then
    fail make_install "$inst differs from tools/python/gmbeoo.py"
else
    pass make_install
fi
