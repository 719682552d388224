#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run a real program nobody here wrote (a busybox applet) as a traced
# workload.  Generates its input outside the traced region, prints the
# workload markers itself (use --dont_add_communications_with_host_to_workload),
# runs the applet over the input, prints Stop tracing.  The same busybox
# (Debian's busybox-static) is on the host and in the guest, so native and
# emulated runs execute the same binary.
#
# usage: busybox_tool.sh APPLET [LINES]
#   APPLET: gzip | sort | md5sum
#   LINES:  input size in lines of ~40 bytes
# The build (bench/bench.mk) makes one copy per applet with @APPLET@ and
# @LINES@ filled in, because the CLI passes no arguments to a workload.
applet=${1:-@APPLET@}
lines=${2:-@LINES@}
dir=${TMPDIR:-/tmp}
in="$dir/bench_input.$$"
bb=busybox

# Pseudo-random but reproducible text: numbers to sort, repeated words to
# compress.
$bb awk -v n="$lines" 'BEGIN {
    srand(7)
    for (i = 0; i < n; i++)
        printf "%010d %s %s %d\n", int(rand() * 2147483647),
               (rand() < 0.5 ? "alpha" : "omega"), "memory_tracer", i
}' > "$in" || exit 1

case $applet in
gzip)   cmd="$bb gzip -c -9" ;;
sort)   cmd="$bb sort" ;;
md5sum) cmd="$bb md5sum" ;;
*)      echo "busybox_tool.sh: unknown applet $applet" >&2; rm -f "$in"; exit 1 ;;
esac

echo "-----begin workload info-----"
echo "$applet $lines"
echo "-----end workload info-----"
echo "Ready to trace. Press enter to continue"
# One byte releases us, whatever it is (the CLI sends a single Enter byte;
# `read` would wait for a newline that a raw serial line may not deliver).
$bb dd bs=1 count=1 of=/dev/null 2>/dev/null
$cmd < "$in" > /dev/null
echo "Stop tracing"
rm -f "$in"
