#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# memory_tracer's command-line validation: every message of the original
# (ORIGINAL_BEHAVIOUR §2, tests 3-5 of §11) word for word, exit codes
# (2: usage errors, 1: failed checks), one line on stderr, nothing on
# stdout, nothing started.  Needs no guest and no QEMU.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
mt=${BIN:-$top/build/bin}/memory_tracer
if [ ! -x "$mt" ]; then
    echo "$mt not built"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Stand-ins that pass the file checks: validation never runs them.
img=$tmp/image.qcow2; : > "$img"
qdir=$tmp/qemu; mkdir -p "$qdir"
printf '#!/bin/sh\nexit 1\n' > "$qdir/qemu-system-x86_64"
chmod +x "$qdir/qemu-system-x86_64"
wl=$tmp/workload; printf '#!/bin/sh\n' > "$wl"; chmod +x "$wl"
tool=$tmp/tool; printf '#!/bin/sh\n' > "$tool"; chmod +x "$tool"
fifo=$tmp/fifo; mkfifo "$fifo"
pos=("$img" snap "$qdir")
# The runs' TMPDIR: their own, so that other runs on the machine do not
# count as left behind.
rt=$tmp/runtime; mkdir -p "$rt"

# check NAME EXPECTED_RC EXPECTED_STDERR_SUBSTRING|=EXACT_LINE ARGS...
check() {
    local name=$1 want_rc=$2 want=$3; shift 3
    local out err rc
    out=$(TMPDIR=$rt "$mt" "$@" 2>"$tmp/err" </dev/null); rc=$?
    err=$(cat "$tmp/err")
    local lines; lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" != "$want_rc" ]; then
        echo "FAIL: $name: exit status $rc, expected $want_rc (stderr: $err)"
        return
    fi
    if [ -n "$out" ]; then
        echo "FAIL: $name: printed on stdout: $out"
        return
    fi
    if [ "$lines" != 1 ]; then
        echo "FAIL: $name: expected one line on stderr, got $lines: $err"
        return
    fi
    case $want in
    =*) if [ "$err" != "memory_tracer: ${want#=}" ]; then
            echo "FAIL: $name: stderr is '$err', expected 'memory_tracer: ${want#=}'"
            return
        fi ;;
    *)  if [[ "$err" != *"$want"* ]]; then
            echo "FAIL: $name: stderr '$err' lacks '$want'"
            return
        fi ;;
    esac
    echo "PASS: $name"
}

# --- group violations and usage errors: exit 2 (argparse's convention) ---
check no_group_b 2 "one of the arguments --analysis_tool_path --trace_fifo_path --trace_file_path --dont_trace --dont_use_qemu is required" \
    --workload_path_on_host "$wl" "${pos[@]}"
check tool_and_trace_file 2 "=error: argument --trace_file_path: not allowed with argument --analysis_tool_path (see --help)" \
    --workload_path_on_host "$wl" --analysis_tool_path "$tool" --trace_file_path "$tmp/t.zst" "${pos[@]}"
check trace_file_and_fifo 2 "argument --trace_fifo_path: not allowed with argument --trace_file_path" \
    --workload_path_on_host "$wl" --trace_file_path "$tmp/t.zst" --trace_fifo_path "$fifo" "${pos[@]}"
check trace_file_no_dir 1 "=trace_file_path must be a file path in a writable dir, but $tmp/no/such/dir/t.zst isn't." \
    --workload_path_on_host "$wl" --trace_file_path "$tmp/no/such/dir/t.zst" "${pos[@]}"
check trace_file_is_dir 1 "=trace_file_path must be a file path in a writable dir, but $tmp isn't." \
    --workload_path_on_host "$wl" --trace_file_path "$tmp" "${pos[@]}"
check tool_and_fifo 2 "argument --trace_fifo_path: not allowed with argument --analysis_tool_path" \
    --workload_path_on_host "$wl" --analysis_tool_path "$tool" --trace_fifo_path "$fifo" "${pos[@]}"
check no_group_a 2 "one of the arguments --workload_path_on_guest --workload_path_on_host is required" \
    --dont_trace "${pos[@]}"
