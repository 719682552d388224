# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the sweep tests (tests/guest/sweep_parallel.sh,
# tests/guest/sweep_slurm.sh): one sweep file of four exact-count runs and
# the exact check of their results.
#
# sweep_write FILE   four runs of gmbeoo_exact_workload, each into its own
#                    trace file (no destination given: sweep_task.sh adds
#                    --trace_file_path): all accesses and CPL3 only at full
#                    rate, and two sampled settings
# sweep_ready NAME   prints a SKIP line for NAME and fails unless the guest
#                    and the workload are built and zstd is installed
# sweep_check OUTDIR prints what is wrong with OUTDIR/results.csv and the
#                    four JSON reports (nothing when all is right)

SWEEP_WORKLOAD=$top/build/tests/workloads/gmbeoo_exact_workload

sweep_ready() {
    if ! mt_have_gmbeoo; then
        skip "$1" "the patched QEMU (gmbeoo-enable) or the guest is not built"
        return 1
    fi
    mt_require_built "$1" "$SWEEP_WORKLOAD" "$BIN/gmbeoo_dump"
}

sweep_write() {
    local opts=--dont_add_communications_with_host_to_workload
    {
        echo "# name        workload                B R cpl3 format options"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            full "$SWEEP_WORKLOAD" 0 0 all - "$opts" \
            cpl3 "$SWEEP_WORKLOAD" 0 0 cpl3 - "$opts" \
            sampled_3_4 "$SWEEP_WORKLOAD" 3 4 all - "$opts" \
            sampled_2_1_cpl3 "$SWEEP_WORKLOAD" 2 1 cpl3 - "$opts"
    } > "$1"
}

# Exact expectations: every run exits 0 with nothing lost; its trace file
# gives back (gmbeoo_dump --raw: any codec) exactly 16 x num_of_events_written_to_trace_buf
# bytes; the sampling rule holds for the counters (written == #{i < events :
# (i & mask) == 0}); at full rate the file holds the workload's 3601 buffer
# accesses exactly (gmbeoo_exact.sh lists them); with CPL3 only every
# record is CPL 3 and the event counter counts exactly the records.
sweep_check() {
    /usr/bin/python3 - "$1" "$BIN/gmbeoo_dump" <<'PYEND'
import csv, json, os, struct, subprocess, sys
out, dump = sys.argv[1], sys.argv[2]
bad = []
try:
    rows = {r["name"]: r for r in csv.DictReader(open(os.path.join(out, "results.csv")))}
except OSError as e:
    print("no results.csv: %s" % e)
    sys.exit(0)
want = {"full": (0, 0, False), "cpl3": (0, 0, True),
        "sampled_3_4": (3, 4, False), "sampled_2_1_cpl3": (2, 1, True)}
if sorted(rows) != sorted(want):
    bad.append("runs in results.csv: %s" % sorted(rows))

def kept(e, b, r):
    if r == 0:
        return e
    p, blk = 1 << (b + r), 1 << b
    return (e // p) * blk + min(e % p, blk)

for name, (b, r, cpl3) in want.items():
    row = rows.get(name)
    if row is None:
        continue
    try:
        rep = json.load(open(os.path.join(out, name + ".json")))
    except (OSError, ValueError) as e:
        bad.append("%s: report: %s" % (name, e))
        continue
    info = rep.get("trace_info") or {}
    try:
        data = subprocess.run([dump, "--raw", os.path.join(out, name + ".trace.zst")],
                              check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        bad.append("%s: gmbeoo_dump --raw: %s" % (name, e))
        continue
    addr, length = (int(x, 0) for x in rep["workload_info"].split()[:2])
    in_range = cpl0 = 0
    for w0, va in struct.iter_unpack("<QQ", data[:len(data) // 16 * 16]):
        in_range += addr <= va < addr + length
        cpl0 += (w0 >> 6) & 3 != 3
    n = lambda k: int(row[k]) if row.get(k, "") != "" else None
    e, w, o = (n("num_of_GMBE_events_since_enabling_GMBEOO"),
               n("num_of_events_written_to_trace_buf"),
               n("num_of_events_written_to_trace_file"))
    checks = [
        (row["exit_status"] == "0" and row["memory_tracer_error"] == "", "exit %s, error '%s'" % (row["exit_status"], row["memory_tracer_error"])),
        (row["workload_end"] == "exited" and row["workload_exit_status"] == "0", "workload %s %s" % (row["workload_end"], row["workload_exit_status"])),
        ((n("log_of_GMBE_block_len"), n("log_of_GMBE_tracing_ratio")) == (b, r), "B, R in the CSV"),
        (row["trace_only_CPL3_code_GMBE"] == ("1" if cpl3 else "0"), "CPL3 in the CSV"),
        (e is not None and w is not None and e > 0, "no counters"),
        (w == o and len(data) == 16 * w, "written %s, output %s, %d bytes in the file" % (w, o, len(data))),
        (n("num_of_dropped_events") == 0 and n("num_of_missing_events") == 0 and n("num_of_events_waiting_in_trace_buf") == 0, "lost records"),
        (e is not None and w == kept(e, b, r), "events %s: written %s, the rule says %s" % (e, w, e is not None and kept(e, b, r))),
        # The CSV carries the report's numbers.
        (info.get("num_of_events_written_to_trace_buf") == w and info.get("num_of_GMBE_events_since_enabling_GMBEOO") == e, "CSV and report differ"),
    ]
    if (b, r) == (0, 0):
        checks.append((in_range == 3601, "%d records in the buffer, want 3601" % in_range))
    if cpl3:
        checks.append((cpl0 == 0, "%d records not CPL 3" % cpl0))
        if (b, r) == (0, 0):
            checks.append((e == w, "CPL3 only: events %s != written %s" % (e, w)))
    # The printed trace info says the same as the report.
    printed = {}
    for line in open(os.path.join(out, name + ".out")):
        if ": " in line:
            k, v = line.rstrip("\n").rsplit(": ", 1)
            printed.setdefault(k, v)
    checks.append((printed.get("num_of_events_written_to_trace_buf") == str(w), "printed written %s" % printed.get("num_of_events_written_to_trace_buf")))
    bad += ["%s: %s" % (name, why) for ok, why in checks if not ok]
print("; ".join(bad))
PYEND
}
