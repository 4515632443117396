#!/usr/bin/env python3
"""Writes the TIFF (and BMP, ICO) fixtures of tests/it/formats.rs with Pillow (its libtiff):
one 64x48 picture of four coloured quadrants in each compression, bit depth and layout users
have; ImageMagick's `convert` writes the tiled one, libtiff's `tiffcp` (libtiff-tools) the
fax codings. Usage: make-tiff-fixtures.py tests/fixtures/tiff
(the fax pages go beside it, in tests/fixtures/fax)
"""
import math
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
    # Two pages: the thumbnail is of the first.
    rgb.save(out / "two-pages.tif", save_all=True, append_images=[Image.new("RGB", (W, H))])
    rgb.save(out / "quadrants.bmp")
    # Icons: PNG entries (what Pillow writes, RGBA as Windows wants) and BMP entries.
    rgba = rgb.convert("RGBA")
    rgba.save(out / "icon-png.ico", sizes=[(16, 16), (48, 48)])
    rgba.save(out / "icon-bmp.ico", sizes=[(16, 16), (48, 48)], bitmap_format="bmp")
    fax_variants(out.parent / "fax")


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


if __name__ == "__main__":
    main()
