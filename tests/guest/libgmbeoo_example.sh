#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The README's libgmbeoo example, exactly as the README shows it (the C
# block after the "the example:" comment), built against an installed
# prefix and run as an analysis tool:
#   libgmbeoo_install        `make install PREFIX=$tmp` installs the library,
#                            its headers, gmbeoo.pc and libgmbeoo.3
#   libgmbeoo_exports        the shared library exports exactly the symbols
#                            of lib/gmbeoo/libgmbeoo.map, at GMBEOO_1.0, and
#                            its soname is libgmbeoo.so.1
#   libgmbeoo_example_builds `cc example.c $(pkg-config --cflags --libs gmbeoo)`
#                            (and again with -Wall -Wextra -Werror -pedantic,
#                            and statically)
#   libgmbeoo_example_run    memory_tracer runs it on the toy workload: the
#                            array's 50,000 loads and 50,000 stores (and a
#                            repeat per first touch of a page), and as many
#                            accesses in all as QEMU wrote
set -uo pipefail
source "$(dirname "$0")/mt_lib.bash"

prefix=$MT_TEST_TMP/prefix
src=$MT_TEST_TMP/example.c
awk '/<!-- the example:/ { want = 1; next }
     want && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$top/README.md" > "$src"
if [ ! -s "$src" ] || ! grep -q gmbeoo_tool_start "$src"; then
    fail libgmbeoo_example_builds "no example found in README.md"
    exit 0
fi

if ! env -u MAKEFLAGS -u MAKELEVEL make -s -C "$top" install PREFIX="$prefix" > "$MT_TEST_TMP/install.log" 2>&1; then
    fail libgmbeoo_install "make install failed: $(tail -c 400 "$MT_TEST_TMP/install.log")"
    exit 0
fi
missing=
for f in include/gmbeoo/gmbeoo.h include/gmbeoo/record.h lib/libgmbeoo.so.1 \
         lib/libgmbeoo.so lib/libgmbeoo.a lib/pkgconfig/gmbeoo.pc \
         share/man/man3/libgmbeoo.3 share/man/man3/gmbeoo_tool_start.3; do
    [ -e "$prefix/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass libgmbeoo_install || fail libgmbeoo_install "missing:$missing"

want=$(sed -n 's/^ *\(gmbeoo_[a-z_]*\);$/\1@@GMBEOO_1.0/p' "$top/lib/gmbeoo/libgmbeoo.map" | sort)
have=$(nm -D --defined-only "$prefix/lib/libgmbeoo.so.1" | awk '$2 == "T" { print $3 }' | sort)
soname=$(readelf -d "$prefix/lib/libgmbeoo.so.1" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
if [ "$want" = "$have" ] && [ "$soname" = libgmbeoo.so.1 ] && [ -n "$want" ]; then
    pass libgmbeoo_exports
else
    fail libgmbeoo_exports "soname '$soname'; exported: $(echo $have); the map: $(echo $want)"
fi

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cd "$MT_TEST_TMP" || exit 1
# shellcheck disable=SC2046  # pkg-config's words are meant to split
if cc example.c $(pkg-config --cflags --libs gmbeoo) -o example 2> build.err &&
   cc -std=c11 -Wall -Wextra -Werror -pedantic example.c \
       $(pkg-config --cflags --libs gmbeoo) -o example_strict 2>> build.err &&
   cc example.c $(pkg-config --cflags gmbeoo) "$prefix/lib/libgmbeoo.a" \
       $(pkg-config --libs --static gmbeoo | sed 's/ -lgmbeoo / /') \
       -o example_static 2>> build.err &&
   [[ $(LD_LIBRARY_PATH=$prefix/lib ldd ./example) == *"libgmbeoo.so.1 => $prefix/lib/"* ]] &&
   [[ $(ldd ./example_static) != *libgmbeoo* ]]; then
    pass libgmbeoo_example_builds
else
    fail libgmbeoo_example_builds "$(head -c 600 build.err)"
fi

if ! mt_have_gmbeoo; then
    skip libgmbeoo_example_run "the embedded guest or the GMBEOO QEMU is not built"
    exit 0
fi
LD_LIBRARY_PATH=$prefix/lib mt_run \
    --workload_path_on_host "$WL/simple_user_memory_intensive_workload" \
    --dont_add_communications_with_host_to_workload \
    --analysis_tool_path "$MT_TEST_TMP/example" --print_trace_info
if mt_ok libgmbeoo_example_run; then
    written=$(mt_value num_of_events_written_to_trace_buf)
    total=$(awk '/^cpl[0-3] loads [0-9]+ stores [0-9]+$/ { n += $3 + $5 } END { print n + 0 }' "$MT_OUT")
    # 5 passes of a load and a store per element of the 10,000 ints, plus
    # at most one of each per page of the array: a first touch faults and
    # the access is recorded again when the instruction is restarted.
    addr=$(awk '/^workload info:$/ { getline; print; exit }' "$MT_OUT")
    pages=$(( ((addr + 39999) >> 12) - (addr >> 12) + 1 ))
    read -r bl bs < <(sed -n 's/^buffer loads \([0-9]*\) stores \([0-9]*\)$/\1 \2/p' "$MT_OUT")
    if [ -n "${bl:-}" ] && [ "$bl" -ge 50000 ] && [ "$bl" -le $((50000 + pages)) ] &&
       [ "$bs" -ge 50000 ] && [ "$bs" -le $((50000 + pages)) ] &&
       grep -q '^cpl3 loads [1-9][0-9]* stores [1-9][0-9]*$' "$MT_OUT" &&
       [ -n "$written" ] && [ "$total" = "$written" ]; then
        pass libgmbeoo_example_run
    else
        fail libgmbeoo_example_run "accesses $total, written '$written': $(grep -E '^(cpl|buffer)' "$MT_OUT" | tr '\n' ' ')"
    fi
fi
