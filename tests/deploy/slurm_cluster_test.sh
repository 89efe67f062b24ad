#!/bin/bash
# Acceptance test for deploy/slurm on a real single-node Slurm cluster
# (Debian's slurm-wlm + munge, started by slurm_cluster_lib.sh in a temp dir):
#
#  1. crawl.sbatch (coordinator + 1 crawler task) crawls a URL-list job spec
#     from a loopback origin (python3 -m http.server on 127.0.0.1 serving
#     generated PNGs in two colour classes); the shards must hold every image.
#  2. train.sbatch (CPU variant: 2 tasks, Gloo), submitted with
#     --dependency=afterok on the crawl, trains 2 epochs; the run must end with
#     a checkpoint (checkpoints/latest naming an existing file) and model.pt.
#  3. A second train.sbatch job is interrupted with `scancel --signal=USR1`
#     once it has written a checkpoint; the trainer checkpoints and exits 75,
#     the script requeues the job, and the requeued run must log that it
#     resumed from exactly the checkpoint written on the signal and go on to
#     write a later one.
#
# Usage: ATELIER_BIN_DIR=build/bin tests/deploy/slurm_cluster_test.sh
# Needs root (slurmd), slurm-wlm and munge (scripts/install-deps.sh), and the
# binaries atelier, atelier-coordinator, atelier-crawler, atelier-status and
# atelier-trainer in ATELIER_BIN_DIR. Set ATELIER_KEEP_TMP=1 to keep the temp
# dir. Everything runs on 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/deploy/slurm_cluster_lib.sh
source "$here/slurm_cluster_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

bin="${ATELIER_BIN_DIR:?set ATELIER_BIN_DIR to the bin directory of a build}"
bin="$(cd "$bin" && pwd)"
for exe in atelier atelier-coordinator atelier-crawler atelier-status atelier-trainer; do
  [ -x "$bin/$exe" ] || fail "$bin/$exe is missing (build it; atelier-trainer needs -DATELIER_BUILD_TRAINER=ON)"
done
export ATELIER="$bin/atelier"
# The CPU variant names its device when the trainer has the option (it
# defaults to auto, which is the CPU on this machine).
train_help="$("$bin/atelier-trainer" train --help 2>&1 || true)"
if [[ "$train_help" == *--device* ]]; then
  export ATELIER_DEVICE=cpu
else
  unset ATELIER_DEVICE
fi
export PATH="$bin:$PATH"

work="$(mktemp -d /tmp/atelier-slurm-test.XXXXXX)"
chmod 755 "$work"
origin_pid=""
cleanup() {
  local code=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ]; then scancel --full --user="$(id -un)" >/dev/null 2>&1; fi
  slurm_cluster_stop
  if [ -n "$origin_pid" ]; then kill "$origin_pid" 2>/dev/null; wait "$origin_pid" 2>/dev/null; fi
  if [ "$code" -ne 0 ]; then
    echo "---- job logs and daemon logs ($work) ----" >&2
    for f in "$work"/*.out "$work"/cluster/log/slurmctld.log "$work"/cluster/log/slurmd.log; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -n 60 "$f" >&2; }
    done
  fi
  if [ "${ATELIER_KEEP_TMP:-0}" = 1 ]; then
    echo "kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$code"
}
trap cleanup EXIT

echo "== starting Slurm in $work/cluster"
slurm_cluster_start "$work/cluster"
sinfo -N

echo "== loopback origin"
mkdir -p "$work/origin"
/usr/bin/python3 - "$work/origin" <<'PY'
import random, sys
from PIL import Image
out = sys.argv[1]
rng = random.Random(7)
for cls, base in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
    for i in range(24):
        img = Image.new("RGB", (40, 40))
        img.putdata([tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in base)
                     for _ in range(40 * 40)])
        img.save(f"{out}/{cls}-{i:02d}.png")
PY
origin_port="$(slurm_cluster_free_port)"
/usr/bin/python3 -m http.server "$origin_port" --bind 127.0.0.1 --directory "$work/origin" \
  >"$work/origin.log" 2>&1 &
origin_pid=$!
slurm_cluster_wait_for 20 curl -sf "http://127.0.0.1:$origin_port/red-00.png" -o /dev/null \
  || fail "origin did not start"
{
  echo "url,color"
  for f in "$work"/origin/*.png; do
    name="$(basename "$f")"
    echo "http://127.0.0.1:$origin_port/$name,${name%%-*}"
  done
} >"$work/urls.csv"
n_images="$(find "$work/origin" -name '*.png' | wc -l)"
cat >"$work/job.yaml" <<YAML
name: slurm-test
dataset: $work/data
shard_size: 16
sources:
  - urls: {file: $work/urls.csv}
crawl:
  resize: {mode: center_crop, size: 32}
  per_host: {concurrency: 8, requests_per_second: 500}
  lease_ttl_s: 20
  allow_private_networks: true  # the origin is on loopback
YAML

echo "== crawl.sbatch"
crawl_job="$(ATELIER_PORT="$(slurm_cluster_free_port)" sbatch --parsable --ntasks=2 --cpus-per-task=1 \
  --output="$work/crawl-%j.out" "$repo/deploy/slurm/crawl.sbatch" \
  "$work/job.yaml" "$work/crawl-state" "$work/data")"
echo "crawl job $crawl_job"

echo "== train.sbatch (CPU, 2 ranks, Gloo), after the crawl"
train_opts=(--image-size 32 --width 8 --depth 2 --batch-size 16 --threads 1 --decode-threads 1 --plain)
train_job="$(ATELIER_PORT="$(slurm_cluster_free_port)" sbatch --parsable \
  --dependency="afterok:$crawl_job" --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-node=0 \
  --output="$work/train-%j.out" "$repo/deploy/slurm/train.sbatch" \
  "$work/data" "$work/run1" --epochs 2 "${train_opts[@]}")"
echo "train job $train_job"

state="$(slurm_cluster_wait_job "$crawl_job" 300)" || fail "crawl job $crawl_job did not finish"
[ "$state" = COMPLETED ] || fail "crawl job $crawl_job ended $state"
state="$(slurm_cluster_wait_job "$train_job" 300)" || fail "train job $train_job did not finish"
[ "$state" = COMPLETED ] || fail "train job $train_job ended $state"

echo "== shards"
shopt -s nullglob
shards=("$work"/data/shards/*.tar)
[ "${#shards[@]}" -ge 1 ] || fail "no shards under $work/data/shards"
samples=0
for s in "${shards[@]}"; do
  count="$("$ATELIER" shard ls --json "$s" | grep -c '"key"')" || fail "atelier shard ls $s failed"
  echo "$(basename "$s"): $count samples"
  samples=$((samples + count))
done
[ "$samples" -eq "$n_images" ] || fail "shards hold $samples samples, the origin served $n_images"

echo "== checkpoint of the first run"
[ -s "$work/run1/checkpoints/latest" ] || fail "no $work/run1/checkpoints/latest"
latest="$(tr -d '[:space:]' <"$work/run1/checkpoints/latest")"
[ -s "$work/run1/checkpoints/${latest##*/}" ] || fail "checkpoints/latest names $latest, which does not exist"
[ -s "$work/run1/model.pt" ] || fail "no $work/run1/model.pt"
grep -q "rank 1 of 2" "$work/train-$train_job.out" || fail "train job did not run 2 ranks"
grep -q "coordinator stopped" "$work/crawl-$crawl_job.out" \
  || fail "crawl.sbatch did not stop the coordinator gracefully"

