# SPDX-License-Identifier: GPL-2.0-or-later
"""Read GMBEOO record streams and trace files into numpy arrays.

    import gmbeoo
    a = gmbeoo.read("run.gmbeoo.zst")          # one structured array
    for chunk in gmbeoo.iter_chunks(path):      # bounded memory
        ...
    gmbeoo.header(path)                         # the trace file's header

A source is a trace file (memory_tracer --trace_file_path: zstd or LZ4
frames, with or without address deltas, a header and a chunk index in
skippable frames), any other zstd or LZ4 file of records, or a raw record
stream (a file written from the FIFO).  The record formats and the trace
file layout are documented in include/gmbeoo/record.h and
lib/trace_file.h.

Every array has the fields vaddr (uint64), size (bytes, uint8), store
(bool), cpl (uint8) and sign_extend (bool); gmbeoo16 adds vcpu, extended32
adds paddr, pc, vcpu and cr3.  Drop markers (QEMU had to drop records) are
not accesses: they are left out, and counted in `dropped` of
iter_chunks(..., markers=True) items.

Needs numpy and zstandard: Debian's python3-numpy and python3-zstandard
for /usr/bin/python3 (`make install` puts this module where it finds it),
or `pip install ./tools/python` in a virtual environment.  LZ4 files (the
lz4 and lz4-delta codecs) also need lz4 (python3-lz4; pip's extra
`gmbeoo[lz4]`).
"""

import codecs
import os
import struct
import sys

try:
    import numpy as np
    import zstandard
except ImportError as _e:
    # One line that says what to do, not a bare "No module named numpy".
    raise ImportError(
        "gmbeoo needs numpy and zstandard, which %s lacks (%s): run "
        "Debian's /usr/bin/python3 with python3-numpy python3-zstandard "
        "installed, or `pip install numpy zstandard` for this interpreter"
        % (sys.executable, _e)) from None


def _lz4_frame():
    """The lz4.frame module, needed only for LZ4 files."""
    try:
        import lz4.frame
    except ImportError:
        raise ImportError(
            "reading an LZ4 trace needs lz4, which %s lacks: install "
            "Debian's python3-lz4, or `pip install lz4`" % sys.executable) \
            from None
    return lz4.frame

FORMATS = {"gmbeoo16": 0, "compact8": 1, "extended32": 2}
FORMAT_NAMES = {v: k for k, v in FORMATS.items()}
RECORD_SIZE = {0: 16, 1: 8, 2: 32}

HEADER_MAGIC = 0x184D2A50
INDEX_MAGIC = 0x184D2A5E
TRAILER_MAGIC = 0x184D2A5F
ZSTD_MAGIC = 0xFD2FB528
LZ4_MAGIC = 0x184D2204
COMPRESSORS = {0: "zstd", 1: "lz4"}
TRANSFORMS = {0: "", 1: "-delta"}
SKIPPABLE = range(0x184D2A50, 0x184D2A60)
DROP_MARKER_INFO = 0x07

_BLOCK_RECORDS = 1 << 20


def dtype(fmt):
    """The numpy dtype of decoded records of format @fmt (name or number)."""
    f = FORMATS.get(fmt, fmt)
    fields = [("vaddr", "<u8")]
    if f == 2:
        fields += [("paddr", "<u8"), ("pc", "<u8")]
    fields += [("size", "u1"), ("sign_extend", "?"), ("store", "?"),
               ("cpl", "u1")]
    if f != 1:
        fields += [("vcpu", "u1")]
    if f == 2:
        fields += [("cr3", "<u8")]
    return np.dtype(fields)


