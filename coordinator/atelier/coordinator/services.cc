#include "atelier/coordinator/services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "atelier/coordinator/rpc_validation.h"
#include "atelier/rpc/grpc_status.h"

namespace atelier::coordinator {
namespace {

using rpc::ToGrpcStatus;

}  // namespace

// ---- CrawlService -------------------------------------------------------------

grpc::Status CrawlServiceImpl::RegisterWorker(grpc::ServerContext*,
                                              const v1::RegisterWorkerRequest* request,
                                              v1::RegisterWorkerResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto id = table_.RegisterWorker(*request);
  if (!id.ok()) return ToGrpcStatus(id.status());
  response->set_worker_id(*id);
  *response->mutable_settings() = settings_;
  response->set_job_name(job_name_);
  return grpc::Status::OK;
}

grpc::Status CrawlServiceImpl::LeaseShard(grpc::ServerContext*, const v1::LeaseShardRequest* request,
                                          v1::LeaseShardResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto lease = table_.Lease(request->worker_id());
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  *response = std::move(*lease);
  return grpc::Status::OK;
}

grpc::Status CrawlServiceImpl::Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                                         v1::HeartbeatResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto r = table_.Heartbeat(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CrawlServiceImpl::ReportProgress(grpc::ServerContext*,
                                              const v1::ReportProgressRequest* request,
                                              v1::ReportProgressResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto r = table_.ReportProgress(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CrawlServiceImpl::CompleteShard(grpc::ServerContext*,
                                             const v1::CompleteShardRequest* request,
                                             v1::CompleteShardResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  absl::Status s = table_.Complete(*request);
  if (!s.ok()) return ToGrpcStatus(s);
  response->set_accepted(true);
  return grpc::Status::OK;
}

grpc::Status CrawlServiceImpl::ReleaseShard(grpc::ServerContext*,
                                            const v1::ReleaseShardRequest* request,
                                            v1::ReleaseShardResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  absl::Status s = table_.Release(*request);
  if (!s.ok()) return ToGrpcStatus(s);
  response->set_released(true);
  return grpc::Status::OK;
}

// A stale token is answered accepted = false (as Heartbeat's ok = false).
grpc::Status CrawlServiceImpl::SealSegment(grpc::ServerContext*, const v1::SealSegmentRequest* request,
                                           v1::SealSegmentResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  absl::Status s = table_.Seal(*request);
  if (absl::IsFailedPrecondition(s)) {
    response->set_accepted(false);
    return grpc::Status::OK;
  }
  if (!s.ok()) return ToGrpcStatus(s);
  response->set_accepted(true);
  return grpc::Status::OK;
}

// ---- StatusService ------------------------------------------------------------

v1::JobStatus StatusServiceImpl::Snapshot() {
  v1::JobStatus status;
  status.set_server_time_ms(clock_.NowMillis());
  *status.mutable_crawl() = table_.Status();
  if (training_ != nullptr) {
    for (auto& run : training_->Runs()) *status.add_training() = std::move(run);
  }
  return status;
}

grpc::Status StatusServiceImpl::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                          v1::JobStatus* response) {
  *response = Snapshot();
  return grpc::Status::OK;
}

grpc::Status StatusServiceImpl::WatchStatus(grpc::ServerContext* context,
                                            const v1::WatchStatusRequest* request,
                                            grpc::ServerWriter<v1::JobStatus>* writer) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  const int interval_ms = request->interval_ms() == 0 ? 1000 : std::max(100, request->interval_ms());
  // Cancellation is noticed within this poll period even if nothing changes.
  const absl::Duration poll = absl::Milliseconds(std::min(interval_ms, 200));
  uint64_t seen = table_.change_seq();
  while (true) {
    v1::JobStatus status = Snapshot();
    const bool done = status.crawl().done();
    if (!writer->Write(status)) return grpc::Status::OK;  // client went away
    if (done) return grpc::Status::OK;
    const absl::Time next = clock_.Now() + absl::Milliseconds(interval_ms);
    while (true) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      if (shutdown_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator shutting down");
      const absl::Time wake = std::min(next, clock_.Now() + poll);
      const uint64_t now_seq = table_.WaitForChange(seen, wake, [this] { return shutdown_.load(); });
      if (now_seq != seen) {
        seen = now_seq;
        break;
      }
      if (clock_.Now() >= next) break;
    }
  }
}

grpc::Status StatusServiceImpl::ListDeadLinks(grpc::ServerContext*,
                                              const v1::ListDeadLinksRequest* request,
                                              v1::ListDeadLinksResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto r = table_.ListDeadLinks(request->page());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status StatusServiceImpl::ListFailedItems(grpc::ServerContext*,
                                                const v1::ListFailedItemsRequest* request,
                                                v1::ListFailedItemsResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto r = table_.ListFailedItems(request->page());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = std::move(*r);
  return grpc::Status::OK;
}

void StatusServiceImpl::Shutdown() {
  shutdown_ = true;
  table_.NotifyAll();
}

}  // namespace atelier::coordinator
