// `atelier sweep --emit slurm|k8s`: the same trials spread over a cluster, one
// array task (Slurm) or one Indexed Job pod (Kubernetes) per trial, each
// running `atelier sweep --spec SPEC --dir DIR --trial i` on a shared file
// system, so SPEC and DIR must be paths every node sees (they are written into
// the file as given). A task stopped by a signal exits 75 after the trainer's
// checkpoint and is requeued (Slurm) or replaced (podFailurePolicy ignores 75
// and disruptions); the new one resumes the trial. `--report` on any machine
// then reads the trials' records. Pure rendering.
#pragma once

#include <string>

#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

inline constexpr char kSlurmScriptName[] = "sweep.sbatch";
inline constexpr char kK8sJobName[] = "sweep-job.yaml";

struct EmitTarget {
  std::string spec;   // the spec's path on the cluster
  std::string dir;    // the sweep folder's path on the cluster
  int trials = 0;     // array size / completions
  int parallel = 1;   // Slurm's %limit / the Job's parallelism
};

// An sbatch script: `#SBATCH --array=0-(trials-1)%parallel`, requeue on 75.
std::string SlurmArrayScript(const EmitTarget& target);
// An Indexed Job (completions = trials, parallelism = parallel) with the
// security context, podFailurePolicy and dataset volume of deploy/k8s/base.
std::string K8sIndexedJob(const EmitTarget& target);

}  // namespace atelier::cli
