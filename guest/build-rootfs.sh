#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make the embedded guest's root file system: a Debian 12 (bookworm)
# userland made with mmdebstrap from Debian's archive, packed into a
# read-only squashfs (lz4).  The guest mounts it from a read-only virtio-blk
# disk under a tmpfs overlay (guest/init.sh), so every run starts from the
# same files and any number of runs share the one image.
#
# usage: guest/build-rootfs.sh OUT.squashfs PACKAGE...
#   writes OUT.squashfs and OUT.squashfs.manifest (package versions)
#
# The .debs are cached in $cache/debs/rootfs (mmdebstrap's sync-in/sync-out
# hooks copy them into the chroot's /var/cache/apt/archives and back), the
# archive's package lists in $cache/apt-lists, so a second build downloads
# no package and only checks that the lists are current.  The mirror is
# GUEST_DEBIAN_MIRROR (default http://deb.debian.org/debian, plus its
# -security twin), suites bookworm, bookworm-updates, bookworm-security.
set -euo pipefail

out=${1:?usage: build-rootfs.sh OUT.squashfs PACKAGE...}
shift
[ $# -gt 0 ] || { echo "usage: build-rootfs.sh OUT.squashfs PACKAGE..." >&2; exit 1; }
cache=${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}
debs=$cache/debs/rootfs
lists=$cache/apt-lists
mirror=${GUEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# A directory tree with the right owners (root, _apt, ...) needs root:
# mmdebstrap's unshare mode would leave sub-uid owners in the directory.
if [ "$(id -u)" != 0 ]; then
    echo "guest: building the guest's root file system (mmdebstrap --mode=root) needs root; run as root:" >&2
    echo "  make -C $(cd "$(dirname "$0")/.." && pwd) guest" >&2
    exit 1
fi
for tool in mmdebstrap mksquashfs; do
    command -v "$tool" >/dev/null ||
        { echo "guest: $tool is missing (make deps installs mmdebstrap and squashfs-tools)" >&2; exit 1; }
done

mkdir -p "$debs" "$lists" "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/rootfs.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

include=$(printf '%s\n' "$@" | LC_ALL=C sort -u | paste -sd, -)
sec=${mirror%/debian}/debian-security
[ "$sec" != "$mirror" ] || sec=http://deb.debian.org/debian-security
echo "guest: mmdebstrap bookworm (minbase + $include)"
t0=$(date +%s.%N)
# Hooks: the cached lists and .debs in before apt runs, the downloaded ones
# out before mmdebstrap cleans up.  force-unsafe-io: no fsync per file (the
# tree is packed and thrown away).  Documentation, man pages and
# translations are deleted afterwards (keeping the copyright files) rather
# than left out with dpkg's path-exclude, which makes mmdebstrap filter
# every package through its Python tar filter (minutes here).
if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --variant=minbase --mode=root \
    --dpkgopt=force-unsafe-io --aptopt='Dpkg::Use-Pty "0"' \
    --include="$include" \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives "$1"/var/lib/apt/lists' \
    --setup-hook="sync-in $debs /var/cache/apt/archives/" \
    --setup-hook="sync-in $lists /var/lib/apt/lists/" \
    --customize-hook="sync-out /var/cache/apt/archives $debs" \
    --customize-hook="sync-out /var/lib/apt/lists $lists" \
    bookworm "$root" \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb $sec bookworm-security main" >"$tmp/mmdebstrap.log" 2>&1; then
    echo "guest: mmdebstrap failed:" >&2
    tail -n 40 "$tmp/mmdebstrap.log" >&2
    exit 1
fi
[ -z "${GUEST_ROOTFS_LOG:-}" ] || cp "$tmp/mmdebstrap.log" "$GUEST_ROOTFS_LOG"
t1=$(date +%s.%N)
rm -rf "$debs/partial" "$debs/lock" "$lists/partial" "$lists/lock"

find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{man,info,locale}/* "$root"/var/log/*.log \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' > "$tmp/manifest"
echo memory-tracer-guest > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmemory-tracer-guest\n' > "$root/etc/hosts"
# Written by the guest at boot (overlay upper, tmpfs); empty in the image.
rm -f "$root/etc/machine-id"
: > "$root/etc/machine-id"

# lz4: 0.9 s for this tree where gzip takes 27 s (the image is 70 MB
# instead of 49 MB; decompression in the guest is cheaper too).
mksquashfs "$root" "$tmp/root.squashfs" -comp lz4 -noappend -quiet \
    -no-progress >/dev/null
t2=$(date +%s.%N)
install -m 0644 "$tmp/manifest" "$out.manifest"
install -m 0644 "$tmp/root.squashfs" "$out.tmp" && mv "$out.tmp" "$out"
echo "$t0 $t1 $t2" | awk -v out="$out" -v n="$(wc -l < "$tmp/manifest")" \
    -v size="$(stat -c %s "$out")" '{ printf "guest: root file system %s: %d packages, %d bytes (mmdebstrap %.0f s, mksquashfs %.1f s)\n", out, n, size, $2 - $1, $3 - $2 }'
