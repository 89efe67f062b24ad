#!/bin/bash
# Hyperparameter search at equal total epochs: `atelier sweep` (random sampler,
# ASHA) against Optuna (TPE sampler + median pruner, Debian's python3-optuna)
# driving `atelier train` on the same search space and data. The sweep runs
# first; Optuna then runs trials until they have trained as many epochs in all
# as the sweep's trials did (ASHA-stopped trials count the epochs they ran).
# Prints both best val accuracies (the metric after a trial's last epoch) and
# the epochs each used.
#
# usage: bench/sweep/run_bench.sh BUILD_BIN_DIR WORK_DIR [TRAIN_IMAGES]
#   BUILD_BIN_DIR: where atelier and atelier-trainer are (build/bin)
#   TRAIN_IMAGES: Fashion-MNIST training images imported (default 6000)
set -euo pipefail
bin="$(cd "${1:?usage: run_bench.sh BUILD_BIN_DIR WORK_DIR [TRAIN_IMAGES]}" && pwd)"
work="${2:?usage: run_bench.sh BUILD_BIN_DIR WORK_DIR [TRAIN_IMAGES]}"
images="${3:-6000}"
here="$(cd "$(dirname "$0")" && pwd)"
mnist=/usr/share/datasets/fashion-mnist
mkdir -p "$work"
work="$(cd "$work" && pwd)"

if [ ! -d "$work/data/shards" ]; then
  "$bin/atelier" import idx --images "$mnist/train-images-idx3-ubyte.gz" --labels "$mnist/train-labels-idx1-ubyte.gz" \
    --head garment --limit "$images" --data "$work/data"
fi
cat > "$work/sweep.yaml" <<YAML
data: data
epochs: 9
train: {threads: 2, val-ratio: 0.2}
parameters:
  lr: {log_uniform: [3.0e-4, 1.0e-2]}
  width: {choices: [16, 32, 48]}
  depth: {int: [2, 3]}
  dropout: {uniform: [0.0, 0.4]}
  batch-size: {choices: [64, 128]}
sampler: random
seed: 1
trials: 12
parallel: 1
metric: val_accuracy:garment
asha: {min_epochs: 1, eta: 3}
YAML

start=$(date +%s)
"$bin/atelier" sweep --spec "$work/sweep.yaml" --dir "$work/sweep" | tee "$work/sweep.out"
sweep_s=$(( $(date +%s) - start ))
read -r sweep_best sweep_epochs < <(/usr/bin/python3 - "$work/sweep/sweep.json" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))["trials"]
done = [t for t in trials if t["state"] == "completed" and t["metric"] is not None] or \
       [t for t in trials if t["metric"] is not None]
print(max(t["metric"] for t in done), sum(t["epochs"] for t in trials))
PY
)

start=$(date +%s)
/usr/bin/python3 "$here/optuna_sweep.py" --spec "$work/sweep.yaml" --out "$work/optuna" \
  --total-epochs "$sweep_epochs" --atelier "$bin/atelier" | tee "$work/optuna.json"
optuna_s=$(( $(date +%s) - start ))

echo
echo "| searcher | best val accuracy | total epochs | wall s |"
echo "|---|---|---|---|"
echo "| atelier sweep (random + ASHA) | $sweep_best | $sweep_epochs | $sweep_s |"
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('| Optuna (TPE + median pruner) | %s | %s | %s |' % (r['best_val_accuracy'], r['total_epochs'], sys.argv[2]))" \
  "$work/optuna.json" "$optuna_s"
