#include "atelier/demo/origin_server.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "httplib.h"

namespace atelier::demo {
namespace {

constexpr char kMetPrefix[] = "/met/v1";
constexpr char kThrottlePage[] =
    "<!DOCTYPE html><html><head><title>Access Denied</title></head>"
    "<body>You don't have permission to access this resource (replica).</body></html>";

}  // namespace

OriginServer::OriginServer() : server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<OriginServer>> OriginServer::Start() {
  std::unique_ptr<OriginServer> origin(new OriginServer());
  OriginServer* self = origin.get();
  self->server_->Get(".*", [self](const httplib::Request& req, httplib::Response& res) {
    self->requests_.fetch_add(1);
    int status = 200;
    std::string content_type;
    std::string body = self->Handle(req.path, req.get_param_value("q"), &status, &content_type);
    res.status = status;
    res.set_content(std::move(body), content_type.c_str());
  });
  ASSIGN_OR_RETURN(self->runner_, HttpServerThread::Start(*self->server_, "127.0.0.1", 0));
  return origin;
}

OriginServer::~OriginServer() { runner_.reset(); }  // stop serving before any member goes

std::string OriginServer::base_url() const { return absl::StrCat("http://127.0.0.1:", runner_->port()); }
std::string OriginServer::met_api() const { return base_url() + kMetPrefix; }

void OriginServer::Serve(const std::string& path, const std::string& content_type, std::string body,
                         int html_first) {
  absl::MutexLock lock(&mu_);
  routes_[path] = Route{content_type, std::move(body), html_first};
}

void OriginServer::AddMetSearch(const std::string& q, std::vector<int64_t> object_ids) {
  absl::MutexLock lock(&mu_);
  auto& ids = met_searches_[q];
  ids.insert(ids.end(), object_ids.begin(), object_ids.end());
}

void OriginServer::AddMetObject(int64_t object_id, std::string object_json, int html_first) {
  Serve(absl::StrCat(kMetPrefix, "/objects/", object_id), "application/json", std::move(object_json),
        html_first);
}

std::string OriginServer::Handle(const std::string& path, const std::string& query_q, int* status,
                                 std::string* content_type) {
  absl::MutexLock lock(&mu_);
  if (path == absl::StrCat(kMetPrefix, "/search")) {
    *content_type = "application/json";
    auto it = met_searches_.find(query_q);
    if (it == met_searches_.end() || it->second.empty()) return R"({"total":0,"objectIDs":null})";
    return absl::StrCat(R"({"total":)", it->second.size(), R"(,"objectIDs":[)",
                        absl::StrJoin(it->second, ","), "]}");
  }
  auto it = routes_.find(path);
  if (it == routes_.end()) {
    *status = 404;
    *content_type = "text/html";
    return "<html><body>404 Not Found</body></html>";
  }
  if (it->second.html_left > 0) {
    --it->second.html_left;
    *content_type = "text/html";
    return kThrottlePage;
  }
  *content_type = it->second.content_type;
  return it->second.body;
}

}  // namespace atelier::demo
