// CurlFetcher: the real Fetcher, on one libcurl multi handle driven by one
// event-loop thread (no thread per request).
//
// - http and https only; redirects are not followed but returned
//   (FetchResult::redirect_url), so the caller's politeness sees every hop;
// - HTTP/2 multiplexing and connection reuse where the server offers them;
// - DNS cache, TLS sessions and connections shared by every transfer (CURLSH);
// - bodies above FetchRequest::max_bytes are cut off in the write callback
//   (or refused from Content-Length) and reported as kTooLarge;
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
#include "atelier/net/address_guard.h"
#include "atelier/net/fetcher.h"

namespace atelier::net {

struct CurlFetcherOptions {
  std::string user_agent = "atelier-crawler/0.1 (+https://github.com/atelier)";
  AddressGuard guard;  // default: no loopback/private/link-local addresses
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

  const CurlFetcherOptions options_;
  void* multi_;  // CURLM*
  void* share_;  // CURLSH*
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> incoming_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::unordered_set<Transfer*> active_;  // event-loop thread only
  std::thread thread_;
};

}  // namespace atelier::net
