"""Raw RGBA pixels for the placeholder goldens (scripts/make-placeholder-goldens.mjs).

    python3 scripts/make-placeholder-fixtures.py   # needs Pillow
"""
from pathlib import Path
from PIL import Image

root = Path(__file__).resolve().parent.parent
out = root / "tests" / "fixtures" / "placeholders"
out.mkdir(parents=True, exist_ok=True)


def save(image, name):
    image = image.convert("RGBA")
    (out / f"{name}-{image.width}x{image.height}.rgba").write_bytes(image.tobytes())


photo = Image.open(root / "assets" / "samples" / "friends.jpg").convert("RGB")
photo.thumbnail((100, 100))
save(photo, "friends")
small = photo.copy()
small.thumbnail((32, 32))
save(small, "friends-small")
# A gradient whose alpha falls to zero: ThumbHash then codes alpha too.
fade = Image.new("RGBA", (40, 24))
fade.putdata([(x * 6, 255 - y * 10, 128, 255 - x * 6) for y in range(24) for x in range(40)])
save(fade, "fade")