check both_workloads 2 "not allowed with argument --workload_path_on_guest" \
    --workload_path_on_guest /bin/date --workload_path_on_host "$wl" --dont_trace "${pos[@]}"
check timeout_and_no_comms 2 "argument --dont_add_communications_with_host_to_workload: not allowed with argument --timeout" \
    --workload_path_on_host "$wl" --dont_trace --timeout 3 --dont_add_communications_with_host_to_workload "${pos[@]}"
check dont_trace_and_native 2 "not allowed with argument --dont_trace" \
    --workload_path_on_host "$wl" --dont_trace --dont_use_qemu
check native_needs_host_workload 2 "--dont_use_qemu" \
    --workload_path_on_guest /bin/date --dont_use_qemu
check one_positional 2 "the following arguments are required: snapshot_name, qemu_with_GMBEOO_path" \
    --workload_path_on_host "$wl" --dont_trace "$img"
check two_positionals 2 "the following arguments are required: qemu_with_GMBEOO_path" \
    --workload_path_on_host "$wl" --dont_trace "$img" snap
check four_positionals 2 "unrecognized arguments: extra" \
    --workload_path_on_host "$wl" --dont_trace "${pos[@]}" extra
check unknown_option 2 "unrecognized arguments: --no_such_option" \
    --workload_path_on_host "$wl" --dont_trace --no_such_option "${pos[@]}"
check missing_value 2 "argument --log_of_GMBE_block_len: expected one argument" \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len
check non_numeric_block_len 2 "argument --log_of_GMBE_block_len: invalid int value: 'abc'" \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len abc "${pos[@]}"
check non_numeric_ratio 2 "argument --log_of_GMBE_tracing_ratio: invalid int value: '4x'" \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_tracing_ratio 4x "${pos[@]}"
check non_numeric_timeout 2 "argument --timeout: invalid float value: 'soon'" \
    --workload_path_on_host "$wl" --dont_trace --timeout soon "${pos[@]}"
check bad_record_format 2 "argument --trace_record_format: invalid choice: 'foo' (choose from 'gmbeoo16', 'compact8', 'extended32')" \
    --workload_path_on_guest /bin/true --dont_trace --trace_record_format foo
check bad_trace_file_codec 2 "argument --trace_file_codec: unknown trace file codec \"gzip\" (zstd, lz4, zstd-delta or lz4-delta, optionally with :LEVEL)" \
    --workload_path_on_host "$wl" --trace_file_path "$tmp/t.zst" --trace_file_codec gzip "${pos[@]}"
check bad_trace_file_codec_level 2 "argument --trace_file_codec: bad codec level in \"zstd:fast\"" \
    --workload_path_on_host "$wl" --trace_file_path "$tmp/t.zst" --trace_file_codec zstd:fast "${pos[@]}"
check codec_without_trace_file 1 "=trace_file_codec applies to --trace_file_path only." \
    --workload_path_on_host "$wl" --dont_trace --trace_file_codec zstd "${pos[@]}"
check bad_analysis_transport 2 "argument --analysis_transport: invalid choice: 'rings' (choose from 'auto', 'fifo')" \
    --workload_path_on_host "$wl" --analysis_tool_path /bin/true --analysis_transport rings "${pos[@]}"
check transport_without_tool 1 "=analysis_transport applies to --analysis_tool_path only." \
    --workload_path_on_host "$wl" --trace_file_path "$tmp/t.zst" --analysis_transport fifo "${pos[@]}"
check non_numeric_ram 2 "argument --guest_RAM_in_MBs: invalid int value: 'lots'" \
    --workload_path_on_host "$wl" --dont_trace --guest_RAM_in_MBs lots "${pos[@]}"
check non_numeric_vcpus 2 "argument --guest_num_of_vCPUs: invalid int value: 'two'" \
    --workload_path_on_host "$wl" --dont_trace --guest_num_of_vCPUs two "${pos[@]}"

# --- failed checks: exit 1, the original's exact messages ---
check bad_image 1 "=guest_image_path must be a file path, but $tmp/no_image isn't." \
    --workload_path_on_host "$wl" --dont_trace "$tmp/no_image" snap "$qdir"
