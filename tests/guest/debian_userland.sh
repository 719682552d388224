#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The embedded guest's Debian userland (issue 19 item 1): ordinary programs
# built on this host run unchanged, the guest's own programs run, runs
# sharing the one read-only image stay exact and cannot affect each other.
#
#  dyn_c_exact       gmbeoo_exact_workload.c built with plain `gcc -O2`
#                    (dynamic, PIE, glibc): exactly the records of
#                    gmbeoo_exact.sh's exact_counts in its buffer.
#  cxx_exact         cxx_exact_workload.cc built with plain `g++ -O2`
#                    (libstdc++, aligned operator new): exact records in the
#                    buffer it allocates.
#  python3_runs      a script that runs the guest's python3 -c in the
#                    traced region: exit 0, the answer in the workload info,
#                    CPL 3 accesses traced.
#  sqlite3_runs      the same with sqlite3 :memory: (create, insert, select).
#  guest_has_userland  /bin/date, /usr/bin/python3, sqlite3, gzip, xz,
#                    busybox, libstdc++ are in the guest (one script).
#  concurrent_exact  three runs of dyn_exact_workload at the same time on
#                    the same image: each exact.
#  rm_usr_lib        a workload that deletes /usr/lib (rm -rf) and checks
#                    that libc.so.6 is gone; rm_usr_lib_next_run: a fresh
#                    run of the dynamic workload is exact again (nothing
#                    written survives into the next run).
#
# group: guest.  Runtime: about 1-2 min idle on the shared 2-core machine.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"
source "$(dirname "$0")/exact_expected.bash"

COUNT=$top/build/tests/gmbeoo/gmbeoo_count
NOCOMM=--dont_add_communications_with_host_to_workload
if ! mt_have_gmbeoo; then
    skip debian_userland "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
if ! grep -q '^rootfs=' "$top/build/guest/guest.conf"; then
    skip debian_userland "the embedded guest has no Debian root file system (rootfs in guest.conf)"
    exit 0
fi
mt_require_built debian_userland "$COUNT" "$WL"/dyn_exact_workload "$WL"/cxx_exact_workload || exit 0

expected_cxx() {
    cat <<'EOF'
at +0 load size=4 sx=0 cpl=3: 1000
at +8 store size=8 sx=0 cpl=3: 700
at +16 load size=1 sx=0 cpl=3: 300
at +20 store size=2 sx=0 cpl=3: 200
at +128 load size=4 sx=0 cpl=3: 50
at +128 store size=4 sx=0 cpl=3: 50
EOF
}

# exact_verdict NAME EXPECTED IN_RANGE OUT ERR RC LEAK: one verdict line.
exact_verdict() {
    local name=$1 expected=$2 n=$3
    MT_OUT=$4 MT_ERR=$5 MT_RC=$6 MT_LEAK=$7
    mt_ok "$name" || return
    local got want
    got=$(grep '^at ' "$MT_OUT")
    want=$($expected)
    if [ "$got" != "$want" ]; then
        fail "$name" "records in the range differ (- want, + got): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ';')"
    elif [ "$(mt_value in_range)" != "$n" ]; then
        fail "$name" "in_range $(mt_value in_range), want $n"
    elif [ "$(mt_value eof)" != 1 ] ||
         [ "$(mt_value records)" != "$(mt_value num_of_events_written_to_trace_buf)" ]; then
        fail "$name" "eof $(mt_value eof), read $(mt_value records), written $(mt_value num_of_events_written_to_trace_buf)"
    else
        pass "$name"
    fi
}

run_exact() {
    local name=$1 workload=$2 expected=$3 n=$4
    mt_run --workload_path_on_host "$WL/$workload" $NOCOMM \
        --analysis_tool_path "$COUNT" --print_trace_info
    exact_verdict "$name" "$expected" "$n" "$MT_OUT" "$MT_ERR" "$MT_RC" "$MT_LEAK"
}

# The workload info of the last run: the line after "workload info:".
mt_info() {
    sed -n '/^workload info:/{n;p;q}' "$MT_OUT"
}

# ---- host-compiled programs ----
run_exact dyn_c_exact dyn_exact_workload expected_exact 3601
run_exact cxx_exact cxx_exact_workload expected_cxx 2300

# ---- the guest's own programs ----
# A script workload without the wrapper: it prints the protocol lines
# itself, the answer of an untraced run as the workload info, then runs the
# program again in the traced region and exits with its status.
# guest_script NAME ANSWER_COMMAND TRACED_COMMAND: writes $MT_TEST_TMP/NAME.sh
guest_script() {
    local f=$MT_TEST_TMP/$1.sh
    cat > "$f" <<EOF
#!/bin/sh
answer=\$($2 2>&1 | head -n 1)
printf '%s' "-----begin workload info-----\$answer-----end workload info-----"
echo
echo "Ready to trace. Press enter to continue"
read -r line
$3 > /tmp/traced.out 2>&1
rc=\$?
echo "Stop tracing"
exit \$rc
EOF
    chmod +x "$f"
    echo "$f"
}

