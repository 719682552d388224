#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make the embedded guest's kernel and initramfs from Debian packages:
# the kernel linux-image-amd64 depends on (extracted, not installed),
# busybox-static with its applet links, the helper and /init.  /init mounts
# the Debian root file system (guest/build-rootfs.sh) from a read-only
# virtio-blk disk, so the initramfs also holds the virtio-blk, squashfs and
# overlayfs modules of the same kernel.
#
# usage: guest/build-initramfs.sh OUT_DIR HELPER INIT_SCRIPT
#   writes OUT_DIR/vmlinuz, OUT_DIR/initrd.img, OUT_DIR/kernel-version
set -euo pipefail

out=${1:?usage: build-initramfs.sh OUT_DIR HELPER INIT_SCRIPT}
helper=${2:?missing HELPER}
init=${3:?missing INIT_SCRIPT}
cache=${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}/debs
mkdir -p "$cache" "$out"

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/debian.sh
. "$here/../scripts/debian.sh"

# The kernel package the linux-image-amd64 metapackage points at.  Offline,
# fall back to the newest one already in the cache.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
if [ -z "$kpkg" ]; then
    apt_quiet update >&2 || true
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
           sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
fi
if [ -z "$kpkg" ]; then
    kdeb=$(ls "$cache"/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$kdeb" ] || { echo "guest: cannot find the Debian kernel package (linux-image-amd64)" >&2; exit 1; }
    kpkg=$(basename "$kdeb"); kpkg=${kpkg%%_*}
fi
kdeb=$(deb_fetch guest "$kpkg" "$cache")
bdeb=$(deb_fetch guest busybox-static "$cache")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Kernel: the image, and the modules of the virtio console (the fast
# protocol channel), the root disk (virtio-blk), its file system (squashfs;
# the lz4 decompressor is built in) and the overlay over it.  The 8250
# UART, devtmpfs and tmpfs are built in.
virtio_modules="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
    drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
    drivers/virtio/virtio_pci.ko drivers/char/virtio_console.ko
    drivers/block/virtio_blk.ko fs/squashfs/squashfs.ko fs/overlayfs/overlay.ko"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' \
    $(for m in $virtio_modules; do echo "./lib/modules/*/kernel/$m"; done)
vmlinuz=$(ls "$tmp"/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}

root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,run}
dpkg-deb --fsys-tarfile "$bdeb" | tar -x -C "$tmp" ./bin/busybox
install -m 0755 "$tmp/bin/busybox" "$root/bin/busybox"
file -L "$root/bin/busybox" | grep -q 'statically linked' ||
    { echo "guest: $bdeb does not hold a static busybox" >&2; exit 1; }
# Applet links, as "busybox --install -s" would make them, but at build time.
# Both are amd64 Linux, so the guest's busybox can list its applets here.
"$root/bin/busybox" --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
# In load order (each after what it uses); /init insmods them.
mkdir -p "$root/lib/modules"
for m in $virtio_modules; do
    install -m 0644 "$tmp/lib/modules/$kver/kernel/$m" "$root/lib/modules/"
    echo "${m##*/}" >> "$root/lib/modules/load-order"
done
install -m 0755 "$helper" "$root/bin/run_executables_from_serial"
install -m 0755 "$init" "$root/init"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"

# Reproducible archive: fixed order, owner and timestamps.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --quiet) | gzip -n -9 > "$tmp/initrd.img"

install -m 0644 "$vmlinuz" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
install -m 0644 "$tmp/initrd.img" "$out/initrd.img.tmp" && mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$kpkg $kver" > "$out/kernel-version"
echo "guest: kernel $kpkg ($kver), initramfs $(stat -c %s "$out/initrd.img") bytes"
