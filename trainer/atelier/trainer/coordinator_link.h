// CoordinatorLink: a trainer's connection to the coordinator (`--coordinator`):
// rendezvous through TrainingService.JoinTraining when no launcher variables
// give the rank, and metrics reports that `atelier status` shows beside the
// crawl. Reports are best effort (a 2 s deadline, failures logged once, never
// fatal): a coordinator restart must not stop training. No LibTorch.
// Thread-compatible: one link per trainer process, used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/trainer/metrics.h"

namespace atelier::trainer {

struct Rendezvous {
  int rank = 0;
  int world_size = 1;
  std::string master_addr;
  int master_port = 0;
};

struct ReportContext {
  std::string run;
  int rank = 0;
  int world_size = 1;
  int epochs_total = 0;
  int64_t steps_total = 0;
  std::string last_checkpoint;  // relative to the dataset root when possible
};

class CoordinatorLink {
 public:
  static std::unique_ptr<CoordinatorLink> Connect(const std::string& address);
  ~CoordinatorLink();

  // Blocks until `world_size` ranks joined `run` (or `timeout_s` passes).
  // `store_port` is a free local port, used if this process becomes rank 0.
  absl::StatusOr<Rendezvous> Join(const std::string& run, int world_size, const std::string& hostname,
                                  int store_port, const std::string& member_id, int timeout_s);

  // Reports an epoch (phase training) or the end of the run (done = true).
  // Returns true when an operator asked the run to checkpoint and stop.
  bool ReportEpoch(const ReportContext& context, const EpochRecord& record, bool done);

 private:
  struct Stub;
  explicit CoordinatorLink(std::unique_ptr<Stub> stub, std::string address);
  std::unique_ptr<Stub> stub_;
  std::string address_;
  bool warned_ = false;
};

}  // namespace atelier::trainer
