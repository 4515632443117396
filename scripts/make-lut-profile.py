#!/usr/bin/env python3
"""Writes an RGB ICC profile whose only colour transform is a perceptual A2B0 table (lut16Type,
PCS XYZ), as JPEG XL's XYB JPEGs and many printer and camera profiles carry: no matrix and TRC
tags, no A2B1 (colorimetric). Its table swaps red and blue: the pixel (r, g, b) means the sRGB
colour (b, g, r). So a correct conversion to sRGB swaps the channels, and leaving the pixels
unconverted is plainly wrong. Usage: make-lut-profile.py OUT.icc [--check]

--check converts a few colours with Pillow's ImageCms (lcms2), perceptual intent, and prints
them: the reference the tests hold ours to.
"""
import struct
import sys

GRID = 17  # CLUT points per axis
# sRGB (linear) to XYZ, adapted to D50 (Bradford), as in the ICC's sRGB profiles.
M = [
    [0.4360747, 0.3850649, 0.1430804],
    [0.2225045, 0.7168786, 0.0606169],
    [0.0139322, 0.0971045, 0.7141733],
]


def linear(v):
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def s15(x):
    return struct.pack(">i", int(round(x * 65536)))


def xyz_u16(x):
    # lut16Type's XYZ encoding: 1.0 is 0x8000.
    return max(0, min(0xFFFF, int(round(x * 32768))))


def lut16():
    body = b"mft2" + b"\0" * 4 + bytes([3, 3, GRID, 0])
    for row in [[1, 0, 0], [0, 1, 0], [0, 0, 1]]:
        body += b"".join(s15(v) for v in row)
    n = m = 2
    body += struct.pack(">HH", n, m)
    body += struct.pack(">" + "H" * (3 * n), *([0, 0xFFFF] * 3))  # identity input curves
    for i in range(GRID):  # first input channel varies slowest
        for j in range(GRID):
            for k in range(GRID):
                r, g, b = (i / (GRID - 1), j / (GRID - 1), k / (GRID - 1))
                rgb = [linear(b), linear(g), linear(r)]  # red and blue swapped
                xyz = [sum(M[row][c] * rgb[c] for c in range(3)) for row in range(3)]
                body += struct.pack(">HHH", *(xyz_u16(v) for v in xyz))
    body += struct.pack(">" + "H" * (3 * m), *([0, 0xFFFF] * 3))  # identity output curves
    return body


def desc(text):
    t = text.encode() + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(t)) + t + b"\0" * (4 + 4 + 2 + 1 + 67)


def xyz_tag(x, y, z):
    return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)


def profile():
    tags = [
        (b"desc", desc("red-blue swap, perceptual A2B0 only")),
        (b"wtpt", xyz_tag(0.9642, 1.0, 0.8249)),
        (b"A2B0", lut16()),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        while len(body) % 4:
            body += b"\0"
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I", size) + b"none" + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB " + b"XYZ "
    # date, 'acsp', platform, flags, manufacturer and model, attributes
    header += b"\0" * 12 + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
    header += struct.pack(">I", 0)  # perceptual
    header += s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    assert len(header) == 128, len(header)
    return header + struct.pack(">I", len(tags)) + table + data


def main():
    out = sys.argv[1]
    with open(out, "wb") as f:
        f.write(profile())
    if "--check" in sys.argv:
        from PIL import Image, ImageCms

        colours = [(200, 100, 50), (255, 0, 0), (30, 160, 220), (128, 128, 128)]
        im = Image.new("RGB", (len(colours), 1))
        im.putdata(colours)
        src = ImageCms.getOpenProfile(out)
        srgb = ImageCms.createProfile("sRGB")
        for intent in (ImageCms.Intent.PERCEPTUAL, ImageCms.Intent.RELATIVE_COLORIMETRIC):
            t = ImageCms.buildTransform(src, srgb, "RGB", "RGB", renderingIntent=intent)
            print(intent.name, list(ImageCms.applyTransform(im, t).getdata()))


if __name__ == "__main__":
    main()
