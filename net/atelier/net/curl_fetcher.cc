#include "atelier/net/curl_fetcher.h"

#include <curl/curl.h>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace atelier::net {

struct CurlFetcher::Transfer {
  FetchRequest request;
  Callback done;
  CURL* easy = nullptr;
  FetchResult result;
  bool over_limit = false;
  MemoryBudget::Reservation memory;  // what `result.body`'s buffer holds of the budget
  MemoryBudget* budget = nullptr;
  bool paused = false;
  int64_t wanted = 0;        // bytes a paused transfer waits for
  bool over_budget = false;  // dropped to free the budget
  bool progressed = false;   // received bytes since ResumePaused last looked
  const AddressGuard* guard = nullptr;
  bool blocked = false;  // the guard refused an address of this transfer
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

namespace {

FetchError ErrorClass(CURLcode code) {
  switch (code) {
    case CURLE_OK: return FetchError::kNone;
    case CURLE_OPERATION_TIMEDOUT: return FetchError::kTimeout;
    case CURLE_PARTIAL_FILE: return FetchError::kTruncated;
    case CURLE_TOO_MANY_REDIRECTS: return FetchError::kTooManyRedirects;
    case CURLE_FILESIZE_EXCEEDED: return FetchError::kTooLarge;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return FetchError::kBadUrl;
    default: return FetchError::kConnection;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlFetcher>> CurlFetcher::Create(CurlFetcherOptions options) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(global)));
  }
  CURLM* multi = curl_multi_init();
  CURLSH* share = curl_share_init();
  if (multi == nullptr || share == nullptr) {
    if (multi) curl_multi_cleanup(multi);
    if (share) curl_share_cleanup(share);
    return absl::InternalError("cannot create a libcurl multi/share handle");
  }
  // One thread uses the share, so no lock callbacks are needed.
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  return std::unique_ptr<CurlFetcher>(new CurlFetcher(std::move(options), multi, share));
}

CurlFetcher::CurlFetcher(CurlFetcherOptions options, void* multi, void* share)
    : options_(std::move(options)), multi_(multi), share_(share) {
  thread_ = std::thread([this] { Loop(); });
}

CurlFetcher::~CurlFetcher() {
  stop_.store(true);
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  curl_share_cleanup(static_cast<CURLSH*>(share_));
}

