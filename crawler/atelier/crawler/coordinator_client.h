// CoordinatorClient: the crawler's side of CrawlService (proto/atelier/v1/
// crawl.proto) over gRPC, with grpc::Status turned into absl::Status at this
// edge.
//
// Coordinator outages: a call made with Retry::kUntilBudget waits for the
// channel to be ready (gRPC wait-for-ready, not fail-fast) for at most
// `rpc_timeout` per attempt, and an attempt that fails UNAVAILABLE or
// DEADLINE_EXCEEDED is tried again after a backoff (common/backoff.h's BackoffDelay,
// full jitter) until `outage_budget` has passed since the first attempt; then
// the last error is returned. Retry::kOnce makes one fail-fast attempt (for
// calls whose caller carries on anyway, such as heartbeats during a crawl).
// gRPC's reconnect backoff is capped at `max_reconnect_backoff`, so a
// coordinator that is back is found within about that long.
//
// Thread-safe (gRPC stubs are). Cancel() may be called from any thread: it
// ends every retry wait and attempt in progress at once and makes later calls
// single attempts (for SIGTERM: stop now, but still release the lease).
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/common/backoff.h"
#include "atelier/common/clock.h"
#include "atelier/v1/crawl.grpc.pb.h"

namespace atelier::crawler {

struct CoordinatorClientOptions {
  absl::Duration rpc_timeout = absl::Seconds(10);    // one attempt
  absl::Duration outage_budget = absl::Minutes(2);   // how long transient failures are retried
  BackoffPolicy backoff{absl::Milliseconds(250), absl::Seconds(5)};  // between attempts
  absl::Duration max_reconnect_backoff = absl::Seconds(1);            // gRPC channel reconnects
};

class CoordinatorClient {
 public:
  enum class Retry { kUntilBudget, kOnce };

  // `target` is HOST:PORT of the coordinator. `clock` times the budget and the
  // waits between attempts.
  CoordinatorClient(const std::string& target, CoordinatorClientOptions options, Clock& clock);
  ~CoordinatorClient();

  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(const v1::RegisterWorkerRequest& request);
  absl::StatusOr<v1::LeaseShardResponse> LeaseShard(const v1::LeaseShardRequest& request);
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request,
                                                  Retry retry = Retry::kUntilBudget);
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(const v1::ReportProgressRequest& request,
                                                            Retry retry = Retry::kOnce);
  // A refusal for a stale fencing token (FAILED_PRECONDITION) is returned as
  // accepted = false, not as an error.
  absl::StatusOr<v1::CompleteShardResponse> CompleteShard(const v1::CompleteShardRequest& request);
  // One fail-fast attempt (the next seal carries the items on); a refusal for
  // a stale fencing token is accepted = false, not an error.
  absl::StatusOr<v1::SealSegmentResponse> SealSegment(const v1::SealSegmentRequest& request);
  // One fail-fast attempt with its own deadline; a refusal is released = false.
  absl::StatusOr<v1::ReleaseShardResponse> ReleaseShard(const v1::ReleaseShardRequest& request,
                                                        absl::Duration timeout);

  void Cancel();
  const std::string& target() const { return target_; }
  const CoordinatorClientOptions& options() const { return options_; }

 private:
  // Runs `attempt(context)` under the retry rules above.
  absl::Status Call(absl::string_view rpc, Retry retry, absl::Duration timeout,
                    const std::function<grpc::Status(grpc::ClientContext&)>& attempt);
  template <typename Request, typename Response>
  using StubMethod = grpc::Status (v1::CrawlService::Stub::*)(grpc::ClientContext*, const Request&, Response*);
  // One RPC through Call().
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(absl::string_view rpc, Retry retry, absl::Duration timeout,
                                 StubMethod<Request, Response> method, const Request& request);
  // Waits `d` on the clock; false when Cancel() came first.
  bool Wait(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string target_;
  const CoordinatorClientOptions options_;
  Clock& clock_;
  std::unique_ptr<v1::CrawlService::Stub> stub_;

  absl::Mutex mu_;  // Cancel() wakes Wait() by setting cancelled_ under it
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_){0x0c00d};
};

}  // namespace atelier::crawler
