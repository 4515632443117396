#!/usr/bin/env python3
"""Writes the TIFF (and BMP, ICO) fixtures of tests/it/formats.rs with Pillow (its libtiff):
one 64x48 picture of four coloured quadrants in each compression, bit depth and layout users
have; ImageMagick's `convert` writes the tiled one, libtiff's `tiffcp` (libtiff-tools) the
fax codings. Usage: make-tiff-fixtures.py tests/fixtures/tiff
(the fax pages go beside it, in tests/fixtures/fax)
"""
import math
import struct
import subprocess
import sys
from pathlib import Path

from PIL import Image, TiffImagePlugin

W, H = 64, 48
QUADRANTS = [(220, 30, 30), (30, 200, 40), (20, 40, 210), (250, 250, 250)]


def picture(mode="RGB"):
    im = Image.new("RGB", (W, H))
    for i, colour in enumerate(QUADRANTS):
        x, y = (i % 2) * W // 2, (i // 2) * H // 2
        im.paste(colour, (x, y, x + W // 2, y + H // 2))
    return im.convert(mode) if mode != "RGB" else im


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rgb = picture()
    for compression in ["raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg"]:
        rgb.save(out / f"rgb-{compression}.tif", compression=compression)
    # Through ImageMagick, which Pillow cannot write: 16x16 tiles, Deflate and LZW (whose tiles
    # end without an end code: image-tiff 0.11 fails on them, image-rs/image-tiff#395, and
    # src/decode/lzw_tiles.rs reads them), and 2-bit palette indices.
    for compression, name in [("zip", "deflate"), ("lzw", "lzw")]:
        subprocess.run(
            ["convert", out / "rgb-raw.tif", "-compress", compression, "-define",
             "tiff:tile-geometry=16x16", out / f"rgb-tiled-{name}.tif"],
            check=True,
        )
    subprocess.run(
        ["convert", out / "rgb-raw.tif", "-colors", "4", "-type", "Palette", "-depth", "2",
         out / "palette-2bit.tif"],
        check=True,
    )
    rgb.convert("RGBA").save(out / "rgba-lzw.tif", compression="tiff_lzw")
    rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(out / "palette-8bit.tif")
    rgb.convert("CMYK").save(out / "cmyk-lzw.tif", compression="tiff_lzw")
    # CMYK inks chosen by hand, carrying ghostscript's PS CMYK profile (apt's ghostscript
    # package; a perceptual-only table): lcms2 makes the first quadrant (255, 87, 87), the
    # naive formula (255, 25, 25).
    inks = Image.new("CMYK", (W, H))
    for i, ink in enumerate([(0, 230, 230, 0), (200, 0, 230, 0), (230, 180, 0, 0), (0, 0, 0, 0)]):
        x, y = (i % 2) * W // 2, (i // 2) * H // 2
        inks.paste(ink, (x, y, x + W // 2, y + H // 2))
    profile = Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc").read_bytes()
    inks.save(out / "cmyk-profile.tif", compression="tiff_lzw", icc_profile=profile)
    # The same inks in 16 bits a sample, profile kept (ImageMagick; Pillow has no 16-bit CMYK).
    subprocess.run(["convert", out / "cmyk-profile.tif", "-depth", "16", "-compress", "lzw",
                    out / "cmyk16-profile.tif"], check=True)
    # 16-bit grey spanning the full range (Pillow's convert("I;16") keeps 0-255).
    grey = rgb.convert("L")
    grey16 = Image.new("I;16", grey.size)
    grey16.putdata([v * 257 for v in grey.getdata()])
    grey16.save(out / "grey16.tif")
    bilevel = rgb.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    bilevel.save(out / "bilevel-g4.tif", compression="group4")
    bilevel.save(out / "bilevel-g3.tif", compression="group3")
    # Group 3 as ImageMagick (libtiff) writes it for fax: WhiteIsZero, strips of 16 rows, and
    # here the bits least significant first (FillOrder 2), as some fax software stores them.
    bilevel.save(out / "bilevel.png")
    subprocess.run(["convert", str(out / "bilevel.png"), "-define", "tiff:fill-order=lsb",
                    "-define", "tiff:rows-per-strip=16", "-compress", "Fax",
                    str(out / "bilevel-g3-lsb-strips.tif")], check=True)
    (out / "bilevel.png").unlink()
    # Stored on its side with the Orientation tag 6 (rotate 90 clockwise to view).
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[274] = 6
    rgb.transpose(Image.Transpose.ROTATE_90).save(out / "orientation-6.tif", tiffinfo=info)
    # Old-style JPEG (compression 6), stored on its side with Orientation 6, written by hand
    # (libtiff writes it no more): JPEGInterchangeFormat points at a whole baseline JPEG.
    sideways = rgb.transpose(Image.Transpose.ROTATE_90)
    sideways.save(out / "q.jpg", quality=95)
    (out / "old-jpeg-orientation-6.tif").write_bytes(old_jpeg_tiff((out / "q.jpg").read_bytes(),
                                                                   *sideways.size))
    (out / "q.jpg").unlink()
    # Two pages: the thumbnail is of the first.
    rgb.save(out / "two-pages.tif", save_all=True, append_images=[Image.new("RGB", (W, H))])
    rgb.save(out / "quadrants.bmp")
    # Icons: PNG entries (what Pillow writes, RGBA as Windows wants) and BMP entries.
    rgba = rgb.convert("RGBA")
    rgba.save(out / "icon-png.ico", sizes=[(16, 16), (48, 48)])
    rgba.save(out / "icon-bmp.ico", sizes=[(16, 16), (48, 48)], bitmap_format="bmp")
    fax_variants(out.parent / "fax")
    lab_variants(out.parent / "lab")


def fax_variants(out):
    """A dithered page of rings, 173x97 (odd, so lines end mid-byte), as a PNG and in the
    fax codings libtiff's tiffcp writes: its changes of colour at every angle exercise each
    mode of two-dimensional coding, which the quadrants would not."""
    out.mkdir(parents=True, exist_ok=True)
    w, h = 173, 97
    rings = Image.new("L", (w, h))
    rings.putdata([int(128 + 127 * math.sin(math.hypot(x - 60, y - 40) / 4))
                   for y in range(h) for x in range(w)])
    page = rings.convert("1")  # Floyd-Steinberg
    page.save(out / "fax-page.png")
    page.save(out / "fax-raw.tif")
    for coding, name in [("g4", "g4"), ("g3:1d", "g3-1d"), ("g3:2d", "g3-2d"),
                         ("g3:2d:fill", "g3-2d-fill-lsb-strips")]:
        extra = ["-f", "lsb2msb", "-r", "16"] if "fill" in coding else []
        subprocess.run(["tiffcp", "-c", coding, *extra, out / "fax-raw.tif",
                        out / f"fax-{name}.tif"], check=True)
    (out / "fax-raw.tif").unlink()
    # CCITT modified Huffman RLE (compression 2: old scanners), which no tool here writes:
    # encoded here with T.4's run-length codes, each row starting on a byte, no EOLs.
    (out / "fax-rle.tif").write_bytes(rle_tiff(page))


# T.4's run-length codes: terminating codes for runs 0-63, make-up codes for 64-1728 by 64.
WHITE_TERMINATING = """00110101 000111 0111 1000 1011 1100 1110 1111 10011 10100 00111 01000
    001000 000011 110100 110101 101010 101011 0100111 0001100 0001000 0010111 0000011 0000100
    0101000 0101011 0010011 0100100 0011000 00000010 00000011 00011010 00011011 00010010
    00010011 00010100 00010101 00010110 00010111 00101000 00101001 00101010 00101011 00101100
    00101101 00000100 00000101 00001010 00001011 01010010 01010011 01010100 01010101 00100100
    00100101 01011000 01011001 01011010 01011011 01001010 01001011 00110010 00110011
    00110100""".split()
WHITE_MAKEUP = """11011 10010 010111 0110111 00110110 00110111 01100100 01100101 01101000 01100111
    011001100 011001101 011010010 011010011 011010100 011010101 011010110 011010111 011011000
    011011001 011011010 011011011 010011000 010011001 010011010 011000 010011011""".split()
BLACK_TERMINATING = """0000110111 010 11 10 011 0011 0010 00011 000101 000100 0000100 0000101
    0000111 00000100 00000111 000011000 0000010111 0000011000 0000001000 00001100111
    00001101000 00001101100 00000110111 00000101000 00000010111 00000011000 000011001010
    000011001011 000011001100 000011001101 000001101000 000001101001 000001101010
    000001101011 000011010010 000011010011 000011010100 000011010101 000011010110
    000011010111 000001101100 000001101101 000011011010 000011011011 000001010100
    000001010101 000001010110 000001010111 000001100100 000001100101 000001010010
    000001010011 000000100100 000000110111 000000111000 000000100111 000000101000
    000001011000 000001011001 000000101011 000000101100 000001011010 000001100110
    000001100111""".split()
BLACK_MAKEUP = """0000001111 000011001000 000011001001 000001011011 000000110011 000000110100
    000000110101 0000001101100 0000001101101 0000001001010 0000001001011 0000001001100
    0000001001101 0000001110010 0000001110011 0000001110100 0000001110101 0000001110110
    0000001110111 0000001010010 0000001010011 0000001010100 0000001010101 0000001011010
    0000001011011 0000001100100 0000001100101""".split()


def rle_tiff(page):
    """`page` (mode "1") as a little-endian CCITT RLE TIFF, WhiteIsZero, one strip."""
    w, h = page.size
    data = bytearray()
    for y in range(h):
        bits, colour, x = "", 0, 0  # runs alternate from white (0 here)
        while x < w:
            end = x
            while end < w and (page.getpixel((end, y)) == 0) == (colour == 1):
                end += 1
            run = end - x
            makeup, terminating = (BLACK_MAKEUP, BLACK_TERMINATING) if colour else \
                (WHITE_MAKEUP, WHITE_TERMINATING)
            if run >= 64:
                bits += makeup[run // 64 - 1]
            bits += terminating[run % 64]
            x, colour = end, 1 - colour
        bits += "0" * (-len(bits) % 8)
        data += int(bits, 2).to_bytes(len(bits) // 8, "big")
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 1), (259, 3, 1, 2), (262, 3, 1, 0),
               (273, 4, 1, None), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(data))]
    return tiff_of(entries, bytes(data), bits=None)


def srgb_to_lab(rgb, white):
    """CIE L*a*b* of an sRGB colour relative to `white` (XYZ), Bradford-adapted from D65."""
    lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
           for c in rgb]
    m = [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
         [0.0193339, 0.1191920, 0.9503041]]
    xyz = [sum(m[i][j] * lin[j] for j in range(3)) for i in range(3)]
    bradford = [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367],
                [0.0389, -0.0685, 1.0296]]
    inverse = [[0.9869929, -0.1470543, 0.1599627], [0.4323053, 0.5183603, 0.0492912],
               [-0.0085287, 0.0400428, 0.9684867]]
    cone = lambda v: [sum(bradford[i][j] * v[j] for j in range(3)) for i in range(3)]
    d65 = [0.95047, 1.0, 1.08883]
    scaled = [c * w / s for c, w, s in zip(cone(xyz), cone(white), cone(d65))]
    xyz = [sum(inverse[i][j] * scaled[j] for j in range(3)) for i in range(3)]
    f = [t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29
         for t in (v / w for v, w in zip(xyz, white))]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def lab_variants(out):
    """The quadrants in CIE L*a*b*: written as RGB samples by Pillow, then the Photometric
    entry set to CIELab (8) or ICCLab (9), since Pillow writes only 8-bit CIELab. 16-bit
    CIELab relative to D50 (no WhitePoint tag: libtiff's default), 8-bit ICCLab (a*, b*
    offset by 128) relative to D50, and ImageMagick's own 8-bit CIELab with a D65 WhitePoint."""
    out.mkdir(parents=True, exist_ok=True)
    d50 = [0.3457 / 0.3585, 1.0, (1 - 0.3457 - 0.3585) / 0.3585]
    labs = [srgb_to_lab(q, d50) for q in QUADRANTS]

    def write(name, samples, bits, photometric):
        raw = bytearray()
        for y in range(H):
            for x in range(W):
                raw += samples[(y >= H // 2) * 2 + (x >= W // 2)]
        if bits == 8:
            Image.frombytes("RGB", (W, H), bytes(raw)).save(out / name)
        else:
            (out / name).write_bytes(tiff16(bytes(raw)))  # Pillow writes no 16-bit RGB
        data = bytearray((out / name).read_bytes())
        at = find_photometric(data)
        data[at:at + 2] = photometric.to_bytes(2, "little")
        (out / name).write_bytes(data)

    cielab16 = [b"".join(int(round(v)).to_bytes(2, "little", signed=v < 0) for v in
                         (l * 65535 / 100, a * 256, b * 256)) for l, a, b in labs]
    write("cielab16-d50.tif", cielab16, 16, 8)
    icclab8 = [bytes([round(l * 255 / 100), round(a) + 128, round(b) + 128]) for l, a, b in labs]
    write("icclab8-d50.tif", icclab8, 8, 9)
    subprocess.run(["convert", out.parent / "tiff" / "rgb-raw.tif", "-colorspace", "Lab",
                    out / "cielab8-imagemagick-d65.tif"], check=True)


def tiff16(raw):
    """A little-endian 16-bit RGB TIFF of W x H holding `raw`, uncompressed, one strip."""
    entries = [(256, 3, 1, W), (257, 3, 1, H), (258, 3, 3, None), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, None), (277, 3, 1, 3), (278, 3, 1, H),
               (279, 4, 1, len(raw)), (284, 3, 1, 1)]
    return tiff_of(entries, raw, bits=16)


def tiff_of(entries, data, bits=8):
    """A little-endian TIFF of one IFD (`entries`: tag, type, count, value) and one strip of
    `data`; BitsPerSample (258, three of `bits`, unless `bits` is None: then as given),
    StripOffsets (273) and JPEGInterchangeFormat (513) are filled in."""
    ifd_at = 8
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    data_at = extra_at + (6 if bits else 0)
    out = bytearray(b"II*\0" + struct.pack("<I", ifd_at))
    out += struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        filled = {273: data_at, 513: data_at} | ({258: extra_at} if bits else {})
        value = filled.get(tag, value)
        out += struct.pack("<HHI", tag, kind, count)
        out += struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
    out += struct.pack("<I", 0)
    if bits:
        out += struct.pack("<HHH", bits, bits, bits)
    return bytes(out + data)


def old_jpeg_tiff(jpeg, w, h):
    """A little-endian old-style JPEG TIFF of `jpeg` (w x h), YCbCr, Orientation 6."""
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, None), (259, 3, 1, 6),
               (262, 3, 1, 6), (273, 4, 1, None), (274, 3, 1, 6), (277, 3, 1, 3),
               (278, 3, 1, h), (279, 4, 1, len(jpeg)), (284, 3, 1, 1), (512, 3, 1, 1),
               (513, 4, 1, None), (514, 4, 1, len(jpeg))]
    return tiff_of(entries, jpeg)


def find_photometric(data):
    """Where the first IFD's Photometric value sits in a little-endian TIFF."""
    ifd = int.from_bytes(data[4:8], "little")
    for i in range(int.from_bytes(data[ifd:ifd + 2], "little")):
        entry = ifd + 2 + 12 * i
        if int.from_bytes(data[entry:entry + 2], "little") == 262:
            return entry + 8
    raise ValueError("no Photometric entry")


if __name__ == "__main__":
    main()
