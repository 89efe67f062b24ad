#!/usr/bin/env bash
# Transfer experiment (offline): pretrain atelier's small CNN on Fashion-MNIST
# classes 0-4, fine-tune it (--init, --freeze-backbone-epochs) on PER_CLASS
# images per class of classes 5-9, and train the same architecture from
# scratch on those images; both are evaluated on every test image of 5-9.
#
# usage: bench/transfer/run_transfer.sh BUILD_DIR [WORK_DIR]
#   env: PER_CLASS (50), PRE_EPOCHS (4), FINE_EPOCHS (30), THREADS (2)
# Needs Debian's dataset-fashion-mnist. Prints one JSON line per model.
set -euo pipefail
build=${1:?usage: run_transfer.sh BUILD_DIR [WORK_DIR]}
work=${2:-$(mktemp -d)}
per_class=${PER_CLASS:-50}
pre_epochs=${PRE_EPOCHS:-4}
fine_epochs=${FINE_EPOCHS:-30}
threads=${THREADS:-2}
here=$(cd "$(dirname "$0")" && pwd)
trainer="$build/bin/atelier-trainer"
names=T-shirt,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle-boot
common=(--image-size 28 --width 32 --depth 3 --threads "$threads" --decode-threads 2 --plain --test-ratio 0)

python3 "$here/make_subsets.py" /usr/share/datasets/fashion-mnist "$work/idx" "$per_class"
for part in pretrain few test; do
  "$trainer" import idx --images "$work/idx/$part-images.gz" --labels "$work/idx/$part-labels.gz" \
    --class-names "$names" --key-prefix "$part" --head item --data "$work/$part" > /dev/null
done

timed() {  # timed NAME CMD...: runs CMD, prints its wall seconds
  local start end
  start=$(date +%s.%N)
  "${@:2}" > "$work/$1.log" 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

pre_s=$(timed pretrain "$trainer" train --data "$work/pretrain" --out "$work/runs/pretrain" "${common[@]}" \
  --epochs "$pre_epochs" --batch-size 128 --val-ratio 0.05)
fine_s=$(timed fine "$trainer" train --data "$work/few" --out "$work/runs/fine" "${common[@]}" \
  --epochs "$fine_epochs" --batch-size 25 --val-ratio 0 --warmup-epochs 2 \
  --init "$work/runs/pretrain/model.pt" --freeze-backbone-epochs 5 --backbone-lr-scale 0.3)
scratch_s=$(timed scratch "$trainer" train --data "$work/few" --out "$work/runs/scratch" "${common[@]}" \
  --epochs "$fine_epochs" --batch-size 25 --val-ratio 0 --warmup-epochs 2)

for run in fine scratch; do
  secs=$([ $run = fine ] && echo "$fine_s" || echo "$scratch_s")
  "$trainer" evaluate --checkpoint "$work/runs/$run/model.pt" --data "$work/test" --json > "$work/$run-eval.json"
  python3 - "$work/$run-eval.json" "$run" "$secs" "$fine_epochs" "$pre_s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"model": sys.argv[2], "test_samples": r["samples"],
                  "test_accuracy": round(r["heads"]["item"]["accuracy"], 4),
                  "epochs": int(sys.argv[4]), "train_seconds": round(float(sys.argv[3]), 1),
                  "pretrain_seconds": round(float(sys.argv[5]), 1) if sys.argv[2] == "fine" else 0}))
PY
done
