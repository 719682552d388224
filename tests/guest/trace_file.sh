#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --trace_file_path on the embedded guest (issue 11 §1-3):
#  exact_to_file      gmbeoo_exact_workload traced to a file (the default
#                     codec, zstd-delta): the run succeeds, the file is whole
#                     (trailer, no temporary left), and `gmbeoo_dump --raw`
#                     gives exactly 16 x num_of_events_written_to_trace_buf
#                     bytes, with events == written == written to file.
#  dump_summary       gmbeoo_dump --summary counts those records and shows the
#                     header (format, sampling, workload).
#  dump_csv           --csv: the header line and one line per record.
#  din_known_values   --din: the lines in the workload's buffer, per (label,
#                     offset), are exactly the instructions' accesses.
#  python_reader      gmbeoo.read() (Debian's python3) gives the same records
#                     as gmbeoo_dump --csv; iter_chunks() covers them all.
#  heatmap            gmbeoo_heatmap draws it (a PNG of the asked size).
#  codec_zstd, codec_lz4, codec_lz4_delta
#                     --trace_file_codec: the same workload per codec;
#                     `gmbeoo_dump --raw` gives 16 x written bytes, and for
#                     zstd and lz4 exactly what `zstd -dc`/`lz4 -dc` give;
#                     the Python reader names the codec and reads every
#                     record.
#  full_disk          a 4 KiB tmpfs: the run fails with one line naming the
#                     path and "No space left on device", leaving no file.
#
# group: guest.  Runtime: about 10 s.
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

NOCOMM=--dont_add_communications_with_host_to_workload
DUMP=$BIN/gmbeoo_dump
HEAT=$BIN/gmbeoo_heatmap
if ! mt_have_gmbeoo; then
    skip trace_file "the patched QEMU (gmbeoo-enable) or the guest is not built"
    exit 0
fi
mt_require_built trace_file "$DUMP" "$HEAT" "$WL/gmbeoo_exact_workload" "$WL/gmbeoo_long_workload" || exit 0
if ! command -v zstd >/dev/null; then
    skip trace_file "no zstd command (Debian package zstd)"
    exit 0
fi
T=$MT_TEST_TMP/files
mkdir -p "$T"
trace=$T/exact.gmbeoo.zst

# ---- exact_to_file ----
mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
    --trace_file_path "$trace" --print_trace_info
ok=0
if mt_ok exact_to_file; then
    events=$(mt_value num_of_GMBE_events_since_enabling_GMBEOO)
    written=$(mt_value num_of_events_written_to_trace_buf)
    output=$(mt_value num_of_events_written_to_trace_file)
    bytes=$("$DUMP" --raw "$trace" 2>"$T/zerr" | wc -c)
    left=$(find "$T" -name '*partial*')
    trailer=$(tail -c 8 "$trace" 2>/dev/null)
    if [ -z "$written" ] || [ "$written" -lt 3601 ]; then
        fail exact_to_file "num_of_events_written_to_trace_buf '$written'"
    elif [ "$events" != "$written" ] || [ "$output" != "$written" ]; then
        fail exact_to_file "events $events, written to buf $written, to file $output"
    elif [ "$bytes" != $((16 * written)) ]; then
        fail exact_to_file "gmbeoo_dump --raw gives $bytes bytes, want 16 x $written = $((16 * written)) $(cat "$T/zerr")"
    elif [ -n "$left" ] || [ "$trailer" != GMBEOEND ]; then
        fail exact_to_file "temporary left: '$left', trailer '$trailer'"
    else
        pass exact_to_file
        ok=1
    fi
fi
if [ $ok != 1 ]; then
    for t in dump_summary dump_csv din_known_values python_reader heatmap; do
        skip $t "no trace file (exact_to_file failed)"
    done
