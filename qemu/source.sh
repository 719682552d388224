#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch Debian's pinned QEMU 7.2 source package, verify it, unpack it with
# Debian's own patches applied (dpkg-source does that for a 3.0 (quilt)
# package), and keep a pristine copy of that tree.  Our series is applied by
# qemu/apply-patches.sh so that touching one patch only rewrites the files
# that patch changes.
#
# usage: qemu/source.sh BUILD_DIR
#
# Downloads are cached in ${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-~/.cache}/memory_tracer}
# so that repeated builds (and CI runs on the same machine) do not refetch.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu/pin.sh
. "$here/pin.sh"
# shellcheck source=scripts/debian.sh
. "$here/../scripts/debian.sh"

build=${1:?usage: source.sh BUILD_DIR}
mkdir -p "$build"
build=$(cd "$build" && pwd)
cache=${MEMORY_TRACER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memory_tracer}
pkgcache="$cache/qemu-$QEMU_DEB_VERSION_FILE"
mkdir -p "$pkgcache"

have_all() {
    local f
    for f in "$QEMU_DSC" "$QEMU_ORIG" "$QEMU_DEBIAN"; do
        [ -s "$pkgcache/$f" ] || return 1
    done
}

verify() {
    (cd "$pkgcache" && sha256sum --quiet -c - <<EOF
$QEMU_DSC_SHA256  $QEMU_DSC
$QEMU_ORIG_SHA256  $QEMU_ORIG
$QEMU_DEBIAN_SHA256  $QEMU_DEBIAN
EOF
    )
}

if ! have_all || ! verify 2>/dev/null; then
    echo "qemu: fetching Debian source package qemu=$QEMU_DEB_VERSION into $pkgcache"
    # A private apt configuration: a deb-src list and list directory of our
    # own, so the machine's /etc/apt is never touched.
    apt="$build/apt"
    mkdir -p "$apt/lists/partial" "$apt/archives/partial"
    cat > "$apt/sources.list" <<EOF
deb-src $DEBIAN_MIRROR bookworm main
deb-src $DEBIAN_MIRROR bookworm-updates main
deb-src $DEBIAN_SECURITY_MIRROR bookworm-security main
EOF
    aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list"
             -o "Dir::Etc::SourceParts=/dev/null"
             -o "Dir::State::Lists=$apt/lists"
             -o "Dir::Cache::Archives=$apt/archives")
    apt_quiet "${aptopts[@]}" update
    (cd "$pkgcache" && apt_quiet "${aptopts[@]}" source --download-only \
        "qemu=$QEMU_DEB_VERSION")
    if ! verify; then
        echo "qemu: sha256 mismatch for the downloaded source package" >&2
        exit 1
    fi
fi
echo "qemu: source package verified (sha256)"

pristine="$build/qemu/pristine"
stamp="$build/qemu/pristine.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$QEMU_DEB_VERSION" ]; then
    exit 0
fi
rm -rf "$pristine" "$stamp"
mkdir -p "$build/qemu"
echo "qemu: unpacking and applying debian/patches/series"
# dpkg-source checks the .dsc checksums again and applies debian/patches.
dpkg-source --no-check -x "$pkgcache/$QEMU_DSC" "$pristine" >/dev/null


echo "$QEMU_DEB_VERSION" > "$stamp"
