#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Merge a sweep's JSON reports (memory_tracer --report_json) into one CSV.

usage: collect.py [-o CSV] OUTDIR

One row per OUTDIR/*.json report, sorted by run name (the file name without
.json).  Columns: name, how the run ended (exit_status,
memory_tracer_error, workload_end, workload_exit_status, workload_signal),
tracing_duration_in_milliseconds, the sweep settings (workload, B, R, CPL3,
record format), every trace info counter under its original name, then the
analysis tool's "name: value" lines (analysis.NAME, the union over all
reports), and where it ran (host, start_time, qemu, guest kernel).  A report
that cannot be read is a row with its error in memory_tracer_error.
Writes to stdout without -o; -o writes CSV atomically (temporary file and
rename).  Python standard library only.
"""
import argparse
import csv
import json
import os
import sys
import tempfile

TRACE_INFO = [
    "num_of_GMBE_events_since_enabling_GMBEOO",
    "num_of_events_written_to_trace_buf",
    "num_of_events_written_to_trace_file",
    "actual_tracing_ratio",
    "num_of_events_waiting_in_trace_buf",
    "num_of_missing_events",
    "num_of_dropped_events",
    "trace_output_error",
]
HEAD = [
    "name", "exit_status", "memory_tracer_error", "workload_end",
    "workload_exit_status", "workload_signal",
    "tracing_duration_in_milliseconds", "workload", "log_of_GMBE_block_len",
    "log_of_GMBE_tracing_ratio", "trace_only_CPL3_code_GMBE",
    "trace_record_format", "mode",
]
TAIL = ["host", "start_time", "qemu_version", "guest_kernel_release",
        "memory_tracer_version", "report"]


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def qemu_version(v):
    if not isinstance(v, dict):
        return None
    q = v.get("qemu", {})
    text = "%s.%s.%s" % (q.get("major"), q.get("minor"), q.get("micro"))
    pkg = (v.get("package") or "").strip()
    return text + (" " + pkg if pkg else "")


def row_of(path):
    name = os.path.basename(path)[:-len(".json")]
    row = {"name": name, "report": path}
    try:
        with open(path, encoding="utf-8") as f:
            r = json.load(f)
        if not isinstance(r, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        row["memory_tracer_error"] = "unreadable report: %s" % e
        return row, {}
    opts = r.get("options") or {}
    for k in ("exit_status", "memory_tracer_error", "workload_end",
              "workload_exit_status", "workload_signal",
              "tracing_duration_in_milliseconds", "memory_tracer_version",
              "host", "start_time"):
        row[k] = r.get(k)
    row["workload"] = (opts.get("workload_path_on_host") or
                       ("guest:%s" % opts["workload_path_on_guest"]
                        if opts.get("workload_path_on_guest") else None))
    for k in ("log_of_GMBE_block_len", "log_of_GMBE_tracing_ratio",
              "trace_only_CPL3_code_GMBE", "trace_record_format", "mode"):
        row[k] = opts.get(k)
    info = r.get("trace_info") or {}
    for k in TRACE_INFO:
        row[k] = info.get(k)
    row["qemu_version"] = qemu_version(r.get("qemu_version"))
    row["guest_kernel_release"] = (r.get("guest") or {}).get("kernel_release")
    analysis = r.get("analysis_output_fields") or {}
    return row, {"analysis." + k: v for k, v in analysis.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", help="CSV file (default: stdout)")
    ap.add_argument("outdir")
    a = ap.parse_args()
    try:
        names = sorted(n for n in os.listdir(a.outdir) if n.endswith(".json"))
    except OSError as e:
        sys.exit("collect.py: cannot list %s: %s" % (a.outdir, e.strerror))
    rows, extra_cols = [], []
    for n in names:
        row, analysis = row_of(os.path.join(a.outdir, n))
        for k in analysis:
            if k not in extra_cols:
                extra_cols.append(k)
        row.update(analysis)
        rows.append(row)
    cols = HEAD + TRACE_INFO + sorted(extra_cols) + TAIL
    if a.output:
        d = os.path.dirname(os.path.abspath(a.output))
        fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".csv", dir=d)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                write(f, cols, rows)
            os.chmod(tmp, 0o644)
            os.replace(tmp, a.output)
        except BaseException:
            os.unlink(tmp)
            raise
    else:
        write(sys.stdout, cols, rows)
    if not rows:
        print("collect.py: no JSON reports in %s" % a.outdir, file=sys.stderr)
        return 1
    return 0


def write(f, cols, rows):
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([cell(r.get(c)) for c in cols])


if __name__ == "__main__":
    sys.exit(main())