(cd "$tmp" && check relative_bad_image 1 "=guest_image_path must be a file path, but $tmp/rel_image isn't." \
    --workload_path_on_host "$wl" --dont_trace rel_image snap "$qdir")
check bad_host_workload 1 "=workload_path_on_host must be a file path, but $tmp/no_workload isn't." \
    --workload_path_on_host "$tmp/no_workload" --dont_trace "${pos[@]}"
check bad_tool 1 "=analysis_tool_path must be a file path, but $tmp/no_tool isn't." \
    --workload_path_on_host "$wl" --analysis_tool_path "$tmp/no_tool" "${pos[@]}"
check fifo_is_dir 1 "=trace_fifo_path must be a fifo path, but /home isn't." \
    --workload_path_on_host "$wl" --trace_fifo_path /home "${pos[@]}"
check fifo_missing 1 "=trace_fifo_path must be a fifo path, but $tmp/no_fifo isn't." \
    --workload_path_on_host "$wl" --trace_fifo_path "$tmp/no_fifo" "${pos[@]}"
check bad_qemu_dir 1 "=qemu_with_GMBEOO_path must be a dir path, but $tmp/no_qemu isn't." \
    --workload_path_on_host "$wl" --dont_trace "$img" snap "$tmp/no_qemu"
check qemu_dir_without_binary 1 "qemu_with_GMBEOO_path must be a dir path, but $tmp isn't" \
    --workload_path_on_host "$wl" --dont_trace "$img" snap "$tmp"
# A path that may exist but cannot be reached says why in the errno's words
# (tests/robustness/bad_inputs.sh has the Permission denied cases, as
# nobody); a path below a file still is no file path.
ln -s loop "$tmp/loop"
check image_symlink_loop 1 "=cannot read $tmp/loop: Too many levels of symbolic links" \
    --workload_path_on_host "$wl" --dont_trace "$tmp/loop" snap "$qdir"
check workload_in_symlink_loop 1 "=cannot read $tmp/loop/workload: Too many levels of symbolic links" \
    --workload_path_on_host "$tmp/loop/workload" --dont_trace "${pos[@]}"
check tool_in_symlink_loop 1 "=cannot read $tmp/loop/tool: Too many levels of symbolic links" \
    --workload_path_on_host "$wl" --analysis_tool_path "$tmp/loop/tool" "${pos[@]}"
check qemu_in_symlink_loop 1 "=cannot read $tmp/loop/qemu: Too many levels of symbolic links" \
    --workload_path_on_host "$wl" --dont_trace "$img" snap "$tmp/loop/qemu"
check fifo_in_symlink_loop 1 "=cannot read $tmp/loop/fifo: Too many levels of symbolic links" \
    --workload_path_on_host "$wl" --trace_fifo_path "$tmp/loop/fifo" "${pos[@]}"
check workload_below_a_file 1 "=workload_path_on_host must be a file path, but $wl/x isn't." \
    --workload_path_on_host "$wl/x" --dont_trace "${pos[@]}"
check block_len_negative 1 "=log_of_GMBE_block_len must be in range [0, 64], but -1 isn't." \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len -1 --log_of_GMBE_tracing_ratio 4 "${pos[@]}"
check block_len_65 1 "=log_of_GMBE_block_len must be in range [0, 64], but 65 isn't." \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len 65 --log_of_GMBE_tracing_ratio 4 "${pos[@]}"
check ratio_negative 1 "=log_of_GMBE_tracing_ratio must be in range [0, 64], but -1 isn't." \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len 4 --log_of_GMBE_tracing_ratio -1 "${pos[@]}"
check ratio_65 1 "=log_of_GMBE_tracing_ratio must be in range [0, 64], but 65 isn't." \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len 4 --log_of_GMBE_tracing_ratio 65 "${pos[@]}"
check sum_65 1 "=log_of_GMBE_block_len + log_of_GMBE_tracing_ratio must be in range [0, 64], but 32 + 33 = 65 isn't." \
    --workload_path_on_host "$wl" --dont_trace --log_of_GMBE_block_len 32 --log_of_GMBE_tracing_ratio 33 "${pos[@]}"
