#!/usr/bin/python3
"""The PIL competitor: decode, centre-crop-resize to SIZE (shorter side, then crop),
re-encode as JPEG (quality 90) every file in DIR, in one process. Prints items/s."""
import os
import sys
import time
from io import BytesIO

from PIL import Image

src, size = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(src, f) for f in os.listdir(src))
t0 = time.perf_counter()
n = 0
for path in files:
    with open(path, "rb") as f:
        data = f.read()
    im = Image.open(BytesIO(data))
    im.draft("RGB", (size, size))  # libjpeg scaled decoding, as the crawler does
    im = im.convert("RGB")
    w, h = im.size
    s = size / min(w, h)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    im = im.resize((nw, nh), Image.LANCZOS)
    left, top = (nw - size) // 2, (nh - size) // 2
    im = im.crop((left, top, left + size, top + size))
    out = BytesIO()
    im.save(out, "JPEG", quality=90)
    n += 1
dt = time.perf_counter() - t0
print(f"items={n} seconds={dt:.3f} items_per_s={n / dt:.1f}")
