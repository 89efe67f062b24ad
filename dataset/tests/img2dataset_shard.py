#!/usr/bin/env python3
"""Writes a WebDataset shard the way img2dataset does (webdataset's TarWriter on
Python's tarfile: pax format, float mtimes, so a pax header before each member).

    img2dataset_shard.py OUT.tar                      # 6 varied samples, fake image bytes
    img2dataset_shard.py OUT.tar IMAGE=CLASS ...      # one sample per image file

Each sample: <key>.jpg (or another image extension), <key>.json with
img2dataset's fields (url, caption, key, status, error_message, width, height,
original_width, original_height, exif, sha256 of the *downloaded* bytes, so not
of the stored image) plus the additional column "style", <key>.txt (the
caption) and <key>.cls (the class index). The varied set also has members in
other orders, a key under a directory with a dot, a two-dot extension, a
.jpeg upper-case extension, a pax long name, a directory entry and a
__metadata__ entry, all as real WebDatasets may have them.
"""
import hashlib
import io
import json
import sys
import tarfile
import time


def add(tar, name, data, mtime):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = 0o444
    info.uname = info.gname = "bigdata"
    tar.addfile(info, io.BytesIO(data))


def meta(key, index, style, width=256, height=256):
    downloaded = b"original download %d" % index
    return {
        "url": "https://example.org/images/%d.jpg" % index,
        "caption": "a painting number %d" % index,
        "key": key,
        "status": "success",
        "error_message": None,
        "width": width,
        "height": height,
        "original_width": 640,
        "original_height": 480,
        "exif": "{}",
        "sha256": hashlib.sha256(downloaded).hexdigest(),
        "style": style,
    }


def sample_members(key, index, style, cls, image, ext="jpg"):
    m = meta(key, index, style)
    return {
        ext: image,
        "json": json.dumps(m).encode(),
        "txt": m["caption"].encode(),
        "cls": b"%d\n" % cls,
    }


def fake_image(ext, index):
    magic = {"jpg": b"\xff\xd8\xff\xe0", "jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n",
             "webp": b"RIFF\x00\x00\x00\x00WEBP"}[ext.lower()]
    return magic + bytes((index * 7 + i) % 256 for i in range(300 + 97 * index))


def write_varied(tar, mtime):
    styles = ["impressionism", "cubism", "baroque"]
    add(tar, "__index__", b"not a sample", mtime)
    orders = [["jpg", "json", "txt", "cls"], ["json", "txt", "cls", "jpg"], ["cls", "jpg", "txt", "json"]]
    for index in range(3):
        key = "%09d" % index
        members = sample_members(key, index, styles[index], index, fake_image("jpg", index))
        for ext in orders[index]:
            add(tar, key + "." + ext, members[ext], mtime)
    directory = tarfile.TarInfo("part.v1")
    directory.type = tarfile.DIRTYPE
    directory.mtime = mtime
    tar.addfile(directory)
    key = "part.v1/%09d" % 3
    members = sample_members(key, 3, styles[0], 0, fake_image("jpeg", 3))
    add(tar, key + ".JPEG", members["jpg"], mtime)
    for ext in ["json", "txt", "cls"]:
        add(tar, key + "." + ext, members[ext], mtime)
    key = "%09d" % 4
    members = sample_members(key, 4, styles[1], 1, fake_image("webp", 4), ext="webp")
    members["seg.png"] = fake_image("png", 40)
    for ext in ["webp", "seg.png", "json", "txt", "cls"]:
        add(tar, key + "." + ext, members[ext], mtime)
    key = "deep/" + "d" * 120 + "/%09d" % 5
    members = sample_members(key, 5, styles[2], 2, fake_image("png", 5), ext="png")
    for ext in ["png", "json", "txt", "cls"]:
        add(tar, key + "." + ext, members[ext], mtime)


def write_files(tar, mtime, pairs):
    classes = sorted({cls for _, cls in pairs})
    for index, (path, cls) in enumerate(pairs):
        key = "%09d" % index
        with open(path, "rb") as f:
            image = f.read()
        ext = path.rsplit(".", 1)[-1].lower()
        members = sample_members(key, index, cls, classes.index(cls), image, ext=ext)
        for ext_name in [ext, "json", "txt", "cls"]:
            add(tar, key + "." + ext_name, members[ext_name], mtime)


def main():
    out = sys.argv[1]
    pairs = [arg.rsplit("=", 1) for arg in sys.argv[2:]]
    mtime = time.time()  # a float: tarfile writes a pax header per member, as webdataset's TarWriter does
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        if pairs:
            write_files(tar, mtime, pairs)
        else:
            write_varied(tar, mtime)


if __name__ == "__main__":
    main()
