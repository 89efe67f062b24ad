"""Fashion-MNIST subsets for the transfer experiment (IDX files, gzip).

usage: make_subsets.py SRC_DIR OUT_DIR PER_CLASS

pretrain-*: every training image of classes 0-4; few-*: the first PER_CLASS
training images of each class 5-9; test-*: every test image of classes 5-9.
Labels keep their Fashion-MNIST values.
"""
import gzip
import os
import struct
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def write_idx(path, shape, items, item_bytes, code):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, len(shape)]))
        f.write(struct.pack(">" + "I" * len(shape), len(items), *shape[1:]))
        for item in items:
            f.write(item)


def subset(src, out, split, name, keep):
    ishape, images = read_idx(os.path.join(src, f"{split}-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(src, f"{split}-labels-idx1-ubyte.gz"))
    size = ishape[1] * ishape[2]
    chosen = keep(labels)
    write_idx(os.path.join(out, f"{name}-images.gz"), ishape, [images[i * size:(i + 1) * size] for i in chosen],
              size, 0x08)
    write_idx(os.path.join(out, f"{name}-labels.gz"), (len(chosen),), [labels[i:i + 1] for i in chosen], 1, 0x08)
    print(name, len(chosen))


def main():
    src, out, per_class = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    subset(src, out, "train", "pretrain", lambda l: [i for i, c in enumerate(l) if c < 5])

    def few(labels):
        counts, chosen = {}, []
        for i, c in enumerate(labels):
            if c >= 5 and counts.get(c, 0) < per_class:
                counts[c] = counts.get(c, 0) + 1
                chosen.append(i)
        return chosen

    subset(src, out, "train", "few", few)
    subset(src, out, "t10k", "test", lambda l: [i for i, c in enumerate(l) if c >= 5])


if __name__ == "__main__":
    main()
