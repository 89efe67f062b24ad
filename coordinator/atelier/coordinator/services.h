// The gRPC edge of the coordinator: CrawlService and StatusService over a
// ShardTable. Every request is checked first (rpc_validation.h:
// INVALID_ARGUMENT naming the field); absl::Status errors become grpc::Status
// through atelier::rpc::ToGrpcStatus, the one mapping. Both services are
// thread-safe (the ShardTable is).
//
// WatchStatus sends a JobStatus at once, then one per interval and on every
// shard change, until the crawl is done (final status sent, stream closed),
// the client cancels, or Shutdown() is called.
#pragma once

#include <atomic>
#include <string>

#include "atelier/common/clock.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/coordinator/training_registry.h"
#include "atelier/v1/crawl.grpc.pb.h"
#include "atelier/v1/status.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace atelier::coordinator {

class CrawlServiceImpl final : public v1::CrawlService::Service {
 public:
  CrawlServiceImpl(ShardTable& table, v1::CrawlSettings settings, std::string job_name)
      : table_(table), settings_(std::move(settings)), job_name_(std::move(job_name)) {}

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest* request,
                              v1::RegisterWorkerResponse* response) override;
  grpc::Status LeaseShard(grpc::ServerContext*, const v1::LeaseShardRequest* request,
                          v1::LeaseShardResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status ReportProgress(grpc::ServerContext*, const v1::ReportProgressRequest* request,
                              v1::ReportProgressResponse* response) override;
  grpc::Status CompleteShard(grpc::ServerContext*, const v1::CompleteShardRequest* request,
                             v1::CompleteShardResponse* response) override;
  grpc::Status ReleaseShard(grpc::ServerContext*, const v1::ReleaseShardRequest* request,
                            v1::ReleaseShardResponse* response) override;
  grpc::Status SealSegment(grpc::ServerContext*, const v1::SealSegmentRequest* request,
                           v1::SealSegmentResponse* response) override;

 private:
  ShardTable& table_;
  const v1::CrawlSettings settings_;
  const std::string job_name_;
};

class StatusServiceImpl final : public v1::StatusService::Service {
 public:
  StatusServiceImpl(ShardTable& table, Clock& clock) : table_(table), clock_(clock) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::JobStatus* response) override;
  grpc::Status WatchStatus(grpc::ServerContext* context, const v1::WatchStatusRequest* request,
                           grpc::ServerWriter<v1::JobStatus>* writer) override;
  grpc::Status ListDeadLinks(grpc::ServerContext*, const v1::ListDeadLinksRequest* request,
                             v1::ListDeadLinksResponse* response) override;
  grpc::Status ListFailedItems(grpc::ServerContext*, const v1::ListFailedItemsRequest* request,
                               v1::ListFailedItemsResponse* response) override;

  // Ends every WatchStatus stream (server shutdown).
  void Shutdown();
  // Training runs shown beside the crawl (not owned; may stay unset).
  void set_training(const TrainingRegistry* training) { training_ = training; }
  // The crawl status plus the training runs, as GetStatus answers it.
  v1::JobStatus Snapshot();

 private:

  ShardTable& table_;
  Clock& clock_;
  const TrainingRegistry* training_ = nullptr;
  std::atomic<bool> shutdown_{false};
};

}  // namespace atelier::coordinator
