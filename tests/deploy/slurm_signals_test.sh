#!/bin/bash
# deploy/slurm's signal paths on a real single-node Slurm cluster (Debian's
# slurm-wlm + munge, started by slurm_cluster_lib.sh in a temp dir):
#
#  1. crawl.sbatch stopped mid-crawl by `scancel --signal=TERM` (what a time
#     limit or preemption sends its steps): the crawlers exit 75, so the job
#     must end FAILED with exit code 75, not COMPLETED (an `afterok` training
#     would start on a partial crawl); the same command submitted again must
#     complete the crawl with every image.
#  2. A plain `scancel JOBID` of a running train.sbatch job must cancel it:
#     the job ends CANCELLED and is not requeued (no second run of the script),
#     even though its ranks checkpoint and exit 75 on the cancel's SIGTERM.
#  3. `scancel --full --signal=TERM` (docs/deploy.md warns against it): srun
#     turns the SIGTERM into SIGKILL for the ranks; the job is not requeued
#  4. The time-limit path as the script's header has it (`--signal=USR1@300`):
#     once the job's remaining time drops under 5 minutes (its limit lowered
#     with `scontrol update`), Slurm sends SIGUSR1 to the ranks, they
#     checkpoint, the job is requeued and resumes from exactly that checkpoint.
#
# Usage: ATELIER_BIN_DIR=build/bin tests/deploy/slurm_signals_test.sh
# Needs what slurm_cluster_test.sh needs (root, slurm-wlm, munge, the atelier
# executables). ATELIER_KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/deploy/slurm_cluster_lib.sh
source "$here/slurm_cluster_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

slurm_cluster_atelier_bin
export ATELIER_DEVICE=cpu
export PATH="$bin:$PATH"

slurm_cluster_work atelier-slurm-signals

echo "== Slurm in $work/cluster"
slurm_cluster_start "$work/cluster"
deploy_origin_start "$work" || fail "origin did not start"
n_images="$deploy_origin_images"
deploy_write_job_spec "$work/job.yaml" slurm-signals "$work/data" "$work/urls.csv"
# 4 requests a second: the crawl takes about 12 s, long enough to stop it.
sed -i 's/requests_per_second: [0-9]*/requests_per_second: 4/' "$work/job.yaml"
grep -q 'requests_per_second: 4' "$work/job.yaml" || fail "could not slow the job spec down"

echo "== 1. crawl.sbatch stopped mid-crawl by scancel --signal=TERM"
crawl_port="$(deploy_free_port)"
submit_crawl() {
  ATELIER_PORT="$crawl_port" sbatch --parsable --ntasks=2 --cpus-per-task=1 \
    --output="$work/crawl-%j.out" "$repo/deploy/slurm/crawl.sbatch" \
    "$work/job.yaml" "$work/crawl-state" "$work/data"
}
crawl_job="$(submit_crawl)"
served() { grep -c '"GET /' "$work/origin.log" 2>/dev/null || true; }
deploy_wait_for 120 bash -c "[ \"\$(grep -c '\"GET /' '$work/origin.log')\" -ge 8 ]" \
  || fail "crawl job $crawl_job fetched nothing in 120 s"
[ "$(served)" -lt "$n_images" ] || fail "the crawl finished before it could be stopped"
scancel --signal=TERM "$crawl_job"
state="$(slurm_cluster_wait_job "$crawl_job" 120)" || fail "crawl job $crawl_job did not end after SIGTERM"
exit_code="$(slurm_cluster_job_field "$crawl_job" ExitCode)"
echo "crawl job $crawl_job: $state, exit code $exit_code, $(served) of $n_images images fetched"
[ "$state" = FAILED ] || fail "crawl job $crawl_job stopped mid-crawl ended $state, want FAILED"
[ "$exit_code" = 75:0 ] || fail "crawl job $crawl_job exit code $exit_code, want 75:0"
grep -q "stopped by a signal before the crawl was done" "$work/crawl-$crawl_job.out" \
  || fail "crawl.sbatch did not say that the crawl was stopped"
