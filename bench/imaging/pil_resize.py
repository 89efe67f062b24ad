#!/usr/bin/python3
"""PIL counterpart of bench_imaging_resize: the same files, the same work.

Reads every *.jpg of DIR into memory, then times ROUNDS passes of
Image.open -> (draft, unless --full-decode) -> convert('RGB') ->
ImageOps.fit(size x size, LANCZOS) -> save JPEG quality Q. Single thread.

Rates are images per CPU-second of this process (time.process_time), so
that waiting for a CPU on a shared machine does not count; wall time is
printed too.

draft() is PIL's equivalent of libjpeg DCT-scaled decoding (it picks the
largest 1/2, 1/4, 1/8 scale that keeps the image >= the requested size), so
with it both sides do the same amount of decoding work.
"""
import argparse
import io
import pathlib
import time

from PIL import Image, ImageOps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--full-decode", action="store_true")
    parser.add_argument("--stages", action="store_true", help="also print CPU ms per stage")
    args = parser.parse_args()

    paths = sorted(pathlib.Path(args.input).glob("*.jpg"))
    if not paths:
        raise SystemExit(f"no .jpg files in {args.input}")
    files = [p.read_bytes() for p in paths]
    size = (args.size, args.size)
    out_bytes = 0
    stage = [0.0, 0.0, 0.0]  # CPU seconds: decode, resize, encode
    clock = time.process_time if args.stages else (lambda: 0.0)
    start = time.perf_counter()
    cpu_start = time.process_time()
    for _ in range(args.rounds):
        for data in files:
            t0 = clock()
            image = Image.open(io.BytesIO(data))
            if not args.full_decode:
                image.draft("RGB", size)
            image = image.convert("RGB")
            t1 = clock()
            image = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
            t2 = clock()
            out = io.BytesIO()
            image.save(out, "JPEG", quality=args.quality)
            out_bytes += out.tell()
            t3 = clock()
            stage[0] += t1 - t0
            stage[1] += t2 - t1
            stage[2] += t3 - t2
    cpu_seconds = time.process_time() - cpu_start
    seconds = time.perf_counter() - start
    images = len(files) * args.rounds
    label = "PIL (full decode)" if args.full_decode else "PIL (draft)"
    print(f"{label}: {images} images in {cpu_seconds:.3f} s CPU = {images / cpu_seconds:.1f} images/s per core "
          f"(wall {seconds:.3f} s = {images / seconds:.1f} images/s; {out_bytes / images:.0f} output bytes/image)")
    if args.stages:
        print(f"  CPU per image: decode {stage[0] * 1e3 / images:.2f} ms, resize {stage[1] * 1e3 / images:.2f} ms, "
              f"encode {stage[2] * 1e3 / images:.2f} ms")


if __name__ == "__main__":
    main()
