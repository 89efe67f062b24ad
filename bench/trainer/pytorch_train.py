"""PyTorch eager competitor for the trainer benchmark.

Trains bench/trainer/atelier_model.py's Classifier (the same architecture as
atelier-trainer) on Fashion-MNIST IDX files with the same batch size, thread
count, optimizer (AdamW, decay on conv/linear weights only), warm-up + cosine
schedule, label smoothing and gradient clipping, without augmentation, and
prints the training images/s (time spent in training steps) as JSON.

usage: /usr/bin/python3 pytorch_train.py IMAGES.gz LABELS.gz --epochs 1 --batch-size 128 --threads 2
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import atelier_model  # noqa: E402


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("images")
    p.add_argument("labels")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx(args.images)
    labels = read_idx(args.labels).long()
    n = images.shape[0]
    model = atelier_model.Classifier(1, args.width, args.depth, 0.2, True, [10])
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr)
    steps_per_epoch = n // args.batch_size
    total = steps_per_epoch * args.epochs
    warmup = steps_per_epoch

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        t = min(1.0, (step - warmup) / max(1, total - warmup))
        return 1e-5 + 0.5 * (args.lr - 1e-5) * (1 + math.cos(math.pi * t))

    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    step, seconds, seen = 0, 0.0, 0
    model.train()
    for epoch in range(args.epochs):
        order = torch.randperm(n)
        for b in range(steps_per_epoch):
            start = time.perf_counter()
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            x = images[idx].unsqueeze(1).float().div_(255.0)
            y = labels[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            opt.zero_grad(set_to_none=False)
            logits = model(x)
            loss = loss_fn(logits[0], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss.item()
            seconds += time.perf_counter() - start
            seen += x.shape[0]
            step += 1
    print(json.dumps({"images_per_s": seen / seconds, "images": seen, "seconds": seconds,
                      "threads": args.threads, "batch_size": args.batch_size}))


if __name__ == "__main__":
    main()