void CurlFetcher::Start(FetchRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  {
    absl::MutexLock l(&mu_);
    if (!stop_.load()) {
      incoming_.push_back(std::move(transfer));
      transfer = nullptr;
    }
  }
  if (transfer != nullptr) {
    FetchResult result;
    result.error = FetchError::kCancelled;
    result.error_message = "fetcher is shutting down";
    transfer->done(std::move(result));
    return;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void CurlFetcher::AddTransfer(std::unique_ptr<Transfer> transfer) {
  CURL* easy = curl_easy_init();
  Transfer* t = transfer.release();
  if (easy == nullptr) {
    t->result.error = FetchError::kConnection;
    t->result.error_message = "curl_easy_init failed";
    Callback done = std::move(t->done);
    FetchResult result = std::move(t->result);
    delete t;
    done(std::move(result));
    return;
  }
  t->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, t->request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_SHARE, static_cast<CURLSH*>(share_));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // the caller follows redirects
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(t->request.timeout))));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(t->request.timeout))));
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->request.max_bytes));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error_buffer);
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 300L);
  t->guard = &options_.guard;
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION,
                   +[](void* user, curlsocktype purpose, curl_sockaddr* address) -> curl_socket_t {
                     auto* tr = static_cast<Transfer*>(user);
                     if (purpose == CURLSOCKTYPE_IPCXN && !tr->guard->Allows(&address->addr)) {
                       tr->blocked = true;
                       return CURL_SOCKET_BAD;  // curl tries the next address, if any
                     }
                     return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
                   });
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                   +[](char* data, size_t size, size_t nmemb, void* user) -> size_t {
                     auto* tr = static_cast<Transfer*>(user);
                     const size_t n = size * nmemb;
                     std::string& body = tr->result.body;
                     const auto needed = static_cast<int64_t>(body.size() + n);
                     if (needed > tr->request.max_bytes) {
                       tr->over_limit = true;
                       return 0;  // aborts the transfer with CURLE_WRITE_ERROR
                     }
                     if (needed > static_cast<int64_t>(body.capacity())) {
                       // Grow to Content-Length the first time (when it fits
                       // max_bytes), else double; never past max_bytes.
                       int64_t target = std::min(tr->request.max_bytes,
                                                 std::max<int64_t>(needed, 2 * static_cast<int64_t>(body.capacity())));
                       if (body.empty()) {
                         curl_off_t length = -1;
                         curl_easy_getinfo(tr->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
                         if (length >= needed && length <= tr->request.max_bytes) target = length;
                       }
                       if (!tr->memory.TryGrow(target - tr->memory.bytes())) {
                         if (tr->result.headers.count("content-encoding") > 0) {
                           // libcurl would go on inflating into its own
                           // buffer while paused (a bomb's whole network
                           // read): drop it instead, to be fetched again.
                           tr->over_budget = true;
                           return 0;
                         }
                         tr->wanted = target - tr->memory.bytes();
                         tr->paused = true;
                         return CURL_WRITEFUNC_PAUSE;  // ResumePaused continues it
                       }
                       body.reserve(static_cast<size_t>(target));
                     }
                     body.append(data, n);
                     tr->progressed = true;
                     return n;
                   });
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION,
                   +[](char* data, size_t size, size_t nmemb, void* user) -> size_t {
                     auto* tr = static_cast<Transfer*>(user);
                     const size_t n = size * nmemb;
                     absl::string_view line(data, n);
                     if (absl::StartsWith(line, "HTTP/")) {
                       tr->result.headers.clear();  // a new response (after a redirect)
                       return n;
                     }
                     const size_t colon = line.find(':');
                     if (colon == absl::string_view::npos) return n;
                     std::string name = absl::AsciiStrToLower(line.substr(0, colon));
                     absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
                     tr->result.headers[name] = std::string(value);
                     return n;
                   });
  if (options_.budget != nullptr) {
    t->budget = options_.budget;
    t->budget->TryAcquire(0, &t->memory);  // an empty reservation bound to the budget
  }
  active_.insert(t);
  CURLMcode mc = curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  if (mc != CURLM_OK) {
    t->result.error_message = curl_multi_strerror(mc);
    Finish(t, CURLE_FAILED_INIT);
  }
}

void CurlFetcher::Finish(Transfer* t, int curl_code) {
  const auto code = static_cast<CURLcode>(curl_code);
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  char* effective = nullptr;
  curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &effective);
  t->result.http_status = static_cast<int>(status);
  if (effective != nullptr) t->result.effective_url = effective;
  char* location = nullptr;
  curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
  if (location != nullptr) t->result.redirect_url = location;
  t->result.bytes = static_cast<int64_t>(t->result.body.size());
  if (t->over_budget) {
    t->result.error = FetchError::kOverBudget;
    t->result.error_message = "dropped to free the memory budget; fetch again";
  } else if (code == CURLE_ABORTED_BY_CALLBACK) {
    t->result.error = FetchError::kCancelled;
  } else if (code == CURLE_WRITE_ERROR && t->over_limit) {
    t->result.error = FetchError::kTooLarge;
  } else if (code == CURLE_COULDNT_CONNECT && t->blocked) {
    t->result.error = FetchError::kBlockedAddress;
    t->result.error_message = "refused to connect: a loopback, private or link-local address (the SSRF guard)";
  } else {
    t->result.error = ErrorClass(code);
  }
  if (code != CURLE_OK && t->result.error_message.empty()) {
    t->result.error_message =
        t->error_buffer[0] != '\0' ? std::string(t->error_buffer) : std::string(curl_easy_strerror(code));
  }
  if (t->result.error != FetchError::kNone) {
    std::string().swap(t->result.body);  // an error's body is not used: free it now
    t->memory.Release();
  } else if (t->budget != nullptr) {
    t->result.memory = std::make_shared<MemoryBudget::Reservation>(std::move(t->memory));
  }
  active_.erase(t);
  paused_.erase(std::remove(paused_.begin(), paused_.end(), t), paused_.end());
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
  curl_easy_cleanup(t->easy);
  Callback done = std::move(t->done);
  FetchResult result = std::move(t->result);
  delete t;
  done(std::move(result));
}