def decode(buf, fmt):
    """Decode whole records in @buf; returns (array, dropped records)."""
    f = FORMATS.get(fmt, fmt)
    words = np.frombuffer(buf, dtype="<u8")
    if f == 1:
        w0 = words
        info = (w0 & 0xFF).astype(np.uint8)
        valid = info != DROP_MARKER_INFO
        # Bits 8-63 hold the address's bits 0-55: an arithmetic shift
        # restores the canonical sign extension.
        vaddr = (w0.view("<i8") >> 8).view("<u8")
    else:
        words = words.reshape(-1, RECORD_SIZE[f] // 8)
        w0 = words[:, 0]
        info = (w0 & 0xFF).astype(np.uint8)
        valid = (w0 >> np.uint64(63)) == 1
        vaddr = words[:, 1]
    dropped = int(vaddr[~valid].sum()) if not valid.all() else 0
    out = np.empty(int(valid.sum()), dtype=dtype(f))
    info_v = info[valid]
    out["vaddr"] = vaddr[valid]
    out["size"] = np.left_shift(1, info_v & 7).astype(np.uint8)
    out["sign_extend"] = (info_v & 0x08) != 0
    out["store"] = (info_v & 0x20) != 0
    out["cpl"] = info_v >> 6
    if f == 0:
        out["vcpu"] = ((w0[valid] >> np.uint64(8)) & 0xFF).astype(np.uint8)
    elif f == 2:
        w0v = w0[valid]
        out["vcpu"] = ((w0v >> np.uint64(8)) & 0xFF).astype(np.uint8)
        out["cr3"] = ((w0v >> np.uint64(16)) & np.uint64((1 << 40) - 1)) \
            << np.uint64(12)
        out["paddr"] = words[valid, 2]
        out["pc"] = words[valid, 3]
    return out, dropped


def undelta(buf, fmt):
    """Undo the delta transform of one chunk (lib/trace_file.h): the
    record stream's bytes (a torn tail unchanged)."""
    words, tail = _undelta_words(buf, fmt)
    return words.tobytes() + tail


def _undelta_words(buf, fmt):
    """undelta() as an array of 64-bit words (whole records) and the tail."""
    f = FORMATS.get(fmt, fmt)
    size = RECORD_SIZE[f]
    whole = len(buf) - len(buf) % size
    words = np.frombuffer(buf, dtype="<u8", count=whole // 8).copy()
    words = words.reshape(-1, size // 8)
    # Wrapping uint64 prefix sums, in place: the inverse of the writer's
    # differences.
    if f == 1:
        info = words[:, 0] & np.uint64(0xFF)
        words[:, 0] &= ~np.uint64(0xFF)
        np.cumsum(words[:, 0], out=words[:, 0])
        words[:, 0] |= info
    else:
        for col in ((1, 2, 3) if f == 2 else (1,)):
            np.cumsum(words[:, col], out=words[:, col])
    return words, bytes(buf[whole:])


def _parse_header(payload):
    if len(payload) < 32 or payload[:8] != b"GMBEOOTF":
        raise ValueError("corrupted trace file header: no GMBEOOTF")
    version, fmt, size, b, r, flags = struct.unpack_from("<6I", payload, 8)
    if version not in (1, 2) or fmt not in RECORD_SIZE or \
            RECORD_SIZE[fmt] != size:
        raise ValueError("corrupted trace file header: version %d, format "
                         "%d, record size %d" % (version, fmt, size))
    comp, transform, fixed = 0, 0, 32
    if version == 2:
        if len(payload) < 40:
            raise ValueError("corrupted trace file header: too short")
        comp, transform = struct.unpack_from("<2I", payload, 32)
        if comp not in COMPRESSORS or transform not in TRANSFORMS:
            raise ValueError("corrupted trace file header: unknown codec "
                             "%d/%d" % (comp, transform))
        fixed = 40
    h = {"record_format": FORMAT_NAMES[fmt], "record_size": size,
         "log_of_GMBE_block_len": b, "log_of_GMBE_tracing_ratio": r,
         "trace_only_CPL3_code_GMBE": bool(flags & 1),
         "codec": COMPRESSORS[comp] + TRANSFORMS[transform]}
    for line in payload[fixed:].decode("utf-8", "replace").split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            # Values are C-escaped ASCII (g_strescape).
            h[k] = codecs.escape_decode(v.encode("ascii", "replace"))[0] \
                .decode("utf-8", "replace")
    return h


def _read_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        raise ValueError("the file ends inside a frame")
    return data


def header(path):
    """The trace file's header as a dict, or None for other sources."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8 or struct.unpack("<I", head[:4])[0] != HEADER_MAGIC:
            return None
        size = struct.unpack("<I", head[4:])[0]
        payload = _read_exact(f, size)
        if payload[:8] != b"GMBEOOTF":
            return None
        return _parse_header(payload)


def index(path):
    """The chunk index of a complete trace file: a list of
    (offset, compressed size, first record, record count), or None."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        if end < 24:
            return None
        f.seek(end - 24)
        t = f.read(24)
        magic, size, off = struct.unpack_from("<IIQ", t)
        if magic != TRAILER_MAGIC or size != 16 or t[16:] != b"GMBEOEND":
            return None
        f.seek(off)
        magic, size = struct.unpack("<II", _read_exact(f, 8))
        payload = _read_exact(f, size)
        if magic != INDEX_MAGIC or payload[:8] != b"GMBEOOIX":
            raise ValueError("corrupted trace file index")
        n = struct.unpack_from("<Q", payload, 8)[0]
        return [struct.unpack_from("<4Q", payload, 32 + 32 * i)
                for i in range(n)]


def _blocks(stream, size, first):
    """Blocks of whole records from a file-like @stream."""
    want = _BLOCK_RECORDS * size
    tail = b""
    while True:
        data = stream.read(want)
        if not data:
            break
        data = tail + data
        whole = len(data) - len(data) % size
        tail = data[whole:]
        if whole:
            yield first, data[:whole]
            first += whole // size
    if tail:
        raise ValueError("%d trailing bytes (an incomplete record)"
                         % len(tail))


def iter_chunks(path, format=None, markers=False):
    """Yield decoded arrays, one per chunk of the trace (a trace file's own
    chunks, about 1 M records otherwise).  @format is the record format of
    a source without a header (default: $GMBEOO_RECORD_FORMAT, else
    gmbeoo16).  With markers=True, yields (array, first_record, dropped)."""
    fmt = format or os.environ.get("GMBEOO_RECORD_FORMAT") or "gmbeoo16"
    if fmt not in FORMATS:
        raise ValueError("unknown record format %r" % fmt)
    fmt = FORMATS[fmt]
    h = header(path)
    if h is not None:
        fmt = FORMATS[h["record_format"]]
    size = RECORD_SIZE[fmt]
    ix = index(path) if h is not None else None

    def emit(first, buf):
        arr, dropped = decode(buf, fmt)
        return (arr, first, dropped) if markers else arr

    with open(path, "rb") as f:
        if h is not None and h["codec"] != "zstd" and ix is None:
            raise ValueError("%s: a trace file without its index (not "
                             "finished?)" % path)
        if ix is not None:
            lz4_chunks = h["codec"].startswith("lz4")
            lz4f = _lz4_frame() if lz4_chunks else None
            delta = h["codec"].endswith("-delta")
            dctx = zstandard.ZstdDecompressor()
            for off, csize, first, count in ix:
                f.seek(off)
                frame = _read_exact(f, csize)
                if lz4_chunks:
                    buf = lz4f.decompress(frame)
                else:
                    buf = dctx.decompress(frame)
                if len(buf) != count * size:
                    raise ValueError("chunk at %d holds %d bytes, the index "
                                     "says %d records" % (off, len(buf), count))
                if delta:
                    buf = _undelta_words(buf, fmt)[0]   # whole records
                yield emit(first, buf)
            return
        magic = struct.unpack("<I", f.read(4).ljust(4, b"\0"))[0]
        f.seek(0)
        if magic == LZ4_MAGIC:
            for first, buf in _blocks(_lz4_frame().open(f, "rb"), size, 0):
                yield emit(first, buf)
        elif magic == ZSTD_MAGIC or magic in SKIPPABLE:
            reader = zstandard.ZstdDecompressor().stream_reader(
                f, read_across_frames=True)
            for first, buf in _blocks(reader, size, 0):
                yield emit(first, buf)
        else:
            for first, buf in _blocks(f, size, 0):
                yield emit(first, buf)


def read(path, format=None):
    """All accesses of @path as one structured array."""
    parts = list(iter_chunks(path, format))
    if not parts:
        f = header(path)
        name = f["record_format"] if f else (
            format or os.environ.get("GMBEOO_RECORD_FORMAT") or "gmbeoo16")
        return np.empty(0, dtype=dtype(name))
    return np.concatenate(parts)
