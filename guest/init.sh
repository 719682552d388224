#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the embedded memory_tracer guest, in two stages.
#
# Stage 1 (PID 1 in the initramfs, static busybox ash): mount the Debian
# root file system -- a squashfs on the read-only virtio-blk disk whose
# serial is "mtrootfs" -- under an overlay whose upper layer is a tmpfs,
# copy the helper and this script into it, let boot settle, switch_root.
# Without that disk (an older guest.conf) it stays in the initramfs.
#
# Stage 2 (PID 1 in the Debian root, dash; run as
# "/sbin/memory_tracer-init stage2 CHANNEL"): run the helper in a loop.
#
# Console (and this script's output) is ttyS1; the protocol channel
# (/dev/hvc0, or ttyS0) belongs to run_executables_from_serial alone.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb

# Run the helper on $channel from /root, for ever: PID 1 must never exit,
# and the helper only returns on a broken tty.
serve() {
    cd /root
    while :; do
        /bin/run_executables_from_serial "$channel"
        echo "run_executables_from_serial exited with status $?; restarting"
        sleep 1
    done
}

if [ "${1:-}" = stage2 ]; then
    channel=$2
    echo "memory_tracer guest: running from the Debian root ($(cat /etc/debian_version))"
    # Into the page cache before the snapshot (a few MB of vmstate): the
    # loader, the C and C++ libraries and the shell every workload starts
    # with, so a run does not read and decompress them from the squashfs.
    lib=/usr/lib/x86_64-linux-gnu
    cat /usr/lib64/ld-linux-x86-64.so.2 $lib/libc.so.6 $lib/libm.so.6 \
        $lib/libstdc++.so.6 $lib/libgcc_s.so.1 /usr/bin/dash /usr/bin/date \
        > /dev/null 2>&1
    /usr/bin/date > /dev/null
    serve
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The initramfs has no /dev/console node, so the kernel could not give us
# stdio: take the console now that devtmpfs is there.
exec </dev/console >/dev/console 2>&1
hostname memory-tracer-guest
ifconfig lo 127.0.0.1 up 2>/dev/null

# The virtio drivers, the virtio-blk disk, squashfs and overlayfs (modules
# of the Debian kernel; lz4 decompression is built in).
while read -r m; do
    insmod "/lib/modules/$m" || echo "memory_tracer guest: insmod $m failed"
done < /lib/modules/load-order

# The protocol channel: a virtio console (/dev/hvc0) when the machine has
# one (it moves bytes hundreds of times faster than the emulated 16550),
# else /dev/ttyS0.  guest.conf's channel key tells restores which it was.
channel=/dev/ttyS0
if [ -d /sys/bus/virtio/drivers/virtio_console ] && grep -q 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then
    n=0
    while [ ! -c /dev/hvc0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    [ -c /dev/hvc0 ] && channel=/dev/hvc0
fi
echo "memory_tracer guest: protocol channel $channel"

# The root disk: the virtio-blk disk with serial "mtrootfs" (guest.conf's
# rootfs key), if the machine has a virtio-blk device at all.
rootdev=
if grep -q 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
    n=0
    while [ -z "$rootdev" ] && [ $n -lt 50 ]; do
        for d in /sys/block/vd*; do
            [ "$(cat "$d/serial" 2>/dev/null)" = mtrootfs ] && rootdev=/dev/${d##*/}
        done
        [ -n "$rootdev" ] || { sleep 0.1; n=$((n + 1)); }
    done
fi
newroot=
if [ -n "$rootdev" ]; then
    mkdir -p /run/ro /run/rw /newroot
    # The overlay's upper layer: everything a run writes, gone with the run.
    if mount -t squashfs -o ro "$rootdev" /run/ro &&
       mount -t tmpfs -o mode=0755 tmpfs /run/rw &&
       mkdir -p /run/rw/upper /run/rw/work &&
       mount -t overlay overlay \
           -o lowerdir=/run/ro,upperdir=/run/rw/upper,workdir=/run/rw/work /newroot; then
        newroot=/newroot
    else
        echo "memory_tracer guest: cannot mount the root file system on $rootdev; staying in the initramfs"
    fi
else
    echo "memory_tracer guest: no root disk (serial mtrootfs); staying in the initramfs"
fi

if [ -n "$newroot" ]; then
    # The helper and stage 2 live in the initramfs, so the image depends
    # only on the package set.
    cp /bin/run_executables_from_serial "$newroot/bin/run_executables_from_serial"
    cp /init "$newroot/sbin/memory_tracer-init"
    for d in proc sys dev; do
        mkdir -p "$newroot/$d"
        mount -o move "/$d" "$newroot/$d"
    done
    mount -t tmpfs -o mode=1777 tmpfs "$newroot/tmp"
    mkdir -p "$newroot/dev/pts" "$newroot/dev/shm"
    mount -t devpts devpts "$newroot/dev/pts"
    mount -t tmpfs -o mode=1777 tmpfs "$newroot/dev/shm"
    mount -t tmpfs -o mode=0755 tmpfs "$newroot/run"
    : > "$newroot/etc/machine-id"
else
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mkdir -p /dev/pts /dev/shm
    mount -t devpts devpts /dev/pts
    mount -t tmpfs tmpfs /dev/shm
fi

# Let boot settle before the helper announces itself (the snapshot is taken
# right after), so deferred boot work is not in every traced run.  There is
# no event for "boot is over": wait until the kernel log has not grown for
# two consecutive half-second looks, at most 30 s.
quiet=0 last=-1 n=0
while [ $quiet -lt 2 ] && [ $n -lt 60 ]; do
    size=$(dmesg | wc -c)
    if [ "$size" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    last=$size n=$((n + 1))
    sleep 0.5
done
echo "memory_tracer guest: boot settled after $n looks at the kernel log"

if [ -n "$newroot" ]; then
    exec switch_root "$newroot" /sbin/memory_tracer-init stage2 "$channel"
fi
serve