else
    buf=$(sed -n '/^workload info:/{n;p;q}' "$MT_OUT" | awk '{print $1}')

    # ---- dump_summary ----
    "$DUMP" --summary "$trace" > "$T/sum" 2>&1
    if grep -qx "records: $written" "$T/sum" && grep -qx 'record_format: gmbeoo16' "$T/sum" &&
       grep -qx 'log_of_GMBE_block_len: 0' "$T/sum" && grep -qx 'source: trace file' "$T/sum" &&
       grep -qx "workload: $WL/gmbeoo_exact_workload" "$T/sum" && ! grep -q trailing "$T/sum"; then
        pass dump_summary
    else
        fail dump_summary "$(tr '\n' ' ' < "$T/sum")"
    fi

    # ---- dump_csv ----
    "$DUMP" --csv "$trace" > "$T/csv" 2>"$T/err"
    head=$(head -1 "$T/csv")
    lines=$(($(wc -l < "$T/csv") - 1))
    if [ "$head" = vaddr,size,sign_extend,store,cpl,vcpu ] && [ "$lines" = "$written" ] && [ ! -s "$T/err" ]; then
        pass dump_csv
    else
        fail dump_csv "header '$head', $lines lines for $written records $(cat "$T/err")"
    fi

    # ---- din_known_values ----
    # The accesses gmbeoo_exact_workload makes to its buffer (see its source
    # and gmbeoo_exact.sh), as DineroIV labels (0 read, 1 write) per offset.
    want=$(cat <<'EOF'
0 +0: 1000
0 +16: 300
0 +18: 150
0 +24: 110
0 +26: 120
0 +28: 130
0 +32: 90
0 +64: 60
0 +72: 60
0 +128: 40
0 +136: 60
0 +144: 20
0 +160: 10
0 +576: 1
0 +584: 1
0 +592: 1
0 +600: 1
0 +4092: 5
1 +8: 700
1 +17: 200
1 +20: 250
1 +40: 80
1 +96: 50
1 +104: 50
1 +128: 40
1 +136: 30
1 +144: 20
1 +168: 10
1 +512: 1
1 +520: 1
1 +528: 1
1 +536: 1
1 +544: 1
1 +552: 1
1 +560: 1
1 +568: 1
1 +640: 1
1 +648: 1
1 +656: 1
1 +664: 1
EOF
)
    "$DUMP" --din "$trace" > "$T/din"
    got=$(/usr/bin/python3 - "$T/din" "$buf" <<'EOF'
import sys, collections
base = int(sys.argv[2], 16)
c = collections.Counter()
n = 0
for line in open(sys.argv[1]):
    label, addr = line.split()
    n += 1
    a = int(addr, 16)           # DineroIV: hex without 0x
    if base <= a < base + 16384:
        c[(int(label), a - base)] += 1
for (l, off), k in sorted(c.items()):
    print("%d +%d: %d" % (l, off, k))
print("lines: %d" % n)
EOF
)
    if [ "$got" = "$want
lines: $written" ]; then
        pass din_known_values
    else
        fail din_known_values "(- want, + got): $(diff <(echo "$want"; echo "lines: $written") <(echo "$got") | grep '^[<>]' | tr '\n' ';')"
    fi

    # ---- python_reader ----
    if /usr/bin/python3 -c 'import numpy, zstandard' 2>/dev/null; then
        res=$(PYTHONPATH=$top/tools/python /usr/bin/python3 - "$trace" "$T/csv" <<'EOF'
import sys
import numpy as np
import gmbeoo
a = gmbeoo.read(sys.argv[1])
rows = open(sys.argv[2]).read().split('\n')[1:-1]
cols = ['vaddr', 'size', 'sign_extend', 'store', 'cpl', 'vcpu']
ref = np.array([[int(x, 0) for x in r.split(',')] for r in rows], dtype=np.uint64)
n = sum(len(c) for c in gmbeoo.iter_chunks(sys.argv[1]))
same = len(a) == len(ref) and all((a[c].astype(np.uint64) == ref[:, i]).all() for i, c in enumerate(cols))
print("ok" if same and n == len(a) and gmbeoo.header(sys.argv[1])['record_format'] == 'gmbeoo16'
      else "records %d, csv %d, chunks %d" % (len(a), len(ref), n))
EOF
)
        [ "$res" = ok ] && pass python_reader || fail python_reader "$res"
    else
        skip python_reader "/usr/bin/python3 lacks numpy or zstandard"
    fi

    # ---- heatmap ----
    "$HEAT" "$trace" -o "$T/heat.png" --width 900 --height 600 2>"$T/err"; rc=$?
    ihdr=$(od -An -tx1 -j12 -N12 "$T/heat.png" 2>/dev/null | tr -d ' \n')
    # IHDR, width 900 (0x384), height 600 (0x258)
    if [ $rc = 0 ] && [ "$ihdr" = 494844520000038400000258 ]; then
        pass heatmap
    else
        fail heatmap "status $rc, IHDR '$ihdr' $(cat "$T/err")"
    fi
fi

# ---- codec_* ----
for codec in zstd lz4 lz4-delta; do
    name=codec_${codec//-/_}
    tool=${codec%-delta}
    if ! command -v "$tool" >/dev/null; then
        skip $name "no $tool command (Debian package $tool)"
        continue
    fi
    ct=$T/exact.$codec
    mt_run --workload_path_on_host "$WL/gmbeoo_exact_workload" $NOCOMM \
        --trace_file_path "$ct" --trace_file_codec "$codec" --print_trace_info
    mt_ok $name || continue
    written=$(mt_value num_of_events_written_to_trace_buf)
    "$DUMP" --raw "$ct" > "$T/raw" 2>"$T/err"
    rawbytes=$(wc -c < "$T/raw")
    plain=same
    if [ "$codec" = "$tool" ] && ! "$tool" -dc "$ct" 2>>"$T/err" | cmp -s - "$T/raw"; then
        plain="$tool -dc differs from gmbeoo_dump --raw"
    fi
    py=ok
    if /usr/bin/python3 -c 'import numpy, zstandard, lz4' 2>/dev/null; then
        py=$(PYTHONPATH=$top/tools/python /usr/bin/python3 -c '
import sys, gmbeoo
h, a = gmbeoo.header(sys.argv[1]), gmbeoo.read(sys.argv[1])
print("ok" if h["codec"] == sys.argv[2] and len(a) == int(sys.argv[3]) else "codec %s, %d records" % (h["codec"], len(a)))
' "$ct" "$codec" "$written" 2>&1)
    fi
    if [ "$rawbytes" != $((16 * written)) ]; then
        fail $name "gmbeoo_dump --raw gives $rawbytes bytes, want 16 x $written $(cat "$T/err")"
    elif [ "$plain" != same ]; then
        fail $name "$plain"
    elif [ "$py" != ok ]; then
        fail $name "python reader: $py"
    else
        pass $name
    fi
done

# ---- full_disk ----
mnt=$T/small
mkdir -p "$mnt"
trap 'mountpoint -q "$mnt" && umount -l "$mnt"; mt_cleanup' EXIT
if ! mount -t tmpfs -o size=4k,mode=0755 tmpfs "$mnt" 2>"$T/merr"; then
    skip full_disk "cannot mount a small tmpfs here ($(head -1 "$T/merr"))"
else
    mt_run --workload_path_on_host "$WL/gmbeoo_long_workload" $NOCOMM \
        --trace_file_path "$mnt/t.zst" --print_trace_info
    err=$(cat "$MT_ERR")
    files=$(ls -A "$mnt")
    if [ "$MT_RC" != 1 ]; then
        fail full_disk "exit status $MT_RC, want 1: $err"
    elif [ "$(printf '%s\n' "$err" | grep -c .)" != 1 ] ||
         [[ "$err" != *"$mnt/t.zst: No space left on device"* ]]; then
        fail full_disk "stderr is not one line naming the file and ENOSPC: $err"
    elif [ -n "$files" ]; then
        fail full_disk "left in the file system: $files"
    elif [ -n "$MT_LEAK" ]; then
        fail full_disk "$MT_LEAK"
    else
        pass full_disk
    fi
    umount "$mnt" || umount -l "$mnt"
fi
