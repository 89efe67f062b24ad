#include "atelier/cli/sweep_emit.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "atelier/cli/sweep_report.h"

namespace atelier::cli {
namespace {

// A YAML double-quoted scalar.
std::string YamlQuote(const std::string& text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

}  // namespace

std::string SlurmArrayScript(const EmitTarget& t) {
  return absl::StrCat(R"EOS(#!/bin/bash
# atelier sweep as a Slurm job array (written by `atelier sweep --emit slurm`):
# array task i runs trial i of the sweep, `atelier sweep --trial i`, whose
# state lives in the shared sweep folder. Submit with `sbatch THIS_FILE`;
# afterwards `atelier sweep --spec SPEC --dir DIR --report` shows the trials.
# A signal to the batch shell (SIGTERM, or USR1 from --signal before the time
# limit) goes on to the sweep as SIGTERM: the trainer checkpoints, the task
# exits 75 and is requeued while its job is RUNNING; the new task resumes
# the trial. ATELIER: the atelier command (default: atelier on PATH).
#SBATCH --job-name=atelier-sweep
#SBATCH --array=0-)EOS",
                      t.trials - 1, "%", t.parallel, R"EOS(
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=atelier-sweep-%A_%a.out
set -uo pipefail

atelier="${ATELIER:-atelier}"
readonly requeue_code=75
spec=)EOS",
                      ShellQuote(t.spec), "\ndir=", ShellQuote(t.dir), R"EOS(
trial="${SLURM_ARRAY_TASK_ID:?not a Slurm array task}"

sweep_pid=""
forward() {
  echo "atelier sweep: batch shell got SIG$1; stopping trial $trial"
  if [ -n "$sweep_pid" ]; then kill -s TERM "$sweep_pid" 2>/dev/null || true; fi
}
trap 'forward TERM' TERM
trap 'forward USR1' USR1
"$atelier" sweep --spec "$spec" --dir "$dir" --trial "$trial" &
sweep_pid=$!
while :; do
  wait "$sweep_pid"
  code=$?
  kill -0 "$sweep_pid" 2>/dev/null || break
done
trap - TERM USR1
if [ "$code" -eq "$requeue_code" ]; then
  task="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
  job_state="$(squeue -h -j "$task" -o %T 2>/dev/null || true)"
  if [ "$job_state" = RUNNING ]; then
    echo "atelier sweep: trial $trial checkpointed on signal; requeueing $task"
    scontrol requeue "$task"
    exit 0
  fi
  echo "atelier sweep: trial $trial checkpointed on signal; $task is ${job_state:-gone}, not requeueing"
fi
exit "$code"
)EOS");
}

std::string K8sIndexedJob(const EmitTarget& t) {
  return absl::StrCat(R"EOS(# atelier sweep as a Kubernetes Indexed Job (written by `atelier sweep --emit k8s`):
# pod i runs trial i, `atelier sweep --trial i`, with the sweep's state in the
# shared dataset volume. On SIGTERM (eviction, node drain) the trial
# checkpoints and the pod exits 75; podFailurePolicy ignores that and
# disruptions, and the Job starts a new pod for the index, which resumes the
# trial. Apply with `kubectl apply -f THIS_FILE`.
apiVersion: batch/v1
kind: Job
metadata:
  name: atelier-sweep
spec:
  completionMode: Indexed
  completions: )EOS",
                      t.trials, "\n  parallelism: ", t.parallel, R"EOS(
  backoffLimit: 6
  podFailurePolicy:
    rules:
      - action: Ignore
        onExitCodes:
          containerName: sweep
          operator: In
          values: [75]
      - action: Ignore
        onPodConditions:
          - {type: DisruptionTarget, status: "True"}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 120
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: sweep
          image: atelier:latest
          args: [sweep, --spec, )EOS",
                      YamlQuote(t.spec), ", --dir, ", YamlQuote(t.dir), R"EOS(, --trial, "$(TRIAL)"]
          env:
            - name: TRIAL
              valueFrom:
                fieldRef: {fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}
          resources:
            requests: {cpu: "4", memory: 8Gi}
            # The memory limit includes what the process writes to /dev/shm.
            limits: {memory: 12Gi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: dataset, mountPath: /data}
            - {name: shm, mountPath: /dev/shm}
            - {name: tmp, mountPath: /tmp}
      volumes:
        - name: dataset
          persistentVolumeClaim: {claimName: atelier-dataset}
        - name: shm
          emptyDir: {medium: Memory, sizeLimit: 2Gi}
        - name: tmp
          emptyDir: {sizeLimit: 1Gi}
)EOS");
}

}  // namespace atelier::cli
