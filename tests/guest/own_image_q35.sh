#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A user's own image saved the way a modern cloud image runs (issue 19
# item 6): machine q35, the disk on virtio-blk-pci, a virtio-net-pci NIC.
# Made here from the embedded guest's kernel, initramfs and root file
# system by the image builder (build/obj/guest/make_snapshot with
# --machine pc-q35-7.2 --drive-if virtio --nic virtio-net-pci), then given
# to memory_tracer as IMAGE SNAPSHOT QEMU with its guest.conf beside it.
#
#  q35_snapshot      the builder boots it and saves the snapshot.
#  q35_restore_exact restored through the positional arguments: the
#                    machine, disk and NIC on QEMU's command line, and the
#                    host-compiled exact workload's records exactly right.
#
# group: guest.  Runtime: about 1 min idle (one boot, one run).
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"
source "$(dirname "$0")/exact_expected.bash"

COUNT=$top/build/tests/gmbeoo/gmbeoo_count
SNAP=$top/build/obj/guest/make_snapshot
G=$top/build/guest
if ! mt_have_gmbeoo || [ ! -x "$SNAP" ] || [ ! -f "$G/rootfs.squashfs" ]; then
    skip own_image_q35 "the patched QEMU, the image builder or the Debian guest is not built"
    exit 0
fi
mt_require_built own_image_q35 "$COUNT" "$WL/dyn_exact_workload" || exit 0

img=$MT_TEST_TMP/q35
if "$SNAP" --qemu "$QEMU_BIN" --qemu-img "$BIN/qemu-img" \
        --firmware "$top/build/share/qemu" --kernel "$G/vmlinuz" \
        --initrd "$G/initrd.img" --rootfs "$G/rootfs.squashfs" \
        --machine pc-q35-7.2 --drive-if virtio --nic virtio-net-pci \
        --out-dir "$img" > "$MT_TEST_TMP/snap.log" 2>&1 &&
   grep -qx 'machine=pc-q35-7.2' "$img/guest.conf" &&
   grep -qx 'drive_if=virtio' "$img/guest.conf" &&
   grep -qx 'nic=virtio-net-pci' "$img/guest.conf"; then
    pass q35_snapshot
else
    fail q35_snapshot "$(tail -c 600 "$MT_TEST_TMP/snap.log" | tr '\n' ' ') conf: $(tr '\n' ' ' < "$img/guest.conf" 2>/dev/null)"
    exit 0
fi

mt_run --workload_path_on_host "$WL/dyn_exact_workload" \
    --dont_add_communications_with_host_to_workload \
    --analysis_tool_path "$COUNT" --print_trace_info --verbose \
    "$img/guest.qcow2" ready_for_memory_tracer "$BIN"
if mt_ok q35_restore_exact; then
    got=$(grep '^at ' "$MT_OUT") want=$(expected_exact)
    if ! grep -q -- '-machine pc-q35-7.2' "$MT_ERR" ||
       ! grep -q 'virtio-blk-pci,drive=mtdisk' "$MT_ERR" ||
       ! grep -q 'virtio-net-pci,id=mtnic' "$MT_ERR"; then
        fail q35_restore_exact "QEMU's command line (--verbose) lacks the q35 machine, the virtio disk or the NIC: $(grep -m1 -- '-machine' "$MT_ERR" | cut -c1-300)"
    elif [ "$got" != "$want" ] || [ "$(mt_value in_range)" != 3601 ]; then
        fail q35_restore_exact "records in the range differ (- want, + got): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ';')"
    else
        pass q35_restore_exact
    fi
fi
exit 0
