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

slurm_cluster_atelier_bin
# The CPU variant names its device when the trainer has the option (it
# defaults to auto, which is the CPU on this machine).
train_help="$("$bin/atelier-trainer" train --help 2>&1 || true)"
if [[ "$train_help" == *--device* ]]; then
  export ATELIER_DEVICE=cpu
else
  unset ATELIER_DEVICE
fi
export PATH="$bin:$PATH"

slurm_cluster_work atelier-slurm-test

echo "== starting Slurm in $work/cluster"
slurm_cluster_start "$work/cluster"
sinfo -N

echo "== loopback origin"
deploy_origin_start "$work" || fail "origin did not start"
n_images="$deploy_origin_images"
deploy_write_job_spec "$work/job.yaml" slurm-test "$work/data" "$work/urls.csv"

echo "== crawl.sbatch"
crawl_job="$(ATELIER_PORT="$(deploy_free_port)" sbatch --parsable --ntasks=2 --cpus-per-task=1 \
  --output="$work/crawl-%j.out" "$repo/deploy/slurm/crawl.sbatch" \
  "$work/job.yaml" "$work/crawl-state" "$work/data")"
echo "crawl job $crawl_job"

echo "== train.sbatch (CPU, 2 ranks, Gloo), after the crawl"
train_opts=(--image-size 32 --width 8 --depth 2 --batch-size 16 --threads 1 --decode-threads 1 --plain)
train_job="$(ATELIER_PORT="$(deploy_free_port)" sbatch --parsable \
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
job="$(ATELIER_PORT="$(deploy_free_port)" sbatch --parsable \
  --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-node=0 \
  --output="$work/preempt-%j.out" "$repo/deploy/slurm/train.sbatch" \
  "$work/data" "$work/run2" --epochs 100000 "${train_opts[@]}")"
log="$work/preempt-$job.out"
echo "train job $job"
slurm_cluster_preempt_and_resume "$job" "$work/run2" "$log" scancel --signal=USR1 || exit 1
echo "PASS: crawl ($samples samples in ${#shards[@]} shards), train (checkpoint $latest), requeue resumed at step $slurm_cluster_resumed_step"
