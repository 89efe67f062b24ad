#!/usr/bin/python3
"""Writes N real JPEG photos-like images (gradients + noise, 500..1000 px) to DIR."""
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

out_dir, count = sys.argv[1], int(sys.argv[2])
random.seed(1)
bases = []
for b in range(16):
    w, h = random.randint(500, 1000), random.randint(400, 900)
    im = Image.effect_noise((w, h), 40).convert("RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(30):
        x0, y0 = random.randint(0, w), random.randint(0, h)
        draw.ellipse([x0, y0, x0 + random.randint(20, 300), y0 + random.randint(20, 300)],
                     fill=(random.randint(0, 255), random.randint(0, 255), random.randint(0, 255)))
    bases.append(im.filter(ImageFilter.GaussianBlur(1)))
for i in range(count):
    im = bases[i % len(bases)]
    if i >= len(bases):
        im = im.rotate(i % 360, expand=False)
    im.save(f"{out_dir}/img{i:05d}.jpg", quality=random.choice([80, 85, 90, 95]),
            progressive=(i % 5 == 0))
