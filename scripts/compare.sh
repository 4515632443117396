#!/usr/bin/env bash
# compare.sh CORPUS_DIR [RUNS]
#
# Times thumbnail-maker's phase two against the tools it must beat, side by side in one
# hyperfine run, on the JPEGs of CORPUS_DIR: widths 200, 64 and 32 of every image.
# The anchor commands are those of ../shared/corpus/bench-anchors.sh (Pillow with draft(),
# vipsthumbnail, ImageMagick with a jpeg:size hint, djpeg -scale 1/8 as the decode floor).
# Needs: hyperfine, vipsthumbnail (libvips-tools), convert (imagemagick), djpeg
# (libjpeg-turbo-progs), python3 with Pillow. On Debian:
#   apt-get install hyperfine libvips-tools imagemagick libjpeg-turbo-progs && pip install pillow
# Keep the machine otherwise idle while it runs. Results: $WORK/compare.md and compare.json.
set -euo pipefail
CORPUS=$(realpath "${1:?usage: compare.sh CORPUS_DIR [RUNS]}")
RUNS=${2:-7}
WORK=${WORK:-/tmp/tm-compare}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TM="$HERE/target/release/thumbnail-maker"
(cd "$HERE" && cargo build --release --locked -q)
rm -rf "$WORK"; mkdir -p "$WORK/jpegs" "$WORK/out"
find "$CORPUS" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -exec ln -s {} "$WORK/jpegs/" \;
ls "$WORK/jpegs" > "$WORK/list.txt"
N=$(wc -l < "$WORK/list.txt")
IM=$(command -v convert-im6.q16 || command -v magick || command -v convert)

cat > "$WORK/pillow_draft.py" <<'PY'
import math, os, sys
from multiprocessing import Pool
from PIL import Image
def one(a):
    out, f = a
    s = os.path.splitext(os.path.basename(f))[0]
    img = Image.open(f); W, H = img.size
    img.draft("RGB", (200, math.ceil(200 * H / W)))
    img = img.convert("RGB") if img.mode not in ("RGB", "L") else img
    for w in (32, 64, 200):
        img.resize((w, int(H * w / W)), Image.LANCZOS).save(f"{out}/{s}_{w}.jpg", quality=75)
procs, out, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
jobs = [(out, f) for f in files]
if procs == 1:
    for j in jobs: one(j)
else:
    with Pool(procs) as p: list(p.imap_unordered(one, jobs, chunksize=1))
PY
cat > "$WORK/vips3.sh" <<'SH'
#!/bin/sh
out=$1; shift
for w in 200 64 32; do vipsthumbnail -s "${w}x" -o "$out/%s_${w}.jpg[Q=75]" "$@" 2>/dev/null; done
SH
cat > "$WORK/im3.sh" <<SH
#!/bin/sh
out=\$1; f=\$2; s=\$(basename "\${f%.*}")
"$IM" -define jpeg:size=200x200 "\$f" -quality 75 \\( +clone -thumbnail 200x -write "\$out/\${s}_200.jpg" +delete \\) \\
  \\( +clone -thumbnail 64x -write "\$out/\${s}_64.jpg" +delete \\) -thumbnail 32x "\$out/\${s}_32.jpg"
SH
chmod +x "$WORK/vips3.sh" "$WORK/im3.sh"

cd "$WORK/jpegs"
O="$WORK/out"
X="xargs -d '\\n' -a $WORK/list.txt"
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/compare.json" \
  --export-markdown "$WORK/compare.md" \
  -n "thumbnail-maker -t 1" "$TM -q --force -t 1 -o $O/tm1 ." \
  -n "thumbnail-maker -t 2" "$TM -q --force -t 2 -o $O/tm2 ." \
  -n "thumbnail-maker --sequential" "$TM -q --force --sequential -o $O/tmseq ." \
  -n "pillow-draft-1p" "mkdir -p $O/pd1 && $X python3 $WORK/pillow_draft.py 1 $O/pd1" \
  -n "pillow-draft-2p" "mkdir -p $O/pd2 && $X python3 $WORK/pillow_draft.py 2 $O/pd2" \
  -n "vips-2p" "mkdir -p $O/v2 && $X -P2 -n4 env VIPS_CONCURRENCY=1 $WORK/vips3.sh $O/v2" \
  -n "im-hint-2p" "mkdir -p $O/im2 && $X -P2 -n1 env MAGICK_THREAD_LIMIT=1 $WORK/im3.sh $O/im2" \
  -n "djpeg-scale8-1p" "$X -n1 djpeg -scale 1/8 -outfile /dev/null" \
  -n "djpeg-scale8-2p" "$X -P2 -n1 djpeg -scale 1/8 -outfile /dev/null"
echo "$N JPEGs; results in $WORK/compare.md"
