#include "atelier/coordinator/http_client.h"

#include <curl/curl.h>

#include <cctype>

#include "absl/strings/str_cat.h"

namespace atelier::coordinator {
namespace {

struct Body {
  std::string* out;
  int64_t limit;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t bytes = size * n;
  if (static_cast<int64_t>(body->out->size() + bytes) > body->limit) {
    body->too_large = true;
    return 0;
  }
  body->out->append(data, bytes);
  return bytes;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

CurlHttpClient::CurlHttpClient(int64_t max_body_bytes) : max_body_bytes_(max_body_bytes) {
  static CurlGlobal global;
}

absl::StatusOr<HttpResponse> CurlHttpClient::Get(const std::string& url, absl::Duration timeout) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpResponse response;
  Body body{&response.body, max_body_bytes_};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "atelier-coordinator/0.1");
  curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl.get());
  if (body.too_large) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GET ", url, ": body larger than ", max_body_bytes_, " bytes"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": ",
                                               error[0] ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  char* type = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &type);
  if (type) response.content_type = type;
  return response;
}

void FakeHttpClient::Add(const std::string& url, absl::StatusOr<HttpResponse> response) {
  std::lock_guard<std::mutex> lock(mu_);
  answers_[url].push_back(std::move(response));
}

absl::StatusOr<HttpResponse> FakeHttpClient::Get(const std::string& url, absl::Duration) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(url);
  auto it = answers_.find(url);
  if (it == answers_.end() || it->second.empty()) {
    return HttpResponse{404, "text/plain", "not found"};
  }
  absl::StatusOr<HttpResponse> answer = it->second.front();
  if (it->second.size() > 1) it->second.pop_front();
  return answer;
}

std::vector<std::string> FakeHttpClient::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace atelier::coordinator
