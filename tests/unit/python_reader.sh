#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tools/python/gmbeoo.py with Debian's python3 (numpy, zstandard, lz4): raw
# streams of the three formats, trace files built here from the layout in
# lib/trace_file.h (several chunks, index, trailer) with every codec (zstd:
# layout version 1 as older memory_tracers wrote it; lz4, zstd-delta,
# lz4-delta: version 2), plain zstd and LZ4 files, drop markers; the C
# reader (gmbeoo_dump --csv) agreeing with it on the same trace files,
# `gmbeoo_dump --raw` giving the record stream back for every codec, and
# `zstd -dc`/`lz4 -dc` giving it for the plain codecs.
set -uo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${BIN:-$top/build/bin}
py=/usr/bin/python3
if ! $py -c 'import numpy, zstandard, lz4' 2>/dev/null; then
    echo "SKIP: python_reader: /usr/bin/python3 lacks numpy, zstandard or lz4 (python3-numpy, python3-zstandard, python3-lz4)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-py.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PYTHONPATH=$top/tools/python $py - "$tmp" "$bin/gmbeoo_dump" <<'EOF'
import os, struct, subprocess, sys
import numpy as np
import zstandard
import lz4.frame
import gmbeoo

tmp, dump = sys.argv[1], sys.argv[2]
def check(name, cond, why=""):
    print(("PASS: %s" % name) if cond else ("FAIL: %s: %s" % (name, why)))

def info(ss, store, cpl, sx=0):
    return ss | sx << 3 | store << 5 | cpl << 6

N = 3000
def records(fmt):
    out = bytearray()
    exp = []
    for i in range(N):
        ss, store, cpl, sx = i % 4, i % 3 == 0, 3 if i % 5 else 0, i % 7 == 1
        inf = info(ss, store, cpl, sx)
        va = (0x7ffd00000000 + 8 * i) if cpl else (0xffff888000000000 + 16 * i)
        if fmt == 0:
            out += struct.pack('<QQ', inf | (i % 2) << 8 | 1 << 63, va)
        elif fmt == 1:
            out += struct.pack('<Q', (va << 8 | inf) & (2**64 - 1))
        else:
            out += struct.pack('<QQQQ', inf | (i % 2) << 8 | (0x1234 + i % 3) << 16 | 1 << 63,
                               va, 0x100000 + i, 0x401000 + i)
        exp.append((va, 1 << ss, bool(sx), bool(store), cpl, i % 2, 0x100000 + i,
                    0x401000 + i, (0x1234 + i % 3) << 12))
        if i == 1000:       # a drop marker: 77 records dropped
            out += {0: struct.pack('<QQ', 0, 77), 1: struct.pack('<Q', 77 << 8 | 7),
                    2: struct.pack('<QQQQ', 0, 77, 0, 0)}[fmt]
    return bytes(out), exp

def compare(arr, exp, fmt):
    if len(arr) != len(exp):
        return "%d records, want %d" % (len(arr), len(exp))
    e = np.array(exp, dtype=object)
    for col, name in [(0, 'vaddr'), (1, 'size'), (2, 'sign_extend'), (3, 'store'), (4, 'cpl')]:
        if not (arr[name].astype(object) == e[:, col]).all():
            return "field %s differs" % name
    if fmt != 1 and not (arr['vcpu'].astype(object) == e[:, 5]).all():
        return "vcpu differs"
    if fmt == 2:
        for col, name in [(6, 'paddr'), (7, 'pc'), (8, 'cr3')]:
            if not (arr[name].astype(object) == e[:, col]).all():
                return "field %s differs" % name
    if fmt == 1 and 'vcpu' in arr.dtype.names:
        return "compact8 has no vcpu"
    return None

