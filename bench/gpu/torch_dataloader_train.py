"""PyTorch competitor for the GPU trainer benchmark (bench/gpu/run_gpu_bench.sh).

Trains bench/trainer/atelier_model.py's Classifier (atelier's architecture) on
an atelier dataset root (WebDataset shards: <key>.<jpg|png|webp> + <key>.json)
the way a PyTorch user would: a map-style Dataset over the shards' members,
torch.utils.data.DataLoader with worker processes and pinned memory, PIL
decoding and torchvision transforms (square centre crop to the training size,
then RandomResizedCrop + RandomHorizontalFlip + RandomRotation, as atelier's
augmentation), channels_last, bf16 autocast, AdamW, one cross-entropy per head.

Prints one JSON line per epoch: {"epoch", "images", "seconds", "images_per_s"}
(wall time of the epoch's training loop, data waits included).

usage: python3 torch_dataloader_train.py DATA_ROOT --image-size 128 --batch-size 256 --epochs 2 --workers 14
"""
import argparse
import io
import json
import os
import sys
import tarfile
import time

import torch
from PIL import Image
from torchvision import transforms as T

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trainer"))
import atelier_model  # noqa: E402

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


def index_shards(root):
    """[(tar path, offset, size, labels dict)] for every sample with an image."""
    samples, shard_dir = [], os.path.join(root, "shards")
    for name in sorted(os.listdir(shard_dir)):
        if not name.endswith(".tar"):
            continue
        path = os.path.join(shard_dir, name)
        images, labels = {}, {}
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                key, ext = os.path.splitext(m.name)
                if ext.lower() in IMAGE_EXTS:
                    images[key] = (m.offset_data, m.size)
                elif ext == ".json":
                    labels[key] = json.load(tar.extractfile(m)).get("labels", {})
        for key, (offset, size) in images.items():
            samples.append((path, offset, size, labels.get(key, {})))
    return samples


class ShardDataset(torch.utils.data.Dataset):
    def __init__(self, samples, heads, classes, transform):
        self.samples, self.heads, self.classes, self.transform = samples, heads, classes, transform
        self.files = {}  # per worker process: open shard files

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, offset, size, labels = self.samples[i]
        f = self.files.get(path)
        if f is None:
            f = self.files[path] = open(path, "rb")
        f.seek(offset)
        image = Image.open(io.BytesIO(f.read(size))).convert("RGB")
        target = [self.classes[h].get(labels.get(h), -1) for h in self.heads]
        return self.transform(image), torch.tensor(target, dtype=torch.int64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", default="cuda")
    args = p.parse_args()

    samples = index_shards(args.data)
    heads = sorted({h for s in samples for h in s[3]})
    classes = {h: {c: i for i, c in enumerate(sorted({s[3][h] for s in samples if h in s[3]}))} for h in heads}
    s = args.image_size
    transform = T.Compose([
        T.Resize(s), T.CenterCrop(s),  # atelier stores/decodes square centre crops at the training size
        T.RandomResizedCrop(s, scale=(0.6, 1.0), ratio=(1.0, 1.0), antialias=True),
        T.RandomHorizontalFlip(),
        T.RandomRotation(10, interpolation=T.InterpolationMode.BILINEAR),
        T.ToTensor(),
    ])
    loader = torch.utils.data.DataLoader(
        ShardDataset(samples, heads, classes, transform), batch_size=args.batch_size, shuffle=True,
        num_workers=args.workers, pin_memory=args.device.startswith("cuda"), drop_last=True,
        persistent_workers=args.workers > 0, prefetch_factor=4 if args.workers > 0 else None)

    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    model = atelier_model.Classifier(3, args.width, args.depth, 0.2, True, [len(classes[h]) for h in heads]).to(device)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr)
    ce = torch.nn.CrossEntropyLoss(ignore_index=-1, label_smoothing=0.1)
    amp = args.precision == "bf16"
    for epoch in range(args.epochs):
        model.train()
        images, start = 0, time.perf_counter()
        for x, y in loader:
            x = x.to(device, non_blocking=True).contiguous(memory_format=memory_format)
            y = y.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
                loss = sum(ce(logits[h], y[:, h]) for h in range(len(heads)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            images += x.shape[0]
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch + 1, "images": images, "seconds": seconds,
                          "images_per_s": images / seconds}), flush=True)


if __name__ == "__main__":
    main()