void CurlFetcher::ResumePaused() {
  // Pick up the transfers paused by the write callback since the last look.
  for (Transfer* t : active_) {
    if (t->paused && std::find(paused_.begin(), paused_.end(), t) == paused_.end()) paused_.push_back(t);
  }
  std::deque<Transfer*> still;
  bool progress = false;
  for (Transfer* t : paused_) {
    if (t->memory.TryGrow(t->wanted)) {
      t->paused = false;
      t->wanted = 0;
      progress = true;
      curl_easy_pause(t->easy, CURLPAUSE_CONT);  // may call the write callback (and pause it again)
    }
    if (t->paused) still.push_back(t);
  }
  paused_.swap(still);
  for (Transfer* t : active_) progress = progress || std::exchange(t->progressed, false);
  const absl::Time now = options_.clock->Now();
  if (progress || paused_.empty()) {
    stalled_since_ = absl::InfiniteFuture();
    return;
  }
  if (stalled_since_ == absl::InfiniteFuture()) stalled_since_ = now;
  if (now - stalled_since_ < options_.stall_abort_after) return;
  // No body has received a byte for a while and some wait for memory that
  // the others hold: drop paused ones, holding the least first (the least
  // work lost), one when bodies wait for bodies, as many as a waiting decode
  // needs otherwise.
  stalled_since_ = absl::InfiniteFuture();
  int64_t to_free = options_.budget != nullptr ? options_.budget->shortfall() : 0;
  do {
    Transfer* victim = nullptr;
    for (Transfer* t : paused_) {
      if (t->memory.bytes() > 0 && (victim == nullptr || t->memory.bytes() < victim->memory.bytes())) victim = t;
    }
    if (victim == nullptr) return;  // they hold nothing: what holds the budget is elsewhere
    to_free -= victim->memory.bytes();
    victim->over_budget = true;
    Finish(victim, CURLE_ABORTED_BY_CALLBACK);
  } while (to_free > 0);
}

void CurlFetcher::Loop() {
  auto* multi = static_cast<CURLM*>(multi_);
  while (true) {
    std::deque<std::unique_ptr<Transfer>> batch;
    {
      absl::MutexLock l(&mu_);
      batch.swap(incoming_);
    }
    const bool stopping = stop_.load();
    for (auto& t : batch) {
      if (stopping) {
        FetchResult result;
        result.error = FetchError::kCancelled;
        result.error_message = "fetcher is shutting down";
        t->done(std::move(result));
      } else {
        AddTransfer(std::move(t));
      }
    }
    if (stopping) break;
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      Finish(t, msg->data.result);
    }
    ResumePaused();
    int fds = 0;
    // Paused transfers wait for the budget, which has no way to wake this
    // loop: look again soon.
    curl_multi_poll(multi, nullptr, 0, paused_.empty() ? 1000 : 10, &fds);
  }
  // Cancel what is still running.
  while (!active_.empty()) {
    Transfer* t = *active_.begin();
    t->result.error_message = "fetcher is shutting down";
    Finish(t, CURLE_ABORTED_BY_CALLBACK);
  }
}

}  // namespace atelier::net
