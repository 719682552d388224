#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The guest's own programs as workloads, with arguments after `--`, their
# output saved with --workload_output_path and their records kept in a
# trace file.  Each program also prints its own /proc/self/maps, so the
# test can check that the trace holds user (CPL 3) accesses inside that
# program's own mappings, not only the wrapper's or the kernel's.
#
#  python3_output     python3 -c: "42" in the saved output
#  python3_own_maps   CPL 3 records inside python3's executable and heap
#  sqlite3_output     sqlite3 :memory: with an insert+select script: the
#                     right sums in the saved output
#  sqlite3_own_maps   CPL 3 records inside sqlite3's libsqlite3 mapping
#
# group: guest.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

if ! mt_have_gmbeoo; then
    skip real_programs "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
if ! grep -q '^rootfs=' "$top/build/guest/guest.conf"; then
    skip real_programs "the embedded guest has no Debian root file system"
    exit 0
fi
if ! /usr/bin/python3 -c 'import numpy, zstandard' 2>/dev/null; then
    skip real_programs "/usr/bin/python3 lacks numpy or zstandard (python3-numpy python3-zstandard)"
    exit 0
fi

# own_maps TRACE OUTPUT PATTERN: how many CPL 3 records of TRACE fall in
# the mappings of OUTPUT's maps lines whose path matches PATTERN (a Python
# regular expression).
own_maps() {
    /usr/bin/python3 - "$top/tools/python" "$@" <<'PY'
import re, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import gmbeoo
trace, output, pattern = sys.argv[2:5]
ranges = []
for line in open(output, errors="replace"):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line.strip())
    if m and re.search(pattern, m.group(3)):
        ranges.append((int(m.group(1), 16), int(m.group(2), 16)))
if not ranges:
    print("no mapping matches", pattern)
    sys.exit(1)
a = gmbeoo.read(trace)
user = a["vaddr"][a["cpl"] == 3].astype(np.uint64)
n = sum(int(((user >= lo) & (user < hi)).sum()) for lo, hi in ranges)
print(n)
PY
}

# check_program NAME PATTERN MIN: after a run, the saved output and the
# CPL 3 records inside the program's own mappings.
check_own_maps() {
    local name=$1 pattern=$2 min=$3 n
    n=$(own_maps "$MT_TEST_TMP/$name.trace" "$MT_TEST_TMP/$name.out" "$pattern")
    if ! [[ $n =~ ^[0-9]+$ ]]; then
        fail "${name}_own_maps" "$n"
    elif [ "$n" -lt "$min" ]; then
        fail "${name}_own_maps" "only $n CPL 3 records inside its mappings matching $pattern (want >= $min)"
    else
        pass "${name}_own_maps"
        echo "  $name: $n CPL 3 records inside its own mappings ($pattern)"
    fi
}

# python3: the answer, then its own maps.
mt_run --workload_path_on_guest /usr/bin/python3 \
    --trace_file_path "$MT_TEST_TMP/python3.trace" \
    --workload_output_path "$MT_TEST_TMP/python3.out" \
    -- -c 'import sys
print(sum(range(7)) * 2)
sys.stdout.write(open("/proc/self/maps").read())'
if mt_ok python3_output; then
    if [ "$(head -n1 "$MT_TEST_TMP/python3.out")" = 42 ]; then
        pass python3_output
    else
        fail python3_output "first output line is '$(head -n1 "$MT_TEST_TMP/python3.out")', want 42"
    fi
    check_own_maps python3 'python3|\[heap\]' 10000
else
    fail python3_own_maps "no run"
fi

# sqlite3: an insert+select script; .import reads its own maps into a
# table (a /proc file has no size, so readfile() would read nothing).
mt_run --workload_path_on_guest /usr/bin/sqlite3 \
    --trace_file_path "$MT_TEST_TMP/sqlite3.trace" \
    --workload_output_path "$MT_TEST_TMP/sqlite3.out" \
    -- :memory: \
    'CREATE TABLE t(a INTEGER); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO t SELECT x FROM c;' \
    'SELECT count(*), sum(a) FROM t WHERE a % 7 = 3;' \
    'CREATE TABLE m(l TEXT);' '.import /proc/self/maps m' 'SELECT l FROM m;'
if mt_ok sqlite3_output; then
    # 143 values 3, 10, ..., 997: sum = 143 * (3 + 997) / 2.
    if [ "$(head -n1 "$MT_TEST_TMP/sqlite3.out")" = "143|71500" ]; then
        pass sqlite3_output
    else
        fail sqlite3_output "first output line is '$(head -n1 "$MT_TEST_TMP/sqlite3.out")', want 143|71500"
    fi
    check_own_maps sqlite3 'libsqlite3' 10000
else
    fail sqlite3_own_maps "no run"
fi
