#!/usr/bin/env python3
"""make-small-set.py OUT_DIR [COUNT]

The many-small-images workload of the benchmarks: COUNT (default 2000) JPEGs of at most
800x800, like a catalogue of product photos or a folder of web images, made from the bundled
samples (assets/samples) with Pillow: a random crop of each sample (landscape and portrait
alike), resized so its longer side is 400 to 800 px, saved at quality 85 (4:2:0, baseline).
The same COUNT always gives the same files (fixed seed). Needs: pip install pillow.
"""
import os
import random
import sys

from PIL import Image

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
here = os.path.dirname(os.path.abspath(__file__))
samples_dir = os.path.join(here, "..", "assets", "samples")
sources = []
for name in sorted(os.listdir(samples_dir)):
    if name.lower().endswith((".jpg", ".png", ".webp")):
        image = Image.open(os.path.join(samples_dir, name)).convert("RGB")
        image.thumbnail((1600, 1600))
        sources.append(image)
rng = random.Random(2026)
os.makedirs(out, exist_ok=True)
for i in range(count):
    src = sources[i % len(sources)]
    w, h = src.size
    portrait = i % 3 == 0
    aspect = rng.uniform(1.2, 1.6)
    cw = rng.randint(w // 3, w)
    ch = min(h, int(cw * aspect) if portrait else int(cw / aspect))
    cw = min(cw, int(ch / aspect) if portrait else int(ch * aspect))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    crop = src.crop((x, y, x + cw, y + ch))
    longest = rng.randint(400, 800)
    scale = longest / max(cw, ch)
    crop = crop.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.LANCZOS)
    crop.save(os.path.join(out, f"item{i:05d}.jpg"), quality=85)
print(f"{count} JPEGs in {out}")
