# shellcheck shell=bash
# A throwaway single-node Slurm cluster for tests, built from Debian's
# slurm-wlm and munge. Source this file, then:
#
#   slurm_cluster_start DIR [SELECT_PARAMS]
#                             # munged + slurmctld + slurmd, all state in DIR;
#                             # SELECT_PARAMS: SelectTypeParameters (default
#                             # CR_Core; CR_Core_Memory makes memory consumable)
#   sbatch ...; squeue ...    # SLURM_CONF points at DIR/etc/slurm.conf
#   slurm_cluster_stop        # kills every daemon it started (call from a trap)
#   slurm_cluster_job_field JOB FIELD  # one field of `scontrol show job JOB`
#   slurm_cluster_atelier_bin # sets $bin from ATELIER_BIN_DIR (absolute), checks
#                             # the executables the launchers run, exports ATELIER
#   slurm_cluster_work PREFIX # makes the test's temp dir ($work) and installs the
#                             # EXIT trap: cancel jobs, stop the cluster and the
#                             # origin, print logs on failure, remove $work
#                             # (kept with ATELIER_KEEP_TMP=1)
#
# Nothing outside DIR is written: munged gets its own key, socket, pid, log and
# seed files; slurm.conf and cgroup.conf are generated with the node's real CPU
# and memory (slurmd -C), free ports, proctrack/linuxproc, task/none and no
# cgroups, so it runs in a container without systemd. cred_expire=15 (default
# 120) shortens how long a requeued job waits before it starts again. Needs to run as root
# (slurmd starts jobs as the submitting user). Daemon logs are in DIR/log.

slurm_cluster_pids=()

slurm_cluster_atelier_bin() {
  bin="${ATELIER_BIN_DIR:?set ATELIER_BIN_DIR to the bin directory of a build}"
  bin="$(cd "$bin" && pwd)"
  local exe
  for exe in atelier atelier-coordinator atelier-crawler atelier-status atelier-trainer; do
    if [ ! -x "$bin/$exe" ]; then
      echo "FAIL: $bin/$exe is missing (build it; atelier-trainer needs -DATELIER_BUILD_TRAINER=ON)" >&2
      exit 1
    fi
  done
  export ATELIER="$bin/atelier"
}

# deploy_free_port, deploy_wait_for.
# shellcheck source=tests/deploy/deploy_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy_test_lib.sh"

