"""PSNR of thumbnail-maker's thumbnails against Pillow LANCZOS from the full decode.

usage: psnr.py [--ext EXT] THUMB_DIR FILE...   (thumbnails as THUMB_DIR/<stem>_<width>.png,
       or .EXT: `--ext jpg` measures the JPEGs as delivered, encoding loss included)

The method of ../shared/corpus/bench-anchors.sh, so the figures compare with the anchors':
the reference is Pillow's LANCZOS resize of the fully decoded original to the thumbnail's exact
size; files with an EXIF rotation are skipped (tools differ on auto-rotation); make the
thumbnails with `-f png` so that only the resampling differs. Needs Pillow and numpy.
"""
import math
import os
import sys

import numpy as np
from PIL import Image

WIDTHS = (200, 64, 32)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def main():
    args = sys.argv[1:]
    ext = "png"
    if args[:1] == ["--ext"]:
        ext, args = args[1], args[2:]
    out, files = args[0], args[1:]
    files = [f for f in files if Image.open(f).getexif().get(274, 1) == 1]
    res = {w: [] for w in WIDTHS}
    for f in files:
        stem = os.path.splitext(os.path.basename(f))[0]
        full = Image.open(f).convert("RGB")
        for w in WIDTHS:
            thumb = Image.open(os.path.join(out, f"{stem}_{w}.{ext}")).convert("RGB")
            ref = full.resize(thumb.size, Image.LANCZOS)
            res[w].append((psnr(np.asarray(ref), np.asarray(thumb)), stem))
    print(f"PSNR vs Pillow LANCZOS from full decode ({len(files)} files without EXIF rotation)")
    for w in WIDTHS:
        v = [p for p, _ in res[w]]
        worst = min(res[w])
        print(f"  {w:>3} px: mean {sum(v) / len(v):.1f} dB, min {worst[0]:.1f} dB ({worst[1]})")


if __name__ == "__main__":
    main()
