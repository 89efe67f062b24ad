// InProcessHub: a Collective for `world_size` threads of one process, for unit
// tests of the data-parallel logic without sockets. Member(r) is used by the
// thread playing rank r; calls block until all members made the same call.
// Sums are computed in rank order (deterministic). The hub must outlive its
// members; members are not shared between threads. A member that waits longer
// than `timeout` for the others (a rank's thread gave up) gets
// DeadlineExceeded instead of hanging the test.
#pragma once

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/trainer/collective.h"

namespace atelier::trainer {

class InProcessHub {
 public:
  explicit InProcessHub(int world_size, absl::Duration timeout = absl::Seconds(120));
  std::unique_ptr<Collective> Member(int rank);

 private:
  friend class InProcessMember;
  // Every rank deposits its tensors; the last one to arrive computes the
  // result; all return once it is there.
  absl::StatusOr<std::vector<torch::Tensor>> Exchange(int rank, std::vector<torch::Tensor> contribution, bool sum,
                                                      int root);

  const int world_size_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
  int departed_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::vector<torch::Tensor>> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<torch::Tensor> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::trainer
