#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The dfsg source tarball has no firmware.  Take the BIOS and the option
# ROMs the pc machine loads from Debian's binary packages into
# BUILD/share/qemu, which QEMU is always pointed at with -L.
#
# usage: qemu/firmware.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/debian.sh
. "$here/../scripts/debian.sh"
build=$(cd "${1:?usage: firmware.sh BUILD_DIR}" && pwd)
cache=${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}/debs
dest="$build/share/qemu"
mkdir -p "$cache" "$dest"

packages=(seabios qemu-system-data ipxe-qemu)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${packages[@]}"; do
    deb=$(deb_fetch firmware "$p" "$cache")
    dpkg-deb -x "$deb" "$tmp/root"
done
# seabios ships the BIOS and VGA BIOSes; qemu-system-data the option ROMs
# (linuxboot_dma.bin for -kernel, kvmvapic.bin) and links to seabios' files.
for f in bios-256k.bin bios.bin vgabios-stdvga.bin vgabios.bin; do
    [ -e "$tmp/root/usr/share/seabios/$f" ] && cp -L "$tmp/root/usr/share/seabios/$f" "$dest/"
done
for f in linuxboot_dma.bin linuxboot.bin kvmvapic.bin multiboot.bin multiboot_dma.bin; do
    [ -e "$tmp/root/usr/share/qemu/$f" ] && cp -L "$tmp/root/usr/share/qemu/$f" "$dest/"
done
# ipxe-qemu: the NIC option ROMs the default pc machine loads (its e1000),
# which images brought by users (started the original's way) need.
for f in "$tmp"/root/usr/lib/ipxe/qemu/efi-*.rom "$tmp"/root/usr/lib/ipxe/qemu/pxe-*.rom; do
    [ -e "$f" ] && cp -L "$f" "$dest/"
done
test -s "$dest/bios-256k.bin"
test -s "$dest/efi-e1000.rom"
test -s "$dest/linuxboot_dma.bin"
echo "firmware: $(ls "$dest" | wc -l) files in $dest"