echo "== preemption: scancel --signal=USR1, requeue, resume"
job="$(ATELIER_PORT="$(slurm_cluster_free_port)" sbatch --parsable \
  --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-node=0 \
  --output="$work/preempt-%j.out" "$repo/deploy/slurm/train.sbatch" \
  "$work/data" "$work/run2" --epochs 100000 "${train_opts[@]}")"
log="$work/preempt-$job.out"
echo "train job $job"
slurm_cluster_wait_for 300 test -s "$work/run2/checkpoints/latest" || fail "job $job wrote no checkpoint"
scancel --signal=USR1 "$job"
slurm_cluster_wait_for 120 bash -c "scontrol show job $job | grep -q 'Restarts=1'" \
  || fail "job $job was not requeued"
signal_ckpt="$(tr -d '[:space:]' <"$work/run2/checkpoints/latest")"
signal_ckpt="${signal_ckpt##*/}"
# The requeued job starts again once its old credential expires (the
# cluster's cred_expire, 15 s here; Slurm's default is 120 s).
slurm_cluster_wait_for 300 grep -q "resumed from" "$log" || fail "requeued job $job did not resume"
resumed_line="$(grep "resumed from" "$log" | head -n1)"
echo "$resumed_line"
[[ "$resumed_line" == *"$signal_ckpt"* ]] \
  || fail "requeued job resumed from something other than the checkpoint written on USR1 ($signal_ckpt)"
signal_step="${signal_ckpt//[!0-9]/}"
signal_step=$((10#$signal_step))
[[ "$resumed_line" =~ step\ ([0-9]+) ]] || fail "no step in: $resumed_line"
[ "${BASH_REMATCH[1]}" -eq "$signal_step" ] || fail "resumed at step ${BASH_REMATCH[1]}, checkpoint is step $signal_step"
grep -q "checkpoint written on signal; requeueing" "$log" || fail "train.sbatch did not requeue on exit code 75"
grep -q "restart 1" "$log" || fail "no second start of job $job in its log"
later_checkpoint() {
  local f step
  for f in "$work"/run2/checkpoints/ckpt-*.pt; do
    step="${f##*/ckpt-}"; step="${step%.pt}"
    if [ "$((10#$step))" -gt "$signal_step" ]; then return 0; fi
  done
  return 1
}
slurm_cluster_wait_for 300 later_checkpoint || fail "resumed job wrote no checkpoint after step $signal_step"
scancel "$job"
slurm_cluster_wait_job "$job" 120 >/dev/null || fail "job $job did not stop after scancel"
echo "PASS: crawl ($samples samples in ${#shards[@]} shards), train (checkpoint $latest), requeue resumed at step $signal_step"