crawl_job2="$(submit_crawl)"
state="$(slurm_cluster_wait_job "$crawl_job2" 180)" || fail "resubmitted crawl job $crawl_job2 did not finish"
[ "$state" = COMPLETED ] || fail "resubmitted crawl job $crawl_job2 ended $state"
samples=0
for s in "$work"/data/shards/*.tar; do
  count="$("$ATELIER" shard ls --json "$s" | grep -c '"key"')" || fail "atelier shard ls $s failed"
  samples=$((samples + count))
done
[ "$samples" -eq "$n_images" ] || fail "after the resubmission the shards hold $samples samples, want $n_images"

train_opts=(--epochs 100000 --image-size 32 --width 8 --depth 2 --batch-size 16 --threads 1 --decode-threads 1 --plain)
submit_train() {
  local run="$1"; shift
  ATELIER_PORT="$(deploy_free_port)" sbatch --parsable "$@" \
    --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 \
    --output="$work/train-%j.out" "$repo/deploy/slurm/train.sbatch" \
    "$work/data" "$run" "${train_opts[@]}"
}

echo "== 2. plain scancel of a running train.sbatch job"
job="$(submit_train "$work/run-cancel")"
log="$work/train-$job.out"
deploy_wait_for 300 test -s "$work/run-cancel/checkpoints/latest" || fail "train job $job wrote no checkpoint"
scancel "$job"
state="$(slurm_cluster_wait_job "$job" 60)" || fail "train job $job was not over 60 s after scancel (requeued?): $(slurm_cluster_job_field "$job" JobState), restarts $(slurm_cluster_job_field "$job" Restarts)"
[ "$state" = CANCELLED ] || fail "train job $job ended $state after scancel, want CANCELLED"
# A requeued job would start again once its credential expires (15 s here).
sleep 25
[ "$(slurm_cluster_job_field "$job" JobState)" = CANCELLED ] || fail "train job $job is $(slurm_cluster_job_field "$job" JobState) after scancel"
[ "$(slurm_cluster_job_field "$job" Restarts)" = 0 ] || fail "train job $job was requeued after a plain scancel"
starts="$(grep -c "atelier train: job $job restart" "$log")"
[ "$starts" -eq 1 ] || fail "train.sbatch ran $starts times for job $job, want 1"
if grep -q "; requeueing job" "$log"; then fail "train.sbatch requeued the cancelled job $job"; fi

echo "== 3. scancel --full --signal=TERM: srun kills the ranks (docs/deploy.md says so)"
job="$(submit_train "$work/run-full")"
log="$work/train-$job.out"
deploy_wait_for 300 test -s "$work/run-full/checkpoints/latest" || fail "train job $job wrote no checkpoint"
scancel --full --signal=TERM "$job"
state="$(slurm_cluster_wait_job "$job" 60)" || fail "train job $job did not end after scancel --full --signal=TERM"
echo "train job $job: $state, exit code $(slurm_cluster_job_field "$job" ExitCode)"
[ "$(slurm_cluster_job_field "$job" Restarts)" = 0 ] || fail "train job $job was requeued after scancel --full --signal=TERM"
# Whether the ranks finish a checkpoint before srun's SIGKILL is a race
# (docs/deploy.md says not to rely on it), so only the job's fate is checked.
if grep -q "; requeueing job" "$log"; then fail "train.sbatch requeued job $job after scancel --full --signal=TERM"; fi

echo "== 4. time limit: the header's --signal=USR1@300"
# Lowers JOB's time limit so that less than 5 minutes remain: whole minutes,
# at least a minute after the start, so the requeued run (whose elapsed time
# starts at 0) has more than 5 minutes left and is not signalled at once.
shorten_time_limit() {
  local job="$1" minutes="" i
  for ((i = 0; i < 120; i++)); do
    # RunTime=HH:MM:SS (this test's jobs run less than an hour)
    minutes="$(scontrol show job "$job" | sed -n 's/.*RunTime=[0-9]*:\([0-9]*\):[0-9]*.*/\1/p')"
    if [ -n "$minutes" ] && [ "$((10#$minutes))" -ge 1 ]; then break; fi
    sleep 1
  done
  [ -n "$minutes" ] && [ "$((10#$minutes))" -ge 1 ] || { echo "job $job did not run for a minute" >&2; return 1; }
  scontrol update JobId="$job" TimeLimit=$((10#$minutes + 5))
  echo "job $job: time limit lowered to $((10#$minutes + 5)) min at RunTime $(slurm_cluster_job_field "$job" RunTime)"
}
job="$(submit_train "$work/run-limit" --time=15)"
log="$work/train-$job.out"
slurm_cluster_preempt_and_resume "$job" "$work/run-limit" "$log" shorten_time_limit || exit 1
# Only the run up to the requeue: the helper's closing plain scancel signals
# the batch shell of the resumed run too.
if sed -n '1,/requeueing job/p' "$log" | grep -q "batch shell got"; then
  fail "the time-limit warning went to the batch shell, not the ranks"
fi
echo "PASS: crawl stopped by SIGTERM ended FAILED 75:0 and completed on resubmission ($samples samples), plain scancel cancelled without requeue, --full ended the job without a requeue, time-limit warning checkpointed and resumed at step $slurm_cluster_resumed_step"
