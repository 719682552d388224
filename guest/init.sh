#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the embedded memory_tracer guest (busybox ash, PID 1).
# Console (and this script's output) is ttyS1; ttyS0 belongs to
# run_executables_from_serial alone.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The initramfs has no /dev/console node, so the kernel could not give us
# stdio: take the console now that devtmpfs is there.
exec </dev/console >/dev/console 2>&1
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
hostname memory-tracer-guest
ifconfig lo 127.0.0.1 up 2>/dev/null

# The protocol channel: a virtio console (/dev/hvc0) when the machine has
# one (it moves bytes hundreds of times faster than the emulated 16550),
# else /dev/ttyS0.  guest.conf's channel key tells restores which it was.
while read -r m; do
    insmod "/lib/modules/$m" || echo "memory_tracer guest: insmod $m failed"
done < /lib/modules/load-order
channel=/dev/ttyS0
if [ -d /sys/bus/virtio/drivers/virtio_console ] && grep -q 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then
    n=0
    while [ ! -c /dev/hvc0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    [ -c /dev/hvc0 ] && channel=/dev/hvc0
fi
echo "memory_tracer guest: protocol channel $channel"

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

cd /root
# PID 1 must never exit; the helper only returns on a broken tty.
while :; do
    /bin/run_executables_from_serial "$channel"
    echo "run_executables_from_serial exited with status $?; restarting"
    sleep 1
done
