#!/usr/bin/env python3
"""Writes the HEIF and AVIF fixtures of tests/it/heif.rs: libheif 1.15's heif-enc (Debian 12:
`apt-get install libheif-examples`; x265 for HEVC, aom for AV1) encodes the 64x48 quadrants
picture of make-tiff-fixtures.py, then the boxes heif-enc cannot write are put in by hand: a
rotation (`irot`), a mirror (`imir`), Display P3 primaries in the `nclx` box.
Usage: make-heif-fixtures.py tests/fixtures/heif
"""
import struct
import subprocess
import sys
import tempfile
from importlib import import_module
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
picture = import_module("make-tiff-fixtures").picture


def enc(src, dst, *args):
    subprocess.run(["heif-enc", *args, "-o", str(dst), str(src)], check=True,
                   stdout=subprocess.DEVNULL)


def boxes(data, start, end):
    """(type, start, header_len, end) of the boxes in data[start:end]."""
    out, at = [], start
    while at < end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
            header = 16
        elif size == 0:
            size = end - at
        out.append((kind.decode("latin-1"), at, header, at + size))
        at += size
    return out

def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload

def uint(data, at, n):
    return int.from_bytes(data[at:at + n], "big") if n else 0

def with_transform(data, prop):
    """data (a HEIF file) with `prop` (an irot or imir box) made an essential property of its
    primary item, every file offset that moved shifted."""
    top = boxes(data, 0, len(data))
    (_, mstart, mhead, mend), = [b for b in top if b[0] == "meta"]
    children = boxes(data, mstart + mhead + 4, mend)
    get = {k: (s, h, e) for k, s, h, e in children}
    s, h, e = get["pitm"]
    version = data[s + h]
    primary = uint(data, s + h + 4, 2 if version == 0 else 4)
    # ipco gains the box; ipma gains an essential association of the primary with it.
    s, h, e = get["iprp"]
    iprp = {k: (a, b, c) for k, a, b, c in boxes(data, s + h, e)}
    cs, ch, ce = iprp["ipco"]
    count = len(boxes(data, cs + ch, ce))
    ipco = box("ipco", data[cs + ch:ce] + prop)
    ms, mh, me = iprp["ipma"]
    version, flags = data[ms + mh], uint(data, ms + mh + 1, 3)
    at = ms + mh + 4
    entries = uint(data, at, 4); at += 4
    body = b""
    wide_id = 4 if version >= 1 else 2
    wide_index = 2 if flags & 1 else 1
    for _ in range(entries):
        item = uint(data, at, wide_id); at += wide_id
        n = data[at]; at += 1
        assoc = data[at:at + n * wide_index]; at += n * wide_index
        if item == primary:
            index = count + 1
            assoc += ((0x8000 | index).to_bytes(2, "big") if wide_index == 2
                      else bytes([0x80 | index]))
            n += 1
        body += item.to_bytes(wide_id, "big") + bytes([n]) + assoc
    ipma = box("ipma", data[ms + mh:ms + mh + 4] + entries.to_bytes(4, "big") + body)
    iprp_new = box("iprp", ipco + ipma)
    growth = len(iprp_new) - (e - s)
    # iloc: offsets into the file (construction method 0) after the meta box move by growth.
    ls, lh, le = get["iloc"]
    iloc = bytearray(data[ls:le])
    at = lh
    version = iloc[at]; at += 4
    off_size, len_size = iloc[at] >> 4, iloc[at] & 15
    base_size = iloc[at + 1] >> 4
    idx_size = iloc[at + 1] & 15 if version in (1, 2) else 0
    at += 2
    count_size = 2 if version < 2 else 4
    items = uint(iloc, at, count_size); at += count_size
    for _ in range(items):
        at += 2 if version < 2 else 4
        method = 0
        if version in (1, 2):
            method = iloc[at + 1] & 15; at += 2
        at += 2  # data reference index
        base_at = at; base = uint(iloc, at, base_size); at += base_size
        extents = uint(iloc, at, 2); at += 2
        moved = method == 0
        if moved and base_size and base >= mend:
            iloc[base_at:base_at + base_size] = (base + growth).to_bytes(base_size, "big")
        for _ in range(extents):
            at += idx_size
            off = uint(iloc, at, off_size)
            if moved and not base_size and off >= mend:
                iloc[at:at + off_size] = (off + growth).to_bytes(off_size, "big")
            at += off_size + len_size
    parts = []
    for k, cs_, ch_, ce_ in children:
        parts.append(iprp_new if k == "iprp" else bytes(iloc) if k == "iloc" else data[cs_:ce_])
    meta = box("meta", data[mstart + mhead:mstart + mhead + 4] + b"".join(parts))
    return data[:mstart] + meta + data[mend:]


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    picture().save(tmp / "quad.png")
    # The everyday files: a phone's HEVC still and a web AVIF, lossy.
    enc(tmp / "quad.png", out / "quad.heic", "-q", "90")
    enc(tmp / "quad.png", out / "quad.avif", "-q", "90")
    # irot 3: 270 degrees anticlockwise, so turned 90 degrees clockwise to be seen upright.
    heic = (out / "quad.heic").read_bytes()
    (out / "quad-irot-90cw.heic").write_bytes(with_transform(heic, box("irot", bytes([3]))))
    # imir 1: left and right exchanged (ISO/IEC 23008-12:2022, libavif, Chrome and libheif).
    avif = (out / "quad.avif").read_bytes()
    (out / "quad-imir-left-right.avif").write_bytes(with_transform(avif, box("imir", b"\x01")))
    # Alpha: the left half transparent.
    rgba = picture().convert("RGBA")
    rgba.paste((0, 0, 0, 0), (0, 0, 32, 48))
    rgba.save(tmp / "alpha.png")
    enc(tmp / "alpha.png", out / "quad-left-transparent.avif", "-q", "90")
    # 10 bits a sample (heif-enc makes 10-bit only from a 16-bit PNG; ImageMagick writes one with PNG48:).
    subprocess.run(["convert", str(tmp / "quad.png"), "-depth", "16", f"PNG48:{tmp / 'quad16.png'}"],
                   check=True)
    enc(tmp / "quad16.png", out / "quad-10bit.heic", "-q", "90", "-b", "10")
    # One flat colour whose nclx box says Display P3 primaries (code point 12), sRGB's curve
    # left unspecified as heif-enc writes it: the numbers mean P3 (204, 128, 51).
    Image.new("RGB", (64, 48), (204, 128, 51)).save(tmp / "flat.png")
    enc(tmp / "flat.png", tmp / "flat.avif", "-q", "90")
    flat = bytearray((tmp / "flat.avif").read_bytes())
    at = flat.index(b"nclx") + 4
    flat[at:at + 2] = (12).to_bytes(2, "big")
    (out / "flat-p3-nclx.avif").write_bytes(bytes(flat))


if __name__ == "__main__":
    main()
