#include "atelier/crawler/coordinator_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "atelier/rpc/grpc_status.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {
namespace {

absl::Status FromGrpc(const grpc::Status& s, absl::string_view rpc, const std::string& target) {
  return rpc::FromGrpcStatus(s, absl::StrCat("coordinator ", target, ": ", rpc));
}

// Failures that a coordinator coming back cures.
bool Transient(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const CoordinatorClientOptions& options) {
  grpc::ChannelArguments args;
  const int reconnect_ms = static_cast<int>(std::max<int64_t>(100, absl::ToInt64Milliseconds(options.max_reconnect_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_ms);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(reconnect_ms, 100));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(reconnect_ms, 100));
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

CoordinatorClient::CoordinatorClient(const std::string& target, CoordinatorClientOptions options, Clock& clock)
    : target_(target),
      options_(options),
      clock_(clock),
      stub_(v1::CrawlService::NewStub(MakeChannel(target, options))) {}

CoordinatorClient::~CoordinatorClient() = default;

void CoordinatorClient::Cancel() {
  absl::MutexLock l(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
}

bool CoordinatorClient::Wait(absl::Duration d) {
  absl::MutexLock l(&mu_);
  return !clock_.WaitUntil(mu_, clock_.Now() + d,
                           [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancelled_; });
}

absl::Status CoordinatorClient::Call(absl::string_view rpc, Retry retry, absl::Duration timeout,
                                     const std::function<grpc::Status(grpc::ClientContext&)>& attempt) {
  const absl::Time start = clock_.Now();
  for (int n = 1;; ++n) {
    grpc::ClientContext context;
    bool once = retry == Retry::kOnce;
    {
      absl::MutexLock l(&mu_);
      once = once || cancelled_;
      in_flight_.insert(&context);
    }
    context.set_wait_for_ready(!once);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));
    const grpc::Status s = attempt(context);
    absl::Duration delay;
    {
      absl::MutexLock l(&mu_);
      in_flight_.erase(&context);
      once = once || cancelled_;
      delay = BackoffDelay(options_.backoff, n, rng_);
    }
    if (s.ok()) {
      if (n > 1) spdlog::info("coordinator {}: {} succeeded after {} attempts", target_, std::string(rpc), n);
      return absl::OkStatus();
    }
    absl::Status status = FromGrpc(s, rpc, target_);
    if (once || !Transient(s)) return status;
    const absl::Duration out = clock_.Now() - start;
    if (out >= options_.outage_budget) {
      return absl::Status(status.code(), absl::StrCat(status.message(), " (unreachable for ",
                                                      absl::FormatDuration(absl::Trunc(out, absl::Seconds(1))),
                                                      ", outage budget ",
                                                      absl::FormatDuration(options_.outage_budget), ")"));
    }
    spdlog::warn("{} (attempt {}; retrying for up to {} more)", std::string(status.message()), n,
                 absl::FormatDuration(absl::Trunc(options_.outage_budget - out, absl::Seconds(1))));
    if (!Wait(delay)) return status;
  }
}

template <typename Request, typename Response>
absl::StatusOr<Response> CoordinatorClient::Unary(absl::string_view rpc, Retry retry, absl::Duration timeout,
                                                  StubMethod<Request, Response> method, const Request& request) {
  Response response;
  absl::Status s = Call(rpc, retry, timeout, [&](grpc::ClientContext& c) {
    response.Clear();
    return (stub_.get()->*method)(&c, request, &response);
  });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::HeartbeatResponse> CoordinatorClient::Heartbeat(const v1::HeartbeatRequest& request, Retry retry) {
  return Unary("Heartbeat", retry, options_.rpc_timeout, &v1::CrawlService::Stub::Heartbeat, request);
}

absl::StatusOr<v1::ReportProgressResponse> CoordinatorClient::ReportProgress(const v1::ReportProgressRequest& request,
                                                                             Retry retry) {
  return Unary("ReportProgress", retry, options_.rpc_timeout, &v1::CrawlService::Stub::ReportProgress, request);
}

absl::StatusOr<v1::RegisterWorkerResponse> CoordinatorClient::RegisterWorker(const v1::RegisterWorkerRequest& request) {
  return Unary("RegisterWorker", Retry::kUntilBudget, options_.rpc_timeout, &v1::CrawlService::Stub::RegisterWorker,
               request);
}

absl::StatusOr<v1::LeaseShardResponse> CoordinatorClient::LeaseShard(const v1::LeaseShardRequest& request) {
  return Unary("LeaseShard", Retry::kUntilBudget, options_.rpc_timeout, &v1::CrawlService::Stub::LeaseShard, request);
}

absl::StatusOr<v1::CompleteShardResponse> CoordinatorClient::CompleteShard(const v1::CompleteShardRequest& request) {
  auto response = Unary("CompleteShard", Retry::kUntilBudget, options_.rpc_timeout,
                        &v1::CrawlService::Stub::CompleteShard, request);
  if (absl::IsFailedPrecondition(response.status())) {
    v1::CompleteShardResponse refused;
    refused.set_accepted(false);
    return refused;
  }
  return response;
}

absl::StatusOr<v1::SealSegmentResponse> CoordinatorClient::SealSegment(const v1::SealSegmentRequest& request) {
  auto response =
      Unary("SealSegment", Retry::kOnce, options_.rpc_timeout, &v1::CrawlService::Stub::SealSegment, request);
  if (absl::IsFailedPrecondition(response.status())) {
    v1::SealSegmentResponse refused;
    refused.set_accepted(false);
    return refused;
  }
  return response;
}

absl::StatusOr<v1::ReleaseShardResponse> CoordinatorClient::ReleaseShard(const v1::ReleaseShardRequest& request,
                                                                         absl::Duration timeout) {
  auto response = Unary("ReleaseShard", Retry::kOnce, timeout, &v1::CrawlService::Stub::ReleaseShard, request);
  if (absl::IsFailedPrecondition(response.status())) {
    v1::ReleaseShardResponse refused;
    refused.set_released(false);
    return refused;
  }
  return response;
}

}  // namespace atelier::crawler
