#!/bin/bash
# `atelier sweep --emit slurm` on a real single-node Slurm cluster (Debian's
# slurm-wlm + munge, started by slurm_cluster_lib.sh in a temp dir):
#
#  1. The emitted sweep.sbatch is submitted as it is (only --cpus-per-task and
#     --output are overridden on the sbatch command line for the 2-core test
#     node): a job array of 3 trials, 2 at once, ASHA with rungs at epochs 1
#     and 3.
#  2. Array task 0 gets the header's time-limit warning signal (USR1 to the
#     batch shell, as --signal=B:USR1@300 sends it) once its trial has its
#     first checkpoint (every 20 steps), in its first epoch: the trial
#     checkpoints, the task requeues itself, and the requeued task resumes the
#     trial from that checkpoint.
#  3. Every array task ends COMPLETED; `atelier sweep --report` on the shared
#     folder gathers the three records: each trial completed, or stopped by
#     ASHA at a rung, with the metric of its own last epoch in metrics.jsonl;
#     trial 0 was started twice; the best trial's command is printed.
#
# Usage: ATELIER_BIN_DIR=build/bin tests/deploy/slurm_sweep_test.sh
# Needs what slurm_cluster_test.sh needs (root, slurm-wlm, munge, the atelier
# executables). ATELIER_KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/deploy/slurm_cluster_lib.sh
source "$here/slurm_cluster_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

slurm_cluster_atelier_bin
export ATELIER_DEVICE=cpu
export PATH="$bin:$PATH"
mnist=/usr/share/datasets/fashion-mnist
[ -f "$mnist/t10k-images-idx3-ubyte.gz" ] || fail "$mnist is missing (Debian: fashion-mnist data, scripts/install-deps.sh)"

slurm_cluster_work atelier-slurm-sweep

echo "== Slurm in $work/cluster"
slurm_cluster_start "$work/cluster"

# 6,000 images: an epoch takes a few seconds, long enough to signal a trial
# in its first epoch (before ASHA's first rung can stop it).
"$ATELIER" import idx --images "$mnist/train-images-idx3-ubyte.gz" \
  --labels "$mnist/train-labels-idx1-ubyte.gz" --head garment --limit 6000 \
  --data "$work/data" >"$work/import.log" 2>&1 || { cat "$work/import.log" >&2; fail "atelier import failed"; }

cat >"$work/sweep.yaml" <<'YAML'
data: data
epochs: 6
train: {threads: 1, decode-threads: 1, depth: 2, width: 8, batch-size: 32, val-ratio: 0.2, checkpoint-every: 20}
parameters:
  lr: {choices: [0.01, 0.003, 0.001]}
sampler: grid
parallel: 2
metric: val_accuracy:garment
asha: {min_epochs: 1, eta: 3}
YAML
sweep="$work/sweep"
"$ATELIER" sweep --spec "$work/sweep.yaml" --dir "$sweep" --emit slurm >"$work/emit.log" 2>&1 \
  || { cat "$work/emit.log" >&2; fail "atelier sweep --emit slurm failed"; }
[ -f "$sweep/sweep.sbatch" ] || fail "--emit slurm wrote no $sweep/sweep.sbatch"
grep -q '^#SBATCH --array=0-2%2$' "$sweep/sweep.sbatch" || fail "sweep.sbatch: no --array=0-2%2 line"

echo "== 1. submit the emitted job array"
job="$(sbatch --parsable --cpus-per-task=1 --output="$work/sweep-%A_%a.out" "$sweep/sweep.sbatch")"
echo "array job $job"

echo "== 2. task 0: the time-limit warning (USR1 to the batch shell), requeue, resume"
run0="$sweep/trials/0000/run"
deploy_wait_for 300 test -s "$run0/checkpoints/latest" || fail "trial 0 wrote no checkpoint"
scancel --batch --signal=USR1 "${job}_0"
deploy_wait_for 120 bash -c "scontrol show job ${job}_0 | grep -q 'Restarts=1'" \
  || fail "array task ${job}_0 was not requeued after USR1: $(scontrol show job "${job}_0" | tr '\n' ' ')"

echo "== 3. every task completes; --report gathers the trials"
for t in 0 1 2; do
  state="$(slurm_cluster_wait_job "${job}_$t" 600)" || fail "array task ${job}_$t did not end"
  echo "task ${job}_$t: $state, exit code $(slurm_cluster_job_field "${job}_$t" ExitCode), restarts $(slurm_cluster_job_field "${job}_$t" Restarts)"
  [ "$state" = COMPLETED ] || fail "array task ${job}_$t ended $state"
done
log0="$work/sweep-${job}_0.out"
grep -q "requeueing ${job}_0" "$log0" || fail "task 0's log does not show the requeue"
grep -q "resumed from" "$sweep/trials/0000/train.log" || fail "trial 0's trainer did not resume from its checkpoint"

"$ATELIER" sweep --spec "$work/sweep.yaml" --dir "$sweep" --report >"$work/report.log" 2>&1 \
  || { cat "$work/report.log" >&2; fail "atelier sweep --report failed"; }
cat "$work/report.log"
grep -q "best: trial " "$work/report.log" || fail "--report named no best trial"
grep -q "atelier train --data $work/data" "$work/report.log" || fail "--report printed no ready train command"
[ -s "$sweep/sweep.html" ] || fail "--report wrote no sweep.html"

/usr/bin/python3 - "$sweep" <<'PY' || fail "the gathered records do not match the trainers' metrics"
import json, sys, pathlib
sweep = pathlib.Path(sys.argv[1])
state = json.loads((sweep / "sweep.json").read_text())
trials = state["trials"]
assert len(trials) == 3, f"{len(trials)} trials in sweep.json, want 3"
completed = 0
for i, t in enumerate(trials):
    run = sweep / "trials" / f"{i:04d}" / "run"
    epochs = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    assert t["state"] in ("completed", "stopped"), f"trial {i}: state {t['state']}: {t.get('message')}"
    if t["state"] == "completed":
        completed += 1
        assert t["epochs"] == 6, f"trial {i}: completed after {t['epochs']} epochs"
    else:
        assert t["epochs"] in (1, 3), f"trial {i}: stopped after {t['epochs']} epochs, not at a rung"
    last = epochs[-1]
    assert last["epoch"] == t["epochs"], f"trial {i}: record says {t['epochs']} epochs, metrics.jsonl {last['epoch']}"
    assert abs(t["metric"] - last["val"]["garment"]["accuracy"]) < 1e-12, f"trial {i}: metric {t['metric']}"
assert completed >= 1, "no trial completed"
assert trials[0]["starts"] == 2, f"trial 0 started {trials[0]['starts']} times, want 2 (requeued once)"
print("records ok:", [(t["state"], t["epochs"]) for t in trials])
PY
echo "PASS: the emitted job array ran 3 trials on Slurm, task 0 was requeued on USR1 and resumed its trial, --report gathered the records"
