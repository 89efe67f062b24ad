#!/usr/bin/env bash
# GPU trainer benchmark (issue #6): atelier-trainer --device cuda against PyTorch
# in Python (DataLoader workers + PIL + torchvision transforms), same machine,
# same model (bench/trainer/atelier_model.py), batch size, precision (bf16
# autocast), channels_last and augmentation, side by side in one run.
# Reports images/s of the last epoch of each and the GPU busy fraction
# (nvidia-smi utilization.gpu sampled every 100 ms over that epoch's run,
# i.e. the share of time a kernel was running).
#
# usage: bench/gpu/run_gpu_bench.sh CUDA_BUILD_DIR DATA_ROOT [WORK_DIR]
#   CUDA_BUILD_DIR: a build with -DATELIER_CUDA=ON (docs/gpu.md)
#   DATA_ROOT: an atelier dataset root with >= 50k real images (e.g.
#     bench/gpu/make_dataset.sh's Fashion-MNIST import)
#   env: BATCH (256), WIDTH (64), DEPTH (4), SIZE (128), EPOCHS (3), WORKERS (nproc-2)
set -euo pipefail
BUILD=${1:?usage: run_gpu_bench.sh CUDA_BUILD_DIR DATA_ROOT [WORK_DIR]}
DATA=${2:?usage: run_gpu_bench.sh CUDA_BUILD_DIR DATA_ROOT [WORK_DIR]}
WORK=${3:-$(mktemp -d /tmp/atelier-gpu-bench-XXXXXX)}
BATCH=${BATCH:-256}; WIDTH=${WIDTH:-64}; DEPTH=${DEPTH:-4}; SIZE=${SIZE:-128}; EPOCHS=${EPOCHS:-3}
WORKERS=${WORKERS:-$(( $(nproc) > 2 ? $(nproc) - 2 : 1 ))}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)'

# Runs "$@" while sampling GPU utilization into $WORK/$1.util (one % per line).
sampled() {
  local name=$1; shift
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 100 > "$WORK/$name.util" &
  local sampler=$!
  /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.log" || { kill $sampler; cat "$WORK/$name.log"; exit 1; }
  kill $sampler; wait $sampler 2>/dev/null || true
}
# Mean utilization over the last 1/EPOCHS of the samples (the measured epoch).
busy() { python3 -c "import sys; v=[float(l) for l in open('$WORK/$1.util') if l.strip()]; t=v[-max(1,len(v)//$EPOCHS):]; print('%.1f' % (sum(t)/len(t)))"; }
peak_rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f MiB", $2/1024}' "$WORK/$1.time"; }

echo "== atelier-trainer: $EPOCHS epochs, --device cuda --precision bf16 --channels-last, packed cache"
rm -rf "$WORK/atelier"
sampled atelier "$BUILD/bin/atelier-trainer" train --data "$DATA" --out "$WORK/atelier" --device cuda \
  --precision bf16 --channels-last --image-size "$SIZE" --channels 3 --width "$WIDTH" --depth "$DEPTH" \
  --batch-size "$BATCH" --epochs "$EPOCHS" --val-ratio 0 --test-ratio 0 --decode-threads "$(nproc)" \
  --cache "$WORK/cache" --plain
ATELIER_IPS=$(python3 -c "import json; r=[json.loads(l) for l in open('$WORK/atelier/metrics.jsonl')]; print(r[-1]['images_per_s'])")

echo "== PyTorch: DataLoader ($WORKERS workers, pinned) + PIL + torchvision transforms, bf16, channels_last"
sampled torch python3 "$HERE/torch_dataloader_train.py" "$DATA" --image-size "$SIZE" --batch-size "$BATCH" \
  --epochs "$EPOCHS" --workers "$WORKERS" --width "$WIDTH" --depth "$DEPTH" --precision bf16 --channels-last
TORCH_IPS=$(tail -1 "$WORK/torch.out" | python3 -c "import json,sys; print(json.load(sys.stdin)['images_per_s'])")

printf "atelier-trainer: %.0f img/s, GPU busy %s%%, peak RSS %s\n" "$ATELIER_IPS" "$(busy atelier)" "$(peak_rss atelier)"
printf "PyTorch:         %.0f img/s, GPU busy %s%%, peak RSS %s\n" "$TORCH_IPS" "$(busy torch)" "$(peak_rss torch)"
python3 -c "print('ratio atelier/PyTorch: %.2fx' % ($ATELIER_IPS / $TORCH_IPS))"
