// TrainingRegistry: trainer rendezvous and the latest metrics of each run.
//
// Join() blocks until `world_size` members have joined the run (or the
// deadline from the injected Clock passes), then every member gets its rank
// (join order; a member that joins again with the same member_id keeps its
// rank), rank 0's host and store port, and the group's generation. When a
// complete group is joined again by a new member set (a restart after a
// failure), the generation increases. Metrics reports of rank 0 are kept per
// run for status. State is in memory: after a coordinator restart, ranks join
// again and the next report refreshes status. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/common/clock.h"
#include "atelier/v1/training.pb.h"

namespace atelier::coordinator {

struct JoinRequest {
  std::string run;
  int world_size = 1;
  std::string hostname;
  int store_port = 0;
  std::string member_id;
  absl::Duration timeout = absl::Minutes(10);
};

struct JoinResult {
  int rank = 0;
  int world_size = 1;
  std::string master_addr;
  int master_port = 0;
  uint64_t generation = 0;
};

class TrainingRegistry {
 public:
  explicit TrainingRegistry(Clock* clock) : clock_(clock) {}

  absl::StatusOr<JoinResult> Join(const JoinRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  void ReportMetrics(const atelier::v1::ReportMetricsRequest& report) ABSL_LOCKS_EXCLUDED(mu_);
  // Asks `run` to checkpoint and stop (the StopTraining RPC); the next report
  // of rank 0 is answered with stop_requested. Returns whether the run had
  // reported before.
  bool RequestStop(const std::string& run) ABSL_LOCKS_EXCLUDED(mu_);
  bool StopRequested(const std::string& run) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<atelier::v1::TrainingRunStatus> Runs() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Member {
    std::string member_id;
    std::string hostname;
    int store_port = 0;
  };
  struct Run {
    int world_size = 0;
    uint64_t generation = 0;
    std::vector<Member> members;     // join order = rank
    bool complete = false;
    bool stop_requested = false;
    bool has_report = false;
    atelier::v1::ReportMetricsRequest last;
    int64_t updated_at_ms = 0;
  };

  Clock* clock_;  // not owned
  mutable absl::Mutex mu_;
  std::map<std::string, Run> runs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::coordinator
