# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/guest/gmbeoo_exact.sh and tests/guest/debian_userland.sh.
#
# expected_exact: the records gmbeoo_count reports in the buffer of
# tests/workloads/gmbeoo_exact_workload.c (static musl build, or the
# host's gcc build dyn_exact_workload), one line per (offset, kind, size,
# sign, CPL): keep in step with the workload.
expected_exact() {
    cat <<'EOF'
at +0 load size=4 sx=0 cpl=3: 1000
at +8 store size=8 sx=0 cpl=3: 700
at +16 load size=1 sx=0 cpl=3: 300
at +17 store size=1 sx=0 cpl=3: 200
at +18 load size=2 sx=0 cpl=3: 150
at +20 store size=2 sx=0 cpl=3: 250
at +24 load size=1 sx=1 cpl=3: 110
at +26 load size=2 sx=1 cpl=3: 120
at +28 load size=4 sx=1 cpl=3: 130
at +32 load size=8 sx=0 cpl=3: 90
at +40 store size=4 sx=0 cpl=3: 80
at +64 load size=8 sx=0 cpl=3: 60
at +72 load size=8 sx=0 cpl=3: 60
at +96 store size=8 sx=0 cpl=3: 50
at +104 store size=8 sx=0 cpl=3: 50
at +128 load size=4 sx=0 cpl=3: 40
at +128 store size=4 sx=0 cpl=3: 40
at +136 load size=8 sx=0 cpl=3: 60
at +136 store size=8 sx=0 cpl=3: 30
at +144 load size=4 sx=0 cpl=3: 20
at +144 store size=4 sx=0 cpl=3: 20
at +160 load size=8 sx=0 cpl=3: 10
at +168 store size=8 sx=0 cpl=3: 10
EOF
    local o
    for o in 512 520 528 536 544 552 560 568; do echo "at +$o store size=8 sx=0 cpl=3: 1"; done
    for o in 576 584 592 600; do echo "at +$o load size=8 sx=0 cpl=3: 1"; done
    for o in 640 648 656 664; do echo "at +$o store size=8 sx=0 cpl=3: 1"; done
    echo "at +4092 load size=8 sx=0 cpl=3: 5"
}
