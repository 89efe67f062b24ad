#!/usr/bin/env bash
# Predict benchmark: `atelier-trainer predict --data ... --out rows.jsonl` against
# PyTorch eager on the same model.pt and shards (torch_predict.py), with
# samples/s, CPU seconds per sample (user + sys) and peak RSS from /usr/bin/time.
#
# Synthetic set: the first N images of Fashion-MNIST's t10k file (Debian's
# dataset-fashion-mnist), imported as PNG shards; the model: small-cnn trained
# for one epoch on them (the weights do not matter for speed).
#
# usage: bench/predict/run_bench.sh BUILD_DIR [WORK_DIR]
#   env: N (2000), THREADS (2), DECODE_THREADS (2), BATCH (64), WIDTH (48)
# A small run (shared machines): N=2000 THREADS=1 DECODE_THREADS=1 bench/predict/run_bench.sh build
# The issue's: N=100000 (t10k, then Fashion-MNIST's training file as often as needed)
# on an otherwise idle machine.
set -euo pipefail
BUILD=${1:?usage: run_bench.sh BUILD_DIR [WORK_DIR]}
WORK=${2:-$(mktemp -d /tmp/atelier-predict-bench-XXXXXX)}
N=${N:-2000}
THREADS=${THREADS:-2}
DECODE_THREADS=${DECODE_THREADS:-2}
BATCH=${BATCH:-64}
WIDTH=${WIDTH:-48}
HERE=$(cd "$(dirname "$0")" && pwd)
TRAINER="$BUILD/bin/atelier-trainer"
FM=/usr/share/datasets/fashion-mnist
mkdir -p "$WORK"
echo "work dir: $WORK"

report() {  # name, log of /usr/bin/time -v
  awk -v name="$1" -v n="$N" -F': ' '
    /User time/ {u=$2} /System time/ {s=$2} /Elapsed \(wall clock\)/ {w=$2}
    /Maximum resident set size/ {r=$2}
    END {
      k = split(w, t, ":"); secs = 0; for (i = 1; i <= k; i++) secs = secs * 60 + t[i];
      printf "%-16s %8d samples  %8.1f samples/s  %8.3f CPU-ms/sample  peak RSS %6.0f MiB  (wall %.2fs)\n",
             name, n, n / secs, 1000 * (u + s) / n, r / 1024, secs }' "$2"
}

if [ ! -d "$WORK/data/shards" ]; then
  # The t10k file first, then as many passes over the 60k training file (under
  # other key prefixes) as N needs: N=100000 is t10k + train + 30k of train again.
  left=$N pass=0
  for images in t10k train train train; do
    [ "$left" -gt 0 ] || break
    [ "$images" = t10k ] && take=10000 || take=60000
    [ "$left" -lt "$take" ] && take=$left
    "$TRAINER" import idx --images "$FM/$images-images-idx3-ubyte.gz" --labels "$FM/$images-labels-idx1-ubyte.gz" \
      --head item --key-prefix "bench$pass" --limit "$take" --shard-size 1000 --data "$WORK/data" >/dev/null
    left=$(( left - take )) pass=$(( pass + 1 ))
  done
fi
if [ ! -f "$WORK/run/model.pt" ]; then
  "$TRAINER" train --data "$WORK/data" --out "$WORK/run" --image-size 28 --width "$WIDTH" --depth 3 \
    --epochs 1 --batch-size 128 --val-ratio 0 --test-ratio 0 --threads "$THREADS" --decode-threads 2 \
    --no-augment --plain >/dev/null 2>&1
fi

echo "== atelier-trainer predict --data (decode + model + JSONL rows)"
/usr/bin/time -v "$TRAINER" predict --checkpoint "$WORK/run/model.pt" --data "$WORK/data" \
  --out "$WORK/atelier.jsonl" --threads "$THREADS" --decode-threads "$DECODE_THREADS" --batch-size "$BATCH" \
  --progress 2>"$WORK/atelier.time"
grep '^predict: ' "$WORK/atelier.time" | tail -n 2  # the progress line's last reports (rate, ETA)
report atelier "$WORK/atelier.time"

echo "== PyTorch eager (torch_predict.py: tarfile + PIL decoding + model + JSONL rows)"
/usr/bin/time -v /usr/bin/python3 "$HERE/torch_predict.py" "$WORK/run/model.pt" "$WORK/data/shards" \
  --batch "$BATCH" --threads "$THREADS" --out "$WORK/torch.jsonl" 2>"$WORK/torch.time" | tee "$WORK/torch.json"
report pytorch "$WORK/torch.time"

# The same predicted classes on both sides.
/usr/bin/python3 - "$WORK/atelier.jsonl" "$WORK/torch.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
t = [json.loads(l) for l in open(sys.argv[2])]
same = sum(1 for x, y in zip(a, t) if x["key"] == y["key"] and x["heads"]["item"]["class"] == y["item"])
print(f"same class on {same}/{len(a)} samples")
PY