slurm_cluster_start() {
  local dir="$1" select_params="${2:-CR_Core}"
  local name; name="$(hostname -s)"
  local tool
  for tool in munged slurmctld slurmd sbatch scontrol; do
    if ! command -v "$tool" >/dev/null; then
      echo "slurm_cluster: $tool not found (install slurm-wlm and munge, scripts/install-deps.sh)" >&2
      return 1
    fi
  done
  if ! getent hosts "$name" >/dev/null; then
    echo "slurm_cluster: this host's name '$name' does not resolve (add it to /etc/hosts)" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "slurm_cluster: must run as root (slurmd)" >&2
    return 1
  fi
  mkdir -p "$dir"/{etc,log,run,munge,state} "$dir/spool/$name"
  chmod 700 "$dir/munge"

  # munge: own key and socket.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" || { echo "slurm_cluster: munged failed:" >&2; cat "$dir/log/munged.log" >&2; return 1; }
  deploy_wait_for 10 test -s "$dir/munge/munged.pid" || { echo "slurm_cluster: munged wrote no pid" >&2; return 1; }
  slurm_cluster_pids+=("$(cat "$dir/munge/munged.pid")")

  # The node's real shape, as slurmd sees it.
  local node_line
  node_line="$(slurmd -C | grep '^NodeName=' | sed "s/^NodeName=[^ ]*/NodeName=$name/")"
  local ctld_port slurmd_port
  ctld_port="$(deploy_free_port)"
  slurmd_port="$(deploy_free_port)"
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port="$(deploy_free_port)"; done

  cat >"$dir/etc/slurm.conf" <<CONF
ClusterName=atelier-test
SlurmctldHost=$name(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock,cred_expire=15
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
MailProg=/bin/true
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=$select_params
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MinJobAge=600
KillWait=10
InactiveLimit=0
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$name Default=YES MaxTime=INFINITE State=UP
CONF
  cat >"$dir/etc/cgroup.conf" <<CONF
# No cgroups: proctrack/linuxproc and task/none track and place tasks.
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
CONF
  export SLURM_CONF="$dir/etc/slurm.conf"

  slurmctld -f "$SLURM_CONF" -i || { echo "slurm_cluster: slurmctld failed:" >&2; cat "$dir/log/slurmctld.log" >&2; return 1; }
  deploy_wait_for 20 test -s "$dir/run/slurmctld.pid" || { echo "slurm_cluster: slurmctld wrote no pid" >&2; cat "$dir/log/slurmctld.log" >&2; return 1; }
  slurm_cluster_pids+=("$(cat "$dir/run/slurmctld.pid")")
  slurmd -f "$SLURM_CONF" || { echo "slurm_cluster: slurmd failed:" >&2; cat "$dir/log/slurmd.log" >&2; return 1; }
  deploy_wait_for 20 test -s "$dir/run/slurmd-$name.pid" || { echo "slurm_cluster: slurmd wrote no pid" >&2; cat "$dir/log/slurmd.log" >&2; return 1; }
  slurm_cluster_pids+=("$(cat "$dir/run/slurmd-$name.pid")")

  # Ready when the node is idle.
  if ! deploy_wait_for 60 bash -c "sinfo -h -N -o '%t' | grep -qx idle"; then
    echo "slurm_cluster: node never became idle:" >&2
    sinfo -N -l >&2 || true
    tail -n 30 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    return 1
  fi
}

# Kills the daemons started by slurm_cluster_start (slurmd first, munged last).
slurm_cluster_stop() {
  local i pid
  for ((i = ${#slurm_cluster_pids[@]} - 1; i >= 0; i--)); do
    pid="${slurm_cluster_pids[$i]}"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for ((i = ${#slurm_cluster_pids[@]} - 1; i >= 0; i--)); do
    pid="${slurm_cluster_pids[$i]}"
    deploy_wait_for 10 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  done
  slurm_cluster_pids=()
}

# Prints FIELD of job (or array task) JOB as `scontrol show job` reports it,
# e.g. slurm_cluster_job_field 12_0 ExitCode -> 0:0.
slurm_cluster_job_field() { scontrol show job "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p" | head -n1; }

# Waits until job ID has left the queue for good (any final state) and
# prints that state (COMPLETED, FAILED, ...). Gives up after SECONDS.
slurm_cluster_wait_job() {
  local job="$1" seconds="$2" state i
  for ((i = 0; i < seconds; i++)); do
    state="$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
        echo "$state"; return 0 ;;
    esac
    sleep 1
  done
  echo "TIMEOUT_WAITING"
  return 1
}

# The preemption round trip of a running train.sbatch job JOB (run directory
# RUN, log LOG): waits for its first checkpoint, signals it by running
# `SIGNAL_CMD... JOB` (e.g. `scancel --signal=USR1`), then requires that
# train.sbatch requeued it on exit 75, that the requeued run resumed from
# exactly the checkpoint written on the signal and wrote a later one; finally
# cancels the job (a plain scancel, which must not requeue it). Sets
# slurm_cluster_resumed_step. Returns 1 with a message on the first failure.
slurm_cluster_preempt_and_resume() {
  local job="$1" run="$2" log="$3"; shift 3
  local signal_ckpt signal_step resumed_line
  slurm_cluster_resume_fail() { echo "FAIL: $*" >&2; return 1; }
  deploy_wait_for 300 test -s "$run/checkpoints/latest" || { slurm_cluster_resume_fail "job $job wrote no checkpoint"; return 1; }
  "$@" "$job" || { slurm_cluster_resume_fail "$* $job failed"; return 1; }
  deploy_wait_for 120 bash -c "scontrol show job $job | grep -q 'Restarts=1'" \
    || { slurm_cluster_resume_fail "job $job was not requeued after $*"; return 1; }
  signal_ckpt="$(tr -d '[:space:]' <"$run/checkpoints/latest")"
  signal_ckpt="${signal_ckpt##*/}"
  # The requeued job starts again once its old credential expires (the
  # cluster's cred_expire, 15 s here; Slurm's default is 120 s).
  deploy_wait_for 300 grep -q "resumed from" "$log" || { slurm_cluster_resume_fail "requeued job $job did not resume"; return 1; }
  resumed_line="$(grep "resumed from" "$log" | head -n1)"
  echo "$resumed_line"
  [[ "$resumed_line" == *"$signal_ckpt"* ]] \
    || { slurm_cluster_resume_fail "requeued job resumed from something other than the checkpoint written on the signal ($signal_ckpt)"; return 1; }
  signal_step="${signal_ckpt//[!0-9]/}"
  signal_step=$((10#$signal_step))
  [[ "$resumed_line" =~ step\ ([0-9]+) ]] || { slurm_cluster_resume_fail "no step in: $resumed_line"; return 1; }
  [ "${BASH_REMATCH[1]}" -eq "$signal_step" ] \
    || { slurm_cluster_resume_fail "resumed at step ${BASH_REMATCH[1]}, checkpoint is step $signal_step"; return 1; }
  grep -q "checkpoint written on signal; requeueing" "$log" \
    || { slurm_cluster_resume_fail "train.sbatch did not requeue on exit code 75"; return 1; }
  grep -q "restart 1" "$log" || { slurm_cluster_resume_fail "no second start of job $job in its log"; return 1; }
  slurm_cluster_later_checkpoint() {
    local f step
    for f in "$run"/checkpoints/ckpt-*.pt; do
      step="${f##*/ckpt-}"; step="${step%.pt}"
      if [ "$((10#$step))" -gt "$signal_step" ]; then return 0; fi
    done
    return 1
  }
  deploy_wait_for 300 slurm_cluster_later_checkpoint \
    || { slurm_cluster_resume_fail "resumed job wrote no checkpoint after step $signal_step"; return 1; }
  scancel "$job"
  slurm_cluster_resumed_step="$signal_step"
}

# The EXIT trap of slurm_cluster_work; keeps the script's exit status.
slurm_cluster_cleanup() {
  local code=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ]; then scancel --full --user="$(id -un)" >/dev/null 2>&1; fi
  slurm_cluster_stop
  if declare -F deploy_origin_stop >/dev/null; then deploy_origin_stop; fi
  if [ "$code" -ne 0 ]; then
    echo "---- job logs and daemon logs ($work) ----" >&2
    for f in "$work"/*.out "$work"/cluster/log/slurmctld.log "$work"/cluster/log/slurmd.log; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -n 60 "$f" >&2; }
    done
  fi
  if [ "${ATELIER_KEEP_TMP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$code"
}

slurm_cluster_work() {
  work="$(mktemp -d "/tmp/$1.XXXXXX")"
  chmod 755 "$work"
  trap slurm_cluster_cleanup EXIT
}
