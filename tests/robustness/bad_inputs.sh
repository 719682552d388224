#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad inputs that get past (or around) option parsing: broken images,
# snapshots and RAM sizes QEMU rejects, emulators that are not our QEMU,
# workloads and tools that cannot run, FIFOs that cannot be used, odd
# numeric values.  tests/unit/cli_validation.sh has the original's messages
# word for word; here each case must, in addition:
#   * exit with the right status (2: usage, 1: anything else, 126/127: the
#     guest could not run the workload) within a time bound (seconds, not
#     the 60 s protocol deadline),
#   * print exactly one line on stderr and nothing on stdout (126/127: the
#     report, as for any workload status),
#   * leave no runtime dir (private TMPDIR per case) and no process (each
#     case runs in its own session: nothing may be left in it).
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$top/build/bin}
MT=$BIN/memory_tracer
WL=$top/build/tests/workloads
if [ ! -x "$MT" ]; then
    echo "$MT not built"
    exit 77
fi
# Some cases run as nobody, who may not be able to reach this checkout (a
# clone under /root or in `mktemp -d`): everything they use is copied into
# $tmp, a folder nobody can reach (all its parents searchable by everyone).
AS_NOBODY=()
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
base=${TMPDIR:-/tmp}
if [ ${#AS_NOBODY[@]} -gt 0 ]; then
    for d in "${TMPDIR:-/tmp}" /tmp /var/tmp /dev/shm ""; do
        base=$d
        [ -n "$d" ] && [ -d "$d" ] && "${AS_NOBODY[@]}" test -x "$d" && break
    done
    if [ -z "$base" ]; then
        nobody_skip="no temporary folder that nobody can reach"
        base=${TMPDIR:-/tmp}
        AS_NOBODY=()
    fi
else
    nobody_skip="needs root and setpriv to run as nobody"
fi
tmp=$(mktemp -d "$base/mt-bad.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
have_guest=
[ -x "$BIN/qemu-system-x86_64" ] && [ -f "$top/build/guest/guest.conf" ] && have_guest=1
QIMG=$BIN/qemu-img; [ -x "$QIMG" ] || QIMG=$(command -v qemu-img || true)

# Protocol steps that should fail at once must not wait for the default 60 s.
export MEMORY_TRACER_PROTOCOL_DEADLINE=30
n=0
CASE_TMPDIR=
CASE_PREFIX=()      # e.g. (setpriv ...) to run the case as another user
CASE_MT=            # memory_tracer to run instead of $MT

# check NAME WANT_RC MAX_SECONDS STDERR_REGEX ARGS...
check() {
    local name=$1 want_rc=$2 max=$3 want=$4; shift 4
    n=$((n + 1))
    local dir=$tmp/c$n; mkdir -p "$dir/tmp"; chmod -R 777 "$dir"
    local t0 t1 rc pid
    t0=$(date +%s%N)
    TMPDIR=${CASE_TMPDIR:-$dir/tmp} setsid "${CASE_PREFIX[@]}" "${CASE_MT:-$MT}" "$@" \
        >"$dir/out" 2>"$dir/err" </dev/null &
    pid=$!
    wait "$pid"; rc=$?
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    sleep 0.2
    local procs left lines
    procs=$(pgrep -s "$pid" | tr '\n' ' ')
    [ -n "$procs" ] && kill -KILL $procs 2>/dev/null
    # A failed run may keep the guest console log, if it names it on stderr.
    left=$(find "$dir/tmp" -mindepth 1 -maxdepth 1 | while read -r f; do
        grep -qF -- "$f" "$dir/err" || echo "$f"; done | head -3 | tr "\n" " ")
    lines=$(grep -c '' "$dir/err")
    local why=
    [ "$rc" = "$want_rc" ] || why="exit status $rc, expected $want_rc;"
    [ "$ms" -le $((max * 1000)) ] || why="$why took ${ms} ms > ${max} s;"
    [ "$lines" = 1 ] || why="$why $lines lines on stderr;"
    case $want_rc in
    1|2) [ -s "$dir/out" ] && why="$why stdout: $(head -c 100 "$dir/out");" ;;
    126|127) grep -q '^tracing_duration_in_milliseconds: ' "$dir/out" ||
        why="$why no report on stdout;" ;;
    esac
    grep -Eq -- "$want" "$dir/err" || why="$why stderr lacks /$want/;"
    grep -q '^memory_tracer: ' "$dir/err" || why="$why stderr not 'memory_tracer: ...';"
    [ -n "$procs" ] && why="$why processes left: $procs;"
    [ -n "$left" ] && why="$why left in TMPDIR: $left;"
    if [ -z "$why" ]; then
        echo "PASS: $name"
    else
        echo "FAIL: $name: $why stderr: $(head -c 300 "$dir/err" | tr '\n' '|')"
    fi
}

# Stand-ins.
wl=$tmp/workload; printf '#!/bin/sh\necho hi\n' > "$wl"; chmod 755 "$wl"
wl_noexec=$tmp/workload_noexec; cp "$wl" "$wl_noexec"; chmod 644 "$wl_noexec"
wl_empty=$tmp/workload_empty; : > "$wl_empty"; chmod 755 "$wl_empty"
tool_noexec=$tmp/tool_noexec; printf '#!/bin/sh\n' > "$tool_noexec"; chmod 644 "$tool_noexec"
tool_noshebang=$tmp/tool_noshebang; printf 'this is not a program\n' > "$tool_noshebang"
chmod 755 "$tool_noshebang"
text_img=$tmp/text.qcow2; echo 'not a qcow2 image' > "$text_img"
empty_img=$tmp/empty.qcow2; : > "$empty_img"
raw_img=$tmp/raw.img; head -c 1048576 /dev/zero > "$raw_img"
fake_dir=$tmp/fakeqemu; mkdir -p "$fake_dir"
printf '#!/bin/sh\necho "I am not QEMU"\nexit 0\n' > "$fake_dir/qemu-system-x86_64"
chmod 755 "$fake_dir/qemu-system-x86_64"
hang_dir=$tmp/hangqemu; mkdir -p "$hang_dir"
printf '#!/bin/sh\nexec sleep 1000\n' > "$hang_dir/qemu-system-x86_64"
chmod 755 "$hang_dir/qemu-system-x86_64"
noexec_dir=$tmp/noexecqemu; mkdir -p "$noexec_dir"
printf '#!/bin/sh\nexit 0\n' > "$noexec_dir/qemu-system-x86_64"
chmod 644 "$noexec_dir/qemu-system-x86_64"
regular=$tmp/regular_file; : > "$regular"
fifo=$tmp/private_fifo; mkfifo -m 600 "$fifo"
NT=--dont_trace
GW0=(--workload_path_on_guest /bin/true)
# A workload that is never run: cases that must fail before the guest.
HW=(--workload_path_on_host "$wl")

# ---- numeric options: out of range / not numbers (exit 2 or 1, at once) ----
check timeout_negative        1 2 'timeout must be a positive number' "${HW[@]}" $NT --timeout -1
check timeout_nan             2 2 "invalid float value: 'nan'" "${HW[@]}" $NT --timeout nan
check timeout_inf             2 2 "invalid float value: 'inf'" "${HW[@]}" $NT --timeout inf
check timeout_overflow        2 2 "invalid float value: '1e400'" "${HW[@]}" $NT --timeout 1e400
check timeout_empty           2 2 "invalid float value: ''" "${HW[@]}" $NT --timeout=
check ram_zero                1 2 'guest_RAM_in_MBs must be a positive number' "${HW[@]}" $NT --guest_RAM_in_MBs 0
check ram_negative            1 2 'guest_RAM_in_MBs must be a positive number' "${HW[@]}" $NT --guest_RAM_in_MBs -5
check ram_too_big             1 2 'guest_RAM_in_MBs must be a positive number' "${HW[@]}" $NT --guest_RAM_in_MBs 99999999999999
check ram_hex                 2 2 "invalid int value: '0x400'" "${HW[@]}" $NT --guest_RAM_in_MBs 0x400
check block_len_fraction      2 2 "invalid int value: '1.5'" "${HW[@]}" $NT --log_of_GMBE_block_len 1.5
check block_len_overflow      2 2 "invalid int value: '99999999999999999999'" "${HW[@]}" $NT --log_of_GMBE_block_len 99999999999999999999
check ratio_empty             2 2 "invalid int value: ''" "${HW[@]}" $NT --log_of_GMBE_tracing_ratio=

# ---- option groups, unknown options ----
check short_unknown_option    2 2 'unrecognized arguments: -x' "${HW[@]}" $NT -x
check tool_and_dont_trace     2 2 'not allowed with' "${HW[@]}" --analysis_tool_path "$tool_noexec" $NT
check fifo_and_native         2 2 'not allowed with' "${HW[@]}" --trace_fifo_path "$fifo" --dont_use_qemu
check nothing_at_all          2 2 'required' 
check value_looks_like_option 2 2 "expected one argument|is required" --workload_path_on_host --dont_trace

# ---- files that exist but cannot be used ----
check workload_is_dir         1 2 'workload_path_on_host must be a file path' --workload_path_on_host "$tmp" $NT
check tool_not_executable     1 2 'analysis_tool_path' "${HW[@]}" --analysis_tool_path "$tool_noexec"
check tool_is_dir             1 2 'analysis_tool_path must be a file path' "${HW[@]}" --analysis_tool_path "$tmp"
check fifo_is_regular_file    1 2 'trace_fifo_path must be a fifo path' "${HW[@]}" --trace_fifo_path "$regular"
check emulator_not_executable 1 2 'qemu_with_GMBEOO_path' "${HW[@]}" $NT "$text_img" snap "$noexec_dir/qemu-system-x86_64"
check emulator_missing        1 2 'qemu_with_GMBEOO_path must be a dir path' "${HW[@]}" $NT "$text_img" snap "$tmp/no/qemu-system-x86_64"
check native_workload_no_markers 1 10 "Ready to trace|workload" "${HW[@]}" --dont_use_qemu --dont_add_communications_with_host_to_workload
CASE_TMPDIR=$tmp/no_such_dir
check tmpdir_missing 1 5 "no_such_dir|runtime|directory" "${GW0[@]}" $NT
CASE_TMPDIR=

if [ -z "$have_guest" ]; then
    echo "SKIP: bad_inputs_qemu: the embedded guest or QEMU is not built"
    exit 0
fi
IMG=$top/build/guest/guest.qcow2
SNAP=ready_for_memory_tracer
GW=(--workload_path_on_guest /bin/true)

# ---- images, snapshots, RAM: QEMU refuses, the run says so at once ----
check image_not_qcow2         1 20 'QEMU|qemu|image|snapshot' "${GW[@]}" $NT "$text_img" "$SNAP" "$BIN"
check image_empty             1 20 'QEMU|qemu|image|snapshot' "${GW[@]}" $NT "$empty_img" "$SNAP" "$BIN"
check image_raw_no_snapshot   1 20 'QEMU|qemu|image|snapshot' "${GW[@]}" $NT "$raw_img" "$SNAP" "$BIN"
if [ -n "$QIMG" ]; then
    "$QIMG" create -q -f qcow2 "$tmp/blank.qcow2" 64M
    check qcow2_without_snapshot 1 20 "$SNAP|snapshot" "${GW[@]}" $NT "$tmp/blank.qcow2" "$SNAP" "$BIN"
else
    echo "SKIP: qcow2_without_snapshot: no qemu-img"
fi
check snapshot_not_in_image   1 20 'no_such_snapshot|snapshot' "${GW[@]}" $NT "$IMG" no_such_snapshot "$BIN"
# An image set up the original's way (`-hda IMAGE`, the pc machine with its
# default devices; -nographic keeps the VGA card): its snapshot must restore,
# which needs every one of those devices in our emulator
# (qemu/devices-x86_64.mak).  This one was saved before any code ran, so
# once restored the run waits for the guest helper in vain.
if [ -n "$QIMG" ]; then
    "$QIMG" create -q -f qcow2 "$tmp/original_way.qcow2" 64M
    printf 'savevm %s
quit
' "$SNAP" | timeout 60 "$BIN/qemu-system-x86_64" \
        -L "$top/build/share/qemu" -m 128 -hda "$tmp/original_way.qcow2" \
        -display none -monitor stdio -serial null -S >"$tmp/original_way.log" 2>&1
    CASE_PREFIX=(env MEMORY_TRACER_PROTOCOL_DEADLINE=5)
    check original_way_image_restores 1 30 'no answer from the guest helper' \
        "${GW[@]}" $NT --guest_RAM_in_MBs 128 "$tmp/original_way.qcow2" "$SNAP" "$BIN"
    CASE_PREFIX=()
else
    echo "SKIP: original_way_image_restores: no qemu-img"
fi
check ram_mismatch            1 20 'RAM|ram|memory|snapshot|MB' "${GW[@]}" $NT --guest_RAM_in_MBs 512
check emulator_bin_true       1 20 'QEMU|qemu|emulator|exited' "${GW[@]}" $NT "$IMG" "$SNAP" /bin/true
check emulator_fake_script    1 20 'QEMU|qemu|emulator|exited' "${GW[@]}" $NT "$IMG" "$SNAP" "$fake_dir"
# (QEMU gets MEMORY_TRACER_STARTUP_DEADLINE, default 300 s, to restore the
# snapshot and greet; a fake that never even makes the QMP socket waits
# that long too.)
CASE_PREFIX=(env MEMORY_TRACER_PROTOCOL_DEADLINE=5 MEMORY_TRACER_STARTUP_DEADLINE=5)
check emulator_hangs          1 20 'timed out|QMP|qemu|QEMU' "${GW[@]}" $NT "$IMG" "$SNAP" "$hang_dir"
CASE_PREFIX=()

# ---- things only the guest or the run can find out ----
# A workload the guest cannot run (the shell's 126/127): the report, one
# line, and the shell's status as memory_tracer's (like env(1), time(1));
# other statuses are propagated too (tests/guest/exit_status.sh).
check guest_workload_missing  127 60 'could not run the workload /no_such_program \(exit status 127: not found\)' --workload_path_on_guest /no_such_program $NT
check guest_workload_not_exec 126 60 'could not run the workload /etc/passwd \(exit status 126: not executable\)' --workload_path_on_guest /etc/passwd $NT
# A host workload that is not a program for x86-64 Linux: refused before
# QEMU starts.
check host_workload_not_a_program 1 5 "workload_path_on_host must be an executable for x86-64 Linux, but .*tool_noshebang isn't: it is neither an ELF executable nor a script starting with #!" --workload_path_on_host "$tool_noshebang" $NT
aarch64_elf=$tmp/aarch64_elf
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000\001\000\000\000' > "$aarch64_elf"
head -c 100 /dev/zero >> "$aarch64_elf"; chmod 755 "$aarch64_elf"
check host_workload_aarch64   1 5 "workload_path_on_host must be an executable for x86-64 Linux, but .*aarch64_elf isn't: it is an ELF file for aarch64" --workload_path_on_host "$aarch64_elf" $NT
check host_workload_aarch64_native 1 5 "it is an ELF file for aarch64" --workload_path_on_host "$aarch64_elf" --dont_use_qemu

# ---- --copy_to_guest: what cannot be copied ----
check copy_missing            1 5 "copy_to_guest must be a file or dir path, but .*/no_such_dir isn't" "${HW[@]}" $NT --copy_to_guest "$tmp/no_such_dir"
copy_fifo_dir=$tmp/copy_fifo_dir; mkdir -p "$copy_fifo_dir"; mkfifo "$copy_fifo_dir/a_fifo"
check copy_special_file       1 5 "copy_to_guest: .*a_fifo is not a regular file, a directory or a symbolic link" "${HW[@]}" $NT --copy_to_guest "$copy_fifo_dir"
mkdir -p "$tmp/one/data" "$tmp/two/data"
check copy_same_name          1 5 "copy_to_guest: .*/two/data and .*/one/data would both be data" "${HW[@]}" $NT --copy_to_guest "$tmp/one/data" --copy_to_guest "$tmp/two/data"
exe2_named=$tmp/named/executable2; mkdir -p "$tmp/named"; : > "$exe2_named"
check copy_clashes_with_workload 1 5 "would both be executable2" "${HW[@]}" $NT --copy_to_guest "$exe2_named"
# More than the guest's tmpfs holds (a sparse file: no disk used here).
big_dir=$tmp/big_dir; mkdir -p "$big_dir"; truncate -s 3G "$big_dir/sparse"
check copy_larger_than_guest  1 60 "copy_to_guest: .*big_dir need 3072.0 MiB in the guest, but its working directory \(a tmpfs in the guest's RAM\) has only [0-9.]+ MiB free" "${HW[@]}" $NT --copy_to_guest "$big_dir"
rm -f "$big_dir/sparse"

# ---- a guest that dies under the workload: ends the run at once ----
GC=(--workload_path_on_host "$WL/guest_crash_workload")
check guest_kernel_panic      1 30 "the guest kernel panicked while waiting for \"Stop tracing\" from the workload; its console says: Kernel panic - not syncing: sysrq triggered crash" "${GC[@]}" $NT -- panic
check guest_reset             1 30 "the guest reset itself \(a reboot, a kernel panic or a triple fault\) while waiting for" "${GC[@]}" $NT -- reset
check guest_triple_fault      1 30 "the guest reset itself" "${GC[@]}" $NT -- triple
check guest_power_off         1 30 "the guest powered itself off while waiting for" "${GC[@]}" $NT -- poweroff
if [ -x "$BIN/simple_analysis" ] && grep -q gmbeoo-enable "$BIN/qemu-system-x86_64" 2>/dev/null; then
    check guest_panic_traced  1 30 "the guest kernel panicked while waiting for .*Kernel panic" "${GC[@]}" --analysis_tool_path "$BIN/simple_analysis" -- panic
    check guest_panic_own_markers 1 30 "the guest kernel panicked" "${GC[@]}" --dont_add_communications_with_host_to_workload $NT -- panic
fi
# --verbose keeps the console's last lines.
n=$((n + 1)); vdir=$tmp/c$n; mkdir -p "$vdir/tmp"
TMPDIR=$vdir/tmp setsid "$MT" "${GC[@]}" $NT --verbose -- panic >"$vdir/out" 2>"$vdir/err" </dev/null
vrc=$?
if [ "$vrc" = 1 ] && grep -q "the guest console's last lines" "$vdir/err" &&
   grep -q 'Kernel panic - not syncing' "$vdir/err" &&
   grep -q '^memory_tracer: the guest kernel panicked' "$vdir/err"; then
    echo "PASS: guest_panic_verbose_console"
else
    echo "FAIL: guest_panic_verbose_console: rc=$vrc $(tail -c 400 "$vdir/err" | tr '\n' '|')"
fi
check tool_exec_format_error  1 60 'cannot start the analysis tool.*Exec format error' \
    --workload_path_on_host "$WL/simple_user_memory_intensive_workload" \
    --dont_add_communications_with_host_to_workload --analysis_tool_path "$tool_noshebang"

# ---- paths the user may not read or traverse (run as nobody) ----
# nobody's own copy of what a run reaches before the guest starts:
# memory_tracer, the emulator, the firmware and the embedded guest, laid out
# as build/ is ($NB/bin, $NB/share/qemu, $NB/guest).
nobody_cases=(fifo_no_permission image_unreadable workload_unreadable copy_unreadable
              image_untraversable workload_untraversable tool_untraversable
              qemu_untraversable fifo_untraversable embedded_guest_unreadable
              embedded_guest_untraversable)
if [ ${#AS_NOBODY[@]} -eq 0 ]; then
    for c in "${nobody_cases[@]}"; do echo "SKIP: $c: $nobody_skip"; done
    exit 0
fi
copy() { cp --preserve=mode "$@"; }
NB=$tmp/nobody
mkdir -p "$NB/bin" "$NB/share/qemu" "$NB/guest"
chmod 755 "$NB" "$NB/bin" "$NB/share" "$NB/share/qemu" "$NB/guest"
copy "$MT" "$BIN/qemu-system-x86_64" "$NB/bin/"
find "$top/build/share/qemu" "$top/build/guest" -maxdepth 1 -type f |
    while read -r f; do copy "$f" "$NB/${f#"$top/build/"}"; done
copy "$WL/simple_user_memory_intensive_workload" "$NB/workload"
# A folder nobody may not search, holding what nobody could otherwise use.
private=$tmp/private; mkdir -m 700 "$private" "$private/bin"
copy "$NB/workload" "$private/workload"
copy "$text_img" "$private/guest.qcow2"
copy "$BIN/qemu-system-x86_64" "$private/bin/"
mkfifo -m 666 "$private/fifo"
CASE_MT=$NB/bin/memory_tracer
CASE_PREFIX=("${AS_NOBODY[@]}")
NBW=(--workload_path_on_host "$NB/workload" --dont_add_communications_with_host_to_workload)
# ---- a FIFO the user may not write to ----
check fifo_no_permission 1 20 'cannot open the trace FIFO.*Permission denied' \
    "${NBW[@]}" --trace_fifo_path "$fifo"

# ---- files nobody may not read, or reach: "cannot read PATH: <errno>" ----
secret_img=$tmp/secret.qcow2; cp "$text_img" "$secret_img"; chmod 600 "$secret_img"
secret_wl=$tmp/secret_workload; cp "$wl" "$secret_wl"; chmod 700 "$secret_wl"
denied() {
    printf '^memory_tracer: cannot read %s: Permission denied$' \
        "$(printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
}
check image_unreadable 1 20 "$(denied "$secret_img")" \
    "${GW[@]}" $NT "$secret_img" "$SNAP" "$NB/bin"
check workload_unreadable 1 20 "$(denied "$secret_wl")" \
    --workload_path_on_host "$secret_wl" $NT
secret_tree=$tmp/secret_tree; mkdir -p "$secret_tree/sub"; chmod 755 "$secret_tree" "$secret_tree/sub"
: > "$secret_tree/sub/secret"; chmod 600 "$secret_tree/sub/secret"
check copy_unreadable 1 20 "copy_to_guest: $(denied "$secret_tree/sub/secret" | sed 's/^^memory_tracer: //')" \
    "${NBW[@]}" $NT --copy_to_guest "$secret_tree"
check image_untraversable 1 20 "$(denied "$private/guest.qcow2")" \
    "${GW[@]}" $NT "$private/guest.qcow2" "$SNAP" "$NB/bin"
check workload_untraversable 1 20 "$(denied "$private/workload")" \
    --workload_path_on_host "$private/workload" $NT
check tool_untraversable 1 20 "$(denied "$private/workload")" \
    "${NBW[@]}" --analysis_tool_path "$private/workload"
check qemu_untraversable 1 20 "$(denied "$private/bin")" \
    "${GW[@]}" $NT "$NB/guest/guest.qcow2" "$SNAP" "$private/bin"
check fifo_untraversable 1 20 "$(denied "$private/fifo")" \
    "${NBW[@]}" --trace_fifo_path "$private/fifo"
# The embedded guest beside a memory_tracer whose guest nobody may not read.
T2=$tmp/tree2; mkdir -p "$T2/bin" "$T2/guest"; chmod 755 "$T2" "$T2/bin" "$T2/guest"
copy "$MT" "$BIN/qemu-system-x86_64" "$T2/bin/"
cp "$text_img" "$T2/guest/guest.qcow2"; chmod 600 "$T2/guest/guest.qcow2"
CASE_MT=$T2/bin/memory_tracer
check embedded_guest_unreadable 1 20 "$(denied "$T2/guest/guest.qcow2")" "${NBW[@]}" $NT
chmod 644 "$T2/guest/guest.qcow2"; chmod 700 "$T2/guest"
check embedded_guest_untraversable 1 20 "$(denied "$T2/guest/guest.qcow2")" "${NBW[@]}" $NT
CASE_MT=
CASE_PREFIX=()
