#include "atelier/crawler/coordinator_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "atelier/rpc/grpc_status.h"

namespace atelier::crawler {
namespace {

absl::Status FromGrpc(const grpc::Status& s, absl::string_view rpc, const std::string& target) {
  return rpc::FromGrpcStatus(s, absl::StrCat("coordinator ", target, ": ", rpc));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
}

}  // namespace

CoordinatorClient::CoordinatorClient(const std::string& target, absl::Duration rpc_timeout)
    : target_(target),
      rpc_timeout_(rpc_timeout),
      stub_(v1::CrawlService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}

#define ATELIER_UNARY(Method, Request, Response)                                      \
  absl::StatusOr<v1::Response> CoordinatorClient::Method(const v1::Request& request) { \
    grpc::ClientContext context;                                                      \
    SetDeadline(context, rpc_timeout_);                                               \
    v1::Response response;                                                            \
    grpc::Status s = stub_->Method(&context, request, &response);                     \
    if (!s.ok()) return FromGrpc(s, #Method, target_);                                \
    return response;                                                                  \
  }

ATELIER_UNARY(RegisterWorker, RegisterWorkerRequest, RegisterWorkerResponse)
ATELIER_UNARY(LeaseShard, LeaseShardRequest, LeaseShardResponse)
ATELIER_UNARY(Heartbeat, HeartbeatRequest, HeartbeatResponse)
ATELIER_UNARY(ReportProgress, ReportProgressRequest, ReportProgressResponse)
#undef ATELIER_UNARY

absl::StatusOr<v1::CompleteShardResponse> CoordinatorClient::CompleteShard(const v1::CompleteShardRequest& request) {
  grpc::ClientContext context;
  SetDeadline(context, rpc_timeout_);
  v1::CompleteShardResponse response;
  grpc::Status s = stub_->CompleteShard(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    response.set_accepted(false);
    return response;
  }
  if (!s.ok()) return FromGrpc(s, "CompleteShard", target_);
  return response;
}

absl::StatusOr<v1::ReleaseShardResponse> CoordinatorClient::ReleaseShard(const v1::ReleaseShardRequest& request,
                                                                         absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  v1::ReleaseShardResponse response;
  grpc::Status s = stub_->ReleaseShard(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    response.set_released(false);
    return response;
  }
  if (!s.ok()) return FromGrpc(s, "ReleaseShard", target_);
  return response;
}

}  // namespace atelier::crawler
