#!/usr/bin/python3
"""The competitor: how the seeds turn the BAM SQLite into a crawl list.

Reads the whole join into memory with fetchall(), picks the best-scoring
attribute per label family, skips mir-cdn rows, and writes JSON-lines shards
of SHARD_SIZE items (no leases, no state store). Usage:
  naive_ingest.py BAM.sqlite OUT_DIR [SHARD_SIZE]
"""
import json
import os
import sqlite3
import sys
import time

FAMILIES = ["media", "emotion"]


def main():
    db, out = sys.argv[1], sys.argv[2]
    shard_size = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    os.makedirs(out, exist_ok=True)
    start = time.time()
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(scores)")]
    fam_cols = {f: [c for c in cols if c.startswith(f + "_")] for f in FAMILIES}
    wanted = [c for f in FAMILIES for c in fam_cols[f]]
    rows = conn.execute(
        "SELECT m.mid, m.src, " + ", ".join("s." + c for c in wanted) +
        " FROM modules m LEFT JOIN scores s ON s.mid = m.mid ORDER BY m.mid").fetchall()
    items, dead, shard, n_shards = 0, 0, [], 0
    for row in rows:
        mid, src, scores = row[0], row[1], row[2:]
        labels, i = {}, 0
        for f in FAMILIES:
            best = None
            for c in fam_cols[f]:
                v = scores[i]
                i += 1
                if v is not None and (best is None or v > best[0]):
                    best = (v, c[len(f) + 1:])
            if best:
                labels[f] = best[1]
        if not labels:
            continue
        if src.startswith("https://mir-cdn.behance.net/v1/rendition/"):
            dead += 1
            continue
        shard.append({"key": "bam-%d" % mid, "url": src, "labels": labels})
        items += 1
        if len(shard) == shard_size:
            with open(os.path.join(out, "%06d.jsonl" % n_shards), "w") as f:
                f.write("\n".join(json.dumps(x) for x in shard))
            shard, n_shards = [], n_shards + 1
    if shard:
        with open(os.path.join(out, "%06d.jsonl" % n_shards), "w") as f:
            f.write("\n".join(json.dumps(x) for x in shard))
        n_shards += 1
    seconds = time.time() - start
    print(json.dumps({"seconds": seconds, "items": items, "dead": dead, "shards": n_shards}))


if __name__ == "__main__":
    main()
