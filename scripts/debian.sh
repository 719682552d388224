# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Quiet apt for the build scripts (sourced): apt-get's progress lines,
# "Get:/Hit:" lists and dpkg's unpacking chatter go to a log that is shown
# only when apt fails; its warnings and errors are always shown.
#
#   apt_quiet ARGS...            apt-get -q ARGS, quietly
#   deb_fetch WHO PACKAGE CACHE_DIR
#                                the newest PACKAGE_*.deb in CACHE_DIR,
#                                downloaded (candidate version) if none is
#                                there, saying so as "WHO: downloading ...";
#                                prints its path

apt_quiet() {
    local log rc=0
    log=$(mktemp "${TMPDIR:-/tmp}/mt-apt.XXXXXX")
    # As root, download as root: apt's _apt sandbox user cannot write into
    # a cache under /root ("Download is performed unsandboxed ...").
    local sandbox=()
    [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
    DEBIAN_FRONTEND=noninteractive apt-get -q "${sandbox[@]}" "$@" \
        >"$log" 2>&1 </dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "apt-get $*: failed (exit status $rc):" >&2
        tail -n 40 "$log" >&2
    else
        grep -E '^(W|E|Err):' "$log" >&2 || true
    fi
    rm -f "$log"
    return "$rc"
}

deb_candidate() {
    apt-cache policy "$1" 2>/dev/null | sed -n 's/^  Candidate: //p'
}

deb_fetch() {
    local who=$1 p=$2 cache=$3 ver deb
    deb=$(ls "$cache/${p}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
    if [ -z "$deb" ]; then
        ver=$(deb_candidate "$p")
        if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
            apt_quiet update >&2 || return 1
            ver=$(deb_candidate "$p")
        fi
        echo "$who: downloading $p=$ver" >&2
        (cd "$cache" && apt_quiet download "$p=$ver") >&2 || return 1
        deb=$(ls "$cache/${p}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
        [ -n "$deb" ] || { echo "$who: no $p .deb in $cache after the download" >&2; return 1; }
    fi
    echo "$deb"
}
