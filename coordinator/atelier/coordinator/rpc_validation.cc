#include "atelier/coordinator/rpc_validation.h"

#include "absl/strings/str_cat.h"
#include "atelier/coordinator/checkpoint_catalog.h"

namespace atelier::coordinator {
namespace {

absl::Status Bad(absl::string_view rpc, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(rpc, ": ", what));
}

// The checks every call on a held lease shares.
absl::Status CheckLeaseFields(absl::string_view rpc, const std::string& worker_id, uint64_t token) {
  if (worker_id.empty()) return Bad(rpc, "worker_id must not be empty (call RegisterWorker first)");
  if (token == 0) return Bad(rpc, "fencing_token must be the lease's token (never 0)");
  return absl::OkStatus();
}

absl::Status CheckResults(absl::string_view rpc, const google::protobuf::RepeatedPtrField<v1::ItemResult>& results) {
  for (const auto& r : results) {
    if (r.key().empty()) return Bad(rpc, "a result has an empty key");
  }
  return absl::OkStatus();
}

absl::Status CheckPage(absl::string_view rpc, const v1::PageRequest& page) {
  if (page.page_size() < 0) return Bad(rpc, absl::StrCat("page_size ", page.page_size(), " is negative"));
  return absl::OkStatus();
}

absl::Status CheckRun(absl::string_view rpc, const std::string& run) {
  if (run.empty()) return Bad(rpc, "run must not be empty");
  if (!IsSafeName(run)) return Bad(rpc, absl::StrCat("run '", run, "' must not contain '/' or be '.' or '..'"));
  return absl::OkStatus();
}

}  // namespace

absl::Status Validate(const v1::RegisterWorkerRequest& request) {
  if (request.concurrency() < 0) return Bad("RegisterWorker", "concurrency must not be negative");
  if (request.pid() < 0) return Bad("RegisterWorker", "pid must not be negative");
  return absl::OkStatus();
}

absl::Status Validate(const v1::LeaseShardRequest& request) {
  if (request.worker_id().empty()) return Bad("LeaseShard", "worker_id must not be empty (call RegisterWorker first)");
  return absl::OkStatus();
}

absl::Status Validate(const v1::HeartbeatRequest& request) {
  return CheckLeaseFields("Heartbeat", request.worker_id(), request.fencing_token());
}

absl::Status Validate(const v1::ReportProgressRequest& request) {
  if (auto s = CheckLeaseFields("ReportProgress", request.worker_id(), request.fencing_token()); !s.ok()) return s;
  if (request.bytes_downloaded() < 0) return Bad("ReportProgress", "bytes_downloaded must not be negative");
  return CheckResults("ReportProgress", request.results());
}

absl::Status Validate(const v1::CompleteShardRequest& request) {
  if (auto s = CheckLeaseFields("CompleteShard", request.worker_id(), request.fencing_token()); !s.ok()) return s;
  if (request.stats().bytes_downloaded() < 0) return Bad("CompleteShard", "stats.bytes_downloaded must not be negative");
  return CheckResults("CompleteShard", request.results());
}

absl::Status Validate(const v1::ReleaseShardRequest& request) {
  return CheckLeaseFields("ReleaseShard", request.worker_id(), request.fencing_token());
}

absl::Status Validate(const v1::SealSegmentRequest& request) {
  if (auto s = CheckLeaseFields("SealSegment", request.worker_id(), request.fencing_token()); !s.ok()) return s;
  return CheckResults("SealSegment", request.segment().results());
}

absl::Status Validate(const v1::WatchStatusRequest& request) {
  if (request.interval_ms() < 0) return Bad("WatchStatus", "interval_ms must not be negative");
  return absl::OkStatus();
}

absl::Status Validate(const v1::ListDeadLinksRequest& request) { return CheckPage("ListDeadLinks", request.page()); }

absl::Status Validate(const v1::ListFailedItemsRequest& request) {
  return CheckPage("ListFailedItems", request.page());
}

absl::Status Validate(const v1::JoinTrainingRequest& request) {
  if (auto s = CheckRun("JoinTraining", request.run()); !s.ok()) return s;
  if (request.world_size() < 1) return Bad("JoinTraining", absl::StrCat("world_size ", request.world_size(), " < 1"));
  if (request.hostname().empty()) return Bad("JoinTraining", "hostname must not be empty");
  if (request.store_port() < 0 || request.store_port() > 65535) {
    return Bad("JoinTraining", absl::StrCat("store_port ", request.store_port(), " is not in 0..65535"));
  }
  if (request.timeout_ms() < 0) return Bad("JoinTraining", "timeout_ms must not be negative");
  if (request.local_rank() < -1) return Bad("JoinTraining", "local_rank must be -1 (CPU) or a GPU index");
  return absl::OkStatus();
}

absl::Status Validate(const v1::ReportMetricsRequest& request) {
  if (auto s = CheckRun("ReportMetrics", request.run()); !s.ok()) return s;
  if (request.rank() < 0) return Bad("ReportMetrics", "rank must not be negative");
  if (request.step() < 0) return Bad("ReportMetrics", "step must not be negative");
  if (request.world_size() < 0) return Bad("ReportMetrics", "world_size must not be negative");
  return absl::OkStatus();
}

absl::Status Validate(const v1::StopTrainingRequest& request) { return CheckRun("StopTraining", request.run()); }

absl::Status Validate(const v1::ListCheckpointsRequest& request) {
  if (request.run().empty()) return absl::OkStatus();  // every run
  return CheckRun("ListCheckpoints", request.run());
}

absl::Status Validate(const v1::PullCheckpointRequest& request) {
  if (auto s = CheckRun("PullCheckpoint", request.run()); !s.ok()) return s;
  if (request.offset() < 0) return Bad("PullCheckpoint", "offset must not be negative");
  if (request.chunk_bytes() < 0) return Bad("PullCheckpoint", "chunk_bytes must not be negative");
  return absl::OkStatus();
}

}  // namespace atelier::coordinator