# check_program NAME WANT_INFO SCRIPT: exit 0, the workload info, CPL 3
# accesses in the traced region.
check_program() {
    local name=$1 want=$2 script=$3
    mt_run --workload_path_on_host "$script" $NOCOMM --analysis_tool_path "$SA"
    mt_ok "$name" || return
    local info cpl3
    info=$(mt_info)
    cpl3=$(mt_value num_of_mem_accesses_by_CPL3_code)
    if [ "$info" != "$want" ]; then
        fail "$name" "workload info '$info', want '$want'"
    elif [ -z "$cpl3" ] || [ "$cpl3" -le 1000 ]; then
        fail "$name" "num_of_mem_accesses_by_CPL3_code '$cpl3' (want > 1000)"
    else
        pass "$name"
    fi
}
check_program python3_runs "285 3" "$(guest_script py \
    "python3 -c 'import sys; print(sum(i * i for i in range(10)), sys.version_info[0])'" \
    "python3 -c 'print(sum(i * i for i in range(100000)))'")"
check_program sqlite3_runs "3|6" "$(guest_script sq \
    "sqlite3 :memory: 'create table t(a); insert into t values (1),(2),(3); select count(*), sum(a) from t;'" \
    "sqlite3 :memory: 'create table t(a); with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000) insert into t select x from c; select sum(a) from t;'")"

# Everything the guest is said to have, in one script: names of what is
# missing in the workload info.
f=$MT_TEST_TMP/have.sh
cat > "$f" <<'EOF'
#!/bin/sh
missing=
for p in /bin/date /usr/bin/python3 /usr/bin/sqlite3 /bin/gzip /usr/bin/xz /bin/busybox /usr/bin/env; do
    [ -x "$p" ] || missing="$missing $p"
done
ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 >/dev/null 2>&1 || missing="$missing libstdc++/libgcc_s"
echo hello | gzip -c | gzip -dc | grep -q hello || missing="$missing gzip-roundtrip"
echo hello | xz -c | xz -dc | grep -q hello || missing="$missing xz-roundtrip"
printf '%s' "-----begin workload info-----ok$missing-----end workload info-----"
echo
echo "Ready to trace. Press enter to continue"
read -r line
echo "Stop tracing"
EOF
chmod +x "$f"
mt_run --workload_path_on_host "$f" $NOCOMM --analysis_tool_path "$SA"
if mt_ok guest_has_userland; then
    info=$(mt_info)
    [ "$info" = ok ] && pass guest_has_userland ||
        fail guest_has_userland "missing in the guest: ${info#ok}"
fi

# ---- three concurrent runs on the one image ----
# Each run's own leak check would see the other runs' QEMUs (they all live
# under $MT_TEST_TMP/run*): leftovers are checked once all three are done.
pids=()
for i in 1 2 3; do
    (MT_RUNS=$((100 + i)); mt_run --workload_path_on_host "$WL/dyn_exact_workload" $NOCOMM \
        --analysis_tool_path "$COUNT" --print_trace_info
     printf '%s\n%s\n%s\n' "$MT_OUT" "$MT_ERR" "$MT_RC" > "$MT_TEST_TMP/conc$i") &
    pids+=($!)
done
wait "${pids[@]}"
conc_ok=1
for i in 1 2 3; do
    mapfile -t r < "$MT_TEST_TMP/conc$i"
    v=$(exact_verdict "concurrent_exact_$i" expected_exact 3601 "${r[0]}" "${r[1]}" "${r[2]}" "")
    case $v in PASS:*) ;; *) echo "$v"; conc_ok=0 ;; esac
done
sleep 0.2
left=$(mt_leftover_processes; find "$MT_TEST_TMP"/run10[123] -mindepth 1 -maxdepth 1 -name 'memory_tracer.*')
if [ -n "$left" ]; then
    fail concurrent_exact "left behind: $left"
elif [ "$conc_ok" = 1 ]; then
    pass concurrent_exact
else
    fail concurrent_exact "see the lines above"
fi

# ---- a workload that deletes /usr/lib; the next run is unaffected ----
f=$MT_TEST_TMP/rm_usr_lib.sh
cat > "$f" <<'EOF'
#!/bin/sh
printf '%s' "-----begin workload info-----$(ls /usr/lib | wc -l)-----end workload info-----"
echo
echo "Ready to trace. Press enter to continue"
read -r line
rm -rf /usr/lib
echo "Stop tracing"
[ -e /usr/lib/x86_64-linux-gnu/libc.so.6 ] && exit 1
exit 0
EOF
chmod +x "$f"
mt_run --workload_path_on_host "$f" $NOCOMM --analysis_tool_path "$SA"
if mt_ok rm_usr_lib; then
    pass rm_usr_lib     # exit 0: libc.so.6 was gone when the script ended
    run_exact rm_usr_lib_next_run dyn_exact_workload expected_exact 3601
fi
exit 0
