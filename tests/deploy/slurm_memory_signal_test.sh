#!/bin/bash
# deploy/slurm on a real single-node Slurm cluster whose memory is a
# consumable resource (SelectTypeParameters=CR_Core_Memory), as a cluster
# user submits with `--mem`:
#
#  1. crawl.sbatch with `sbatch --mem=1500M` must complete (the coordinator's
#     step used to take all of the job's memory, so the crawler step waited
#     forever: "Requested nodes are busy").
#  2. docs/deploy.md's watch command names a job's first host: its
#     `--coordinator` address, evaluated for a running job, is this node, and the `scontrol show hostnames` it relies on turns a multi-node
#     list (node[01-04]) into its first host.
#  3. train.sbatch as a CPU user submits it (no --gpus-per-node, no
#     ATELIER_DEVICE): it must run; then `scancel --batch --signal=TERM`
#     signals the batch shell itself: the ranks must checkpoint, the job be
#     requeued and resume from exactly that checkpoint.
#
# Usage: ATELIER_BIN_DIR=build/bin tests/deploy/slurm_memory_signal_test.sh
# Needs what slurm_cluster_test.sh needs (root, slurm-wlm, munge, the atelier
# executables). ATELIER_KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/deploy/slurm_cluster_lib.sh
source "$here/slurm_cluster_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

slurm_cluster_atelier_bin
unset ATELIER_DEVICE
export PATH="$bin:$PATH"

slurm_cluster_work atelier-slurm-mem

echo "== Slurm with CR_Core_Memory in $work/cluster"
slurm_cluster_start "$work/cluster" CR_Core_Memory
scontrol show config | grep -q "SelectTypeParameters *= *CR_CORE_MEMORY" \
  || fail "the cluster does not treat memory as consumable: $(scontrol show config | grep SelectTypeParameters)"

deploy_origin_start "$work" || fail "origin did not start"
deploy_write_job_spec "$work/job.yaml" slurm-mem "$work/data" "$work/urls.csv"

echo "== crawl.sbatch --mem=1500M"
crawl_job="$(ATELIER_PORT="$(deploy_free_port)" sbatch --parsable --ntasks=2 --cpus-per-task=1 --mem=1500M \
  --output="$work/crawl-%j.out" "$repo/deploy/slurm/crawl.sbatch" \
  "$work/job.yaml" "$work/crawl-state" "$work/data")"
state="$(slurm_cluster_wait_job "$crawl_job" 180)" \
  || fail "crawl job $crawl_job with --mem did not finish in 180 s ($(squeue -h -s -j "$crawl_job" -o '%i %T %r' | tr '\n' ';'))"
[ "$state" = COMPLETED ] || fail "crawl job $crawl_job ended $state"
ls "$work"/data/shards/*.tar >/dev/null 2>&1 || fail "the crawl wrote no shards"

echo "== train.sbatch as a CPU user submits it, then scancel --batch --signal=TERM"
job="$(ATELIER_PORT="$(deploy_free_port)" sbatch --parsable --cpus-per-task=1 --mem=2G \
  --output="$work/train-%j.out" "$repo/deploy/slurm/train.sbatch" \
  "$work/data" "$work/run" --epochs 100000 --image-size 32 --width 8 --depth 2 --batch-size 16 \
  --threads 1 --decode-threads 1 --plain)" || fail "sbatch train.sbatch without GPU options was refused"
log="$work/train-$job.out"
echo "== docs/deploy.md's watch command, for the running job $job"
deploy_wait_for 120 bash -c "squeue -h -j $job -o %T | grep -qx RUNNING" || fail "job $job never ran"
watch_line="$(grep -m1 'atelier status --coordinator "$(scontrol show hostnames' "$repo/docs/deploy.md")" \
  || fail "docs/deploy.md has no watch command using scontrol show hostnames"
# The quoted --coordinator argument, with the job id filled in.
address_expr="$(sed -n 's/.*--coordinator "\(.*\)" --watch.*/\1/p' <<<"$watch_line")"
[ -n "$address_expr" ] || fail "cannot find the --coordinator argument in: $watch_line"
address="$(eval "echo \"${address_expr//JOBID/$job}\"")"
[ "$address" = "$(hostname -s):7070" ] || fail "the docs' address gives '$address', want '$(hostname -s):7070'"
first="$(scontrol show hostnames 'node[01-04]' | head -n1)"
[ "$first" = node01 ] || fail "scontrol show hostnames node[01-04] | head -n1 gives '$first'"
slurm_cluster_preempt_and_resume "$job" "$work/run" "$log" scancel --batch --signal=TERM || exit 1
grep -q "batch shell got SIGTERM" "$log" || fail "train.sbatch's shell did not handle its SIGTERM"
grep -q "rank 1 of 2" "$log" || fail "the CPU variant did not run the header's 2 ranks"
echo "PASS: crawl with --mem on CR_Core_Memory, docs' watch address, CPU train.sbatch checkpointed on the batch shell's SIGTERM and resumed at step $slurm_cluster_resumed_step"
