#!/usr/bin/env bash
# Trainer benchmark: Fashion-MNIST (Debian's dataset-fashion-mnist) imported
# with `atelier-trainer import idx`; training throughput of atelier-trainer and
# of PyTorch eager (same architecture, batch size, threads; no augmentation on
# either side; THROUGHPUT_EPOCHS over the 10k t10k images, to keep it short)
# in the same run, with peak RSS; then (unless QUICK=1) the
# 15-epoch accuracy run on the 60k training images, evaluated on the 10k test
# images.
#
# usage: bench/trainer/run_bench.sh BUILD_DIR [WORK_DIR]
#   env: THREADS (2), BATCH (128), WIDTH (48), EPOCHS (15), THROUGHPUT_EPOCHS (1), ROUNDS (3), QUICK (0)
set -euo pipefail
BUILD=${1:?usage: run_bench.sh BUILD_DIR [WORK_DIR]}
WORK=${2:-$(mktemp -d /tmp/atelier-trainer-bench-XXXXXX)}
THREADS=${THREADS:-2}
BATCH=${BATCH:-128}
WIDTH=${WIDTH:-48}
EPOCHS=${EPOCHS:-15}
THROUGHPUT_EPOCHS=${THROUGHPUT_EPOCHS:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
TRAINER="$BUILD/bin/atelier-trainer"
FM=/usr/share/datasets/fashion-mnist
NAMES="T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
mkdir -p "$WORK"
echo "work dir: $WORK"

peak_rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f MiB", $2/1024}' "$1"; }

if [ ! -d "$WORK/train/shards" ]; then
  "$TRAINER" import idx --images $FM/train-images-idx3-ubyte.gz --labels $FM/train-labels-idx1-ubyte.gz \
    --head item --class-names "$NAMES" --key-prefix train --data "$WORK/train"
  "$TRAINER" import idx --images $FM/t10k-images-idx3-ubyte.gz --labels $FM/t10k-labels-idx1-ubyte.gz \
    --head item --class-names "$NAMES" --key-prefix test --data "$WORK/test"
fi

COMMON=(--image-size 28 --width "$WIDTH" --depth 3 --batch-size "$BATCH" --lr 0.003
        --warmup-epochs 1 --val-ratio 0 --test-ratio 0 --threads "$THREADS" --decode-threads 2 --plain)

# Throughput: ROUNDS alternating runs of each side (atelier, PyTorch, atelier,
# ...), so that a slow phase of a shared machine hits both; min/median/max of
# each side and the ratio of the medians.
ROUNDS=${ROUNDS:-3}
: > "$WORK/tp-rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  echo "== throughput round $round/$ROUNDS: atelier-trainer, $THROUGHPUT_EPOCHS epoch(s), no augmentation"
  rm -rf "$WORK/tp-atelier"
  /usr/bin/time -v -o "$WORK/tp-atelier-$round.time" "$TRAINER" train --data "$WORK/test" "${COMMON[@]}" \
    --out "$WORK/tp-atelier" --epochs "$THROUGHPUT_EPOCHS" --no-augment > "$WORK/tp-atelier-$round.log" 2>&1
  ATELIER_IPS=$(/usr/bin/python3 -c "import json,sys; r=[json.loads(l) for l in open('$WORK/tp-atelier/metrics.jsonl')]; print(sum(x['images_per_s']*x['seconds'] for x in r)/sum(x['seconds'] for x in r))")
  echo "== throughput round $round/$ROUNDS: PyTorch eager, same model/batch/threads"
  /usr/bin/time -v -o "$WORK/tp-torch-$round.time" /usr/bin/python3 "$HERE/pytorch_train.py" \
    $FM/t10k-images-idx3-ubyte.gz $FM/t10k-labels-idx1-ubyte.gz --epochs "$THROUGHPUT_EPOCHS" \
    --batch-size "$BATCH" --threads "$THREADS" --width "$WIDTH" > "$WORK/tp-torch.json"
  TORCH_IPS=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/tp-torch.json'))['images_per_s'])")
  printf "round %d: atelier-trainer %.0f img/s (peak RSS %s), PyTorch eager %.0f img/s (peak RSS %s)\n" "$round" \
    "$ATELIER_IPS" "$(peak_rss "$WORK/tp-atelier-$round.time")" "$TORCH_IPS" "$(peak_rss "$WORK/tp-torch-$round.time")"
  echo "$ATELIER_IPS $TORCH_IPS" >> "$WORK/tp-rounds.txt"
done
/usr/bin/python3 - "$WORK/tp-rounds.txt" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
for name, values in (("atelier-trainer", [r[0] for r in rows]), ("PyTorch eager", [r[1] for r in rows])):
    print("%-16s img/s min %.0f  median %.0f  max %.0f" % (name + ":", min(values), statistics.median(values), max(values)))
a = statistics.median(r[0] for r in rows)
t = statistics.median(r[1] for r in rows)
print("ratio of medians atelier/PyTorch: %.2fx; per round: %s" % (a / t, ", ".join("%.2fx" % (r[0] / r[1]) for r in rows)))
PY

if [ "${QUICK:-0}" = 1 ]; then exit 0; fi
echo "== accuracy: $EPOCHS epochs on 60k, evaluated on the 10k test images"
rm -rf "$WORK/run"
/usr/bin/time -v -o "$WORK/run.time" "$TRAINER" train --data "$WORK/train" "${COMMON[@]}" --out "$WORK/run" --epochs "$EPOCHS" \
  --no-rotate --min-crop-area 0.8 --cache "$WORK/cache" > "$WORK/run.log" 2>&1
"$TRAINER" evaluate --checkpoint "$WORK/run/model.pt" --data "$WORK/test" --json > "$WORK/test-eval.json"
/usr/bin/python3 -c "import json; r=json.load(open('$WORK/test-eval.json')); print('test accuracy: %.4f on %d images' % (r['heads']['item']['accuracy'], r['samples']))"
echo "peak RSS of the 15-epoch run: $(peak_rss "$WORK/run.time")"
