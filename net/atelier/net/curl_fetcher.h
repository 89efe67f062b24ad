// CurlFetcher: the real Fetcher, on one libcurl multi handle driven by one
// event-loop thread (no thread per request).
//
// - http and https only; redirects are not followed but returned
//   (FetchResult::redirect_url), so the caller's politeness sees every hop;
// - HTTP/2 multiplexing and connection reuse where the server offers them;
// - DNS cache, TLS sessions and connections shared by every transfer (CURLSH);
// - bodies above FetchRequest::max_bytes are cut off in the write callback
//   (or refused from Content-Length) and reported as kTooLarge;
// - with a MemoryBudget (CurlFetcherOptions::budget), every body's buffer is
//   reserved in it as it grows (Content-Length when known, then the
//   decompressed bytes as they arrive, so a gzip bomb counts what it inflates
//   to); a transfer whose growth is refused is paused (not failed) and resumed
//   when the budget has room; a compressed one is dropped with kOverBudget
//   instead (libcurl would keep inflating into a buffer of its own while
//   paused). When transfers are paused and no body has received a byte for
//   `stall_abort_after`, paused ones are dropped with kOverBudget, holding
//   the least first: one, or as many as a waiting decode needs
//   (MemoryBudget::shortfall). kOverBudget is not a failure:
//   the caller fetches the URL again;
// - a whole-request timeout per request;
// - every connection (each redirect hop, each address tried) is checked
//   against the AddressGuard at connect time, after DNS: a refused address
//   is never connected to (kBlockedAddress when no address of the hop is left).
//
// Thread safety: Start() may be called from any thread; callbacks run on the
// event-loop thread. The destructor cancels outstanding requests (their
// callbacks get kCancelled) and joins the thread.
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <atomic>
#include <unordered_set>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/clock.h"
#include "atelier/common/memory_budget.h"
#include "atelier/net/address_guard.h"
#include "atelier/net/fetcher.h"

namespace atelier::net {

struct CurlFetcherOptions {
  std::string user_agent = "atelier-crawler/0.1 (+https://github.com/atelier)";
  AddressGuard guard;  // default: no loopback/private/link-local addresses
  MemoryBudget* budget = nullptr;  // bodies' memory (must outlive the fetcher); null: not counted
  Clock* clock = &Clock::Real();   // for stall_abort_after
  absl::Duration stall_abort_after = absl::Milliseconds(500);
};

class CurlFetcher final : public Fetcher {
 public:
  static absl::StatusOr<std::unique_ptr<CurlFetcher>> Create(CurlFetcherOptions options = {});
  ~CurlFetcher() override;
  CurlFetcher(const CurlFetcher&) = delete;
  CurlFetcher& operator=(const CurlFetcher&) = delete;

  void Start(FetchRequest request, Callback done) override;

 private:
  struct Transfer;
  CurlFetcher(CurlFetcherOptions options, void* multi, void* share);
  void Loop();
  void AddTransfer(std::unique_ptr<Transfer> transfer);
  void Finish(Transfer* transfer, int curl_code);
  // Resumes paused transfers the budget has room for; drops one when all
  // are stuck (stall_abort_after).
  void ResumePaused();

  const CurlFetcherOptions options_;
  void* multi_;  // CURLM*
  void* share_;  // CURLSH*
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> incoming_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::unordered_set<Transfer*> active_;  // event-loop thread only
  std::deque<Transfer*> paused_;           // event-loop thread only, oldest first
  absl::Time stalled_since_ = absl::InfiniteFuture();  // event-loop thread only: paused, no byte since
  std::thread thread_;
};

}  // namespace atelier::net
