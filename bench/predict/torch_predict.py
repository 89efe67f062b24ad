#!/usr/bin/python3
"""PyTorch side of the predict benchmark: the same model.pt (bench/trainer/atelier_model.py),
the same shards, one pass in batches, eager mode, no gradients.

usage: torch_predict.py MODEL.pt SHARD_DIR [--batch N] [--threads N] [--out rows.jsonl]

Decoding: PIL (python3-pil) when it is there, else the minimal decoder below (zlib +
PNG filters; 8-bit grey / RGB, not interlaced), which is all `atelier import idx`
writes. The images must already be the model's size
(no resize), which holds for the synthetic set run_bench.sh makes. Prints one JSON line:
{"samples", "seconds", "samples_per_s", "model_seconds" (forward passes only)}.
"""
import argparse
import json
import os
import struct
import sys
import tarfile
import time
import io
import zlib

import torch

try:
    from PIL import Image
except ImportError:  # the pure-Python decoder below
    Image = None

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trainer"))
from atelier_model import load_model  # noqa: E402


def decode_png(data):
    if Image is not None:
        img = Image.open(io.BytesIO(data))
        img = img.convert("L" if img.mode in ("L", "1", "P") else "RGB")
        t = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
        return t.view(img.height, img.width, 1 if img.mode == "L" else 3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, [], 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (0, 2) and interlace == 0, "unsupported PNG"
            channels = 1 if colour == 0 else 3
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return torch.frombuffer(bytes(out), dtype=torch.uint8).view(height, width, channels)


def samples(shard_dir):
    for name in sorted(os.listdir(shard_dir)):
        if not name.endswith(".tar"):
            continue
        with tarfile.open(os.path.join(shard_dir, name)) as tar:
            for member in tar:
                if member.name.endswith(".png"):
                    yield member.name[:-4], tar.extractfile(member).read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("shards")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, cfg = load_model(args.model)
    channels = cfg["in_channels"]
    heads = cfg["heads"]
    out = open(args.out, "w") if args.out else None
    start = time.time()
    n = 0
    keys, batch = [], []
    model_seconds = [0.0]

    def flush():
        x = torch.stack(batch).permute(0, 3, 1, 2).float().div_(255.0)
        t0 = time.time()
        with torch.no_grad():
            logits = model(x)
        model_seconds[0] += time.time() - t0
        if out:
            probs = [torch.softmax(l.double(), 1) for l in logits]
            for i, k in enumerate(keys):
                row = {"key": k}
                for h, name in enumerate(heads):
                    p = probs[h][i]
                    row[name] = cfg["classes"][name][int(p.argmax())]
                out.write(json.dumps(row) + "\n")
        keys.clear()
        batch.clear()

    for key, data in samples(args.shards):
        img = decode_png(data)
        if img.shape[2] != channels:
            img = img.float().mean(2, keepdim=True).round().to(torch.uint8) if channels == 1 else img.expand(-1, -1, 3)
        keys.append(key)
        batch.append(img)
        n += 1
        if len(batch) == args.batch:
            flush()
    if batch:
        flush()
    seconds = time.time() - start
    print(json.dumps({"samples": n, "seconds": round(seconds, 3), "samples_per_s": round(n / seconds, 1),
                      "model_seconds": round(model_seconds[0], 3)}))


if __name__ == "__main__":
    main()