check vcpus_0 1 "=guest_num_of_vCPUs must be in range [1, 64], but 0 isn't." \
    --workload_path_on_host "$wl" --dont_trace --guest_num_of_vCPUs 0 "${pos[@]}"
check vcpus_65 1 "=guest_num_of_vCPUs must be in range [1, 64], but 65 isn't." \
    --workload_path_on_host "$wl" --dont_trace --guest-num-of-vCPUs 65 "${pos[@]}"
check timeout_not_positive 1 "timeout must be a positive number of seconds" \
    --workload_path_on_host "$wl" --dont_trace --timeout 0 "${pos[@]}"

# --- spellings: dashed aliases and --name=value reach the same checks ---
check dashed_aliases 1 "=log_of_GMBE_block_len + log_of_GMBE_tracing_ratio must be in range [0, 64], but 32 + 33 = 65 isn't." \
    --workload-path-on-host "$wl" --dont-trace --log-of-GMBE-block-len=32 --log-of-GMBE-tracing-ratio 33 "${pos[@]}"
check equals_form 1 "=workload_path_on_host must be a file path, but $tmp/nope isn't." \
    --workload_path_on_host="$tmp/nope" --dont_trace "${pos[@]}"
check abbreviation 1 "=workload_path_on_host must be a file path, but $tmp/nope isn't." \
    --workload_path_on_h "$tmp/nope" --dont_tr "${pos[@]}"
check ambiguous_abbreviation 2 "ambiguous option: --dont could match --dont_trace, --dont_use_qemu" \
    --workload_path_on_host "$wl" --dont "${pos[@]}"
# --dont_use_qemu skips every QEMU check (dummy positionals, bad B/R).
check native_skips_qemu_checks 1 "=workload_path_on_host must be a file path, but $tmp/nope isn't." \
    --workload_path_on_host "$tmp/nope" --dont_use_qemu --log_of_GMBE_block_len 99 x y z

# --- help and version ---
help=$("$mt" --help); rc=$?
if [ $rc = 0 ] && [[ $help == *"Ready to analyze"* ]] && [[ $help == *"Stop tracing"* ]] \
    && [[ $help == *"--workload_path_on_guest"* ]] && [[ $help == *"SIGUSR1"* ]]; then
    echo "PASS: help"
else
    echo "FAIL: help: status $rc or the contracts are missing from --help"
fi
h2=$("$mt" -h) && [ "$h2" = "$help" ] && echo "PASS: help_short" || echo "FAIL: help_short"
"$mt" --version | grep -q '^memory_tracer [0-9]' && echo "PASS: version" || echo "FAIL: version"
# No run may have left a runtime directory behind.
left=$(find "$rt" -mindepth 1 -maxdepth 1 2>/dev/null | head -1)
[ -z "$left" ] && echo "PASS: no_runtime_dir_left" || echo "FAIL: no_runtime_dir_left: $left"

# ---- "--": the rest is the workload's, options and all ----
args_wl=$tmp/args_workload
printf '#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done\n' > "$args_wl"; chmod +x "$args_wl"
out=$(TMPDIR=$rt "$mt" --workload_path_on_host "$args_wl" --dont_use_qemu \
    --workload_output_path "$tmp/args.out" -- --help -v "" "x y" 2>"$tmp/err"); rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$tmp/args.out")" = "$(printf '[--help]\n[-v]\n[]\n[x y]')" ] &&
   [ ! -s "$tmp/err" ] && [[ "$out" == tracing_duration_in_milliseconds:* ]]; then
    echo "PASS: args_after_double_dash_are_the_workloads"
else
    echo "FAIL: args_after_double_dash_are_the_workloads: rc=$rc out=$out err=$(cat "$tmp/err") saved=$(cat "$tmp/args.out" 2>&1)"
fi
check workload_output_path_dir 1 "workload_output_path must be a file path in a writable dir, but $tmp isn't." \
    --workload_path_on_host "$wl" --dont_use_qemu --workload_output_path "$tmp"
check copy_to_guest_needs_value 2 "argument --copy_to_guest: expected one argument" \
    --workload_path_on_host "$wl" --dont_use_qemu --copy_to_guest
