// CoordinatorClient: the crawler's side of CrawlService (proto/atelier/v1/
// crawl.proto) over gRPC, with grpc::Status turned into absl::Status at this
// edge. Every call has a deadline (`rpc_timeout`). Thread-safe (gRPC stubs are).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/v1/crawl.grpc.pb.h"

namespace atelier::crawler {

class CoordinatorClient {
 public:
  // `target` is HOST:PORT of the coordinator.
  CoordinatorClient(const std::string& target, absl::Duration rpc_timeout);

  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(const v1::RegisterWorkerRequest& request);
  absl::StatusOr<v1::LeaseShardResponse> LeaseShard(const v1::LeaseShardRequest& request);
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(const v1::ReportProgressRequest& request);
  // A refusal for a stale fencing token (FAILED_PRECONDITION) is returned as
  // accepted = false, not as an error.
  absl::StatusOr<v1::CompleteShardResponse> CompleteShard(const v1::CompleteShardRequest& request);
  absl::StatusOr<v1::ReleaseShardResponse> ReleaseShard(const v1::ReleaseShardRequest& request,
                                                        absl::Duration timeout);

  const std::string& target() const { return target_; }

 private:
  const std::string target_;
  const absl::Duration rpc_timeout_;
  std::unique_ptr<v1::CrawlService::Stub> stub_;
};

}  // namespace atelier::crawler