def delta(buf, fmt):
    """The writer's delta transform, from lib/trace_file.h's words."""
    size = gmbeoo.RECORD_SIZE[fmt]
    w = np.frombuffer(buf, dtype='<u8').reshape(-1, size // 8).copy()
    prev = np.vstack([np.zeros((1, size // 8), dtype=np.uint64), w[:-1]])
    if fmt == 1:
        m = ~np.uint64(0xFF)
        w[:, 0] = ((w[:, 0] & m) - (prev[:, 0] & m)) | (w[:, 0] & np.uint64(0xFF))
    else:
        cols = [1, 2, 3] if fmt == 2 else [1]
        w[:, cols] = w[:, cols] - prev[:, cols]
    return w.tobytes()

def trace_file(path, fmt, data, chunk_records, codec="zstd"):
    size = gmbeoo.RECORD_SIZE[fmt]
    text = b"guest_image=/img.qcow2\nsnapshot=snap\nmemory_tracer_version=t\nqemu_version=7.2.0\nworkload=w\\nx\n"
    if codec == "zstd":
        hdr = b"GMBEOOTF" + struct.pack('<6I', 1, fmt, size, 2, 3, 1) + text
    else:
        hdr = b"GMBEOOTF" + struct.pack('<8I', 2, fmt, size, 2, 3, 1,
                                        codec.startswith("lz4"),
                                        codec.endswith("-delta")) + text
    out = bytearray(struct.pack('<II', 0x184D2A50, len(hdr)) + hdr)
    cctx = zstandard.ZstdCompressor(level=1, write_checksum=True)
    entries = []
    step = chunk_records * size
    for off in range(0, len(data), step):
        piece = data[off:off + step]
        if codec.endswith("-delta"):
            piece = delta(piece, fmt)
        if codec.startswith("lz4"):
            c = lz4.frame.compress(piece, content_checksum=True,
                                   store_size=True)
        else:
            c = cctx.compress(piece)
        entries.append((len(out), len(c), off // size, len(data[off:off + step]) // size))
        out += c
    ioff = len(out)
    ix = b"GMBEOOIX" + struct.pack('<3Q', len(entries), len(data) // size, len(data))
    for e in entries:
        ix += struct.pack('<4Q', *e)
    out += struct.pack('<II', 0x184D2A5E, len(ix)) + ix
    out += struct.pack('<IIQ', 0x184D2A5F, 16, ioff) + b"GMBEOEND"
    open(path, 'wb').write(out)

for fmt, name in gmbeoo.FORMAT_NAMES.items():
    data, exp = records(fmt)
    raw = os.path.join(tmp, name + '.raw')
    open(raw, 'wb').write(data)
    check("raw_" + name, compare(gmbeoo.read(raw, format=name), exp, fmt) is None,
          compare(gmbeoo.read(raw, format=name), exp, fmt))
    os.environ['GMBEOO_RECORD_FORMAT'] = name
    check("raw_env_" + name, compare(gmbeoo.read(raw), exp, fmt) is None)
    del os.environ['GMBEOO_RECORD_FORMAT']
    tf = os.path.join(tmp, name + '.gmbeoo.zst')
    trace_file(tf, fmt, data, 700)
    arr = gmbeoo.read(tf)           # the header's format, not the default
    why = compare(arr, exp, fmt)
    check("trace_file_" + name, why is None, why)
    chunks = list(gmbeoo.iter_chunks(tf, markers=True))
    check("iter_chunks_" + name, len(chunks) == 5 and sum(len(c[0]) for c in chunks) == N
          and [c[1] for c in chunks] == [0, 700, 1400, 2100, 2800]
          and sum(c[2] for c in chunks) == 77, [(len(c[0]), c[1], c[2]) for c in chunks])
    h = gmbeoo.header(tf)
    check("header_" + name, h['record_format'] == name and h['log_of_GMBE_block_len'] == 2
          and h['log_of_GMBE_tracing_ratio'] == 3 and h['trace_only_CPL3_code_GMBE']
          and h['workload'] == 'w\nx' and h['qemu_version'] == '7.2.0', h)
    plain = os.path.join(tmp, name + '.zst')
    open(plain, 'wb').write(zstandard.ZstdCompressor().compress(data))
    check("plain_zstd_" + name, compare(gmbeoo.read(plain, format=name), exp, fmt) is None)
    plain4 = os.path.join(tmp, name + '.lz4')
    open(plain4, 'wb').write(lz4.frame.compress(data[:len(data) // 2]) +
                             lz4.frame.compress(data[len(data) // 2:]))
    check("plain_lz4_" + name, compare(gmbeoo.read(plain4, format=name), exp, fmt) is None)
    back = subprocess.run([dump, '--raw', '--format', name, plain4], capture_output=True).stdout
    check("dump_raw_plain_lz4_" + name, back == data, "%d bytes, want %d" % (len(back), len(data)))
    # Every codec: the Python reader, the C reader and --raw agree.
    for codec in ("zstd", "lz4", "zstd-delta", "lz4-delta"):
        cf = os.path.join(tmp, "%s.%s.gmbeoo" % (name, codec))
        trace_file(cf, fmt, data, 700, codec)
        why = compare(gmbeoo.read(cf), exp, fmt)
        check("codec_%s_%s" % (codec, name), why is None and
              gmbeoo.header(cf)["codec"] == codec, why)
        raw_back = subprocess.run([dump, '--raw', cf], capture_output=True, check=True).stdout
        check("dump_raw_%s_%s" % (codec, name), raw_back == data,
              "%d bytes, want %d" % (len(raw_back), len(data)))
        csv = subprocess.run([dump, '--csv', cf], capture_output=True, text=True, check=True).stdout
        rows = [l.split(',') for l in csv.splitlines()[1:]]
        check("c_reader_codec_%s_%s" % (codec, name), len(rows) == N and
              [int(r[0], 0) for r in rows] == [int(x) for x in gmbeoo.read(cf)["vaddr"]])
        if not codec.endswith("-delta"):
            tool = codec
            plain_out = subprocess.run([tool, '-dc', cf], capture_output=True).stdout
            check("%s_dc_%s" % (codec, name), plain_out == data,
                  "%d bytes, want %d" % (len(plain_out), len(data)))
    # The C reader on the file written here from the documented layout.
    csv = subprocess.run([dump, '--csv', tf], capture_output=True, text=True, check=True).stdout
    lines = csv.splitlines()
    cols = lines[0].split(',')
    rows = [l.split(',') for l in lines[1:]]
    ok = len(rows) == len(arr)
    for k, c in enumerate(cols):
        if not ok:
            break
        got = [int(r[k], 0) for r in rows]
        ok = got == [int(x) for x in arr[c]]
    check("c_reader_agrees_" + name, ok, "columns %s" % cols)

empty = os.path.join(tmp, 'empty')
open(empty, 'wb').close()
check("empty_stream", len(gmbeoo.read(empty)) == 0 and gmbeoo.header(empty) is None)
bad = os.path.join(tmp, 'bad.zst')
trace_file(bad, 0, records(0)[0], 700)
b = bytearray(open(bad, 'rb').read()); b[8 + 12] = 9; open(bad, 'wb').write(b)
try:
    gmbeoo.read(bad)
    check("corrupted_header", False, "no error")
except ValueError as e:
    check("corrupted_header", "corrupted trace file header" in str(e), str(e))
EOF
