#include "atelier/coordinator/prometheus_metrics.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "httplib.h"

namespace atelier::coordinator {
namespace {

std::string Escape(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

class Exposition {
 public:
  // Starts a metric family; samples follow with Sample().
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    absl::StrAppend(&text_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(const std::string& name, double value, const std::string& labels = "") {
    absl::StrAppend(&text_, name, labels.empty() ? "" : absl::StrCat("{", labels, "}"), " ", value, "\n");
  }
  void Single(const std::string& name, const std::string& type, const std::string& help, double value) {
    Family(name, type, help);
    Sample(name, value);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string RenderPrometheus(const atelier::v1::JobStatus& status) {
  const auto& c = status.crawl();
  Exposition e;
  e.Family("atelier_crawl_items", "gauge", "Crawl items by state.");
  e.Sample("atelier_crawl_items", static_cast<double>(c.items_ok()), R"(state="ok")");
  e.Sample("atelier_crawl_items", static_cast<double>(c.items_dead()), R"(state="dead")");
  e.Sample("atelier_crawl_items", static_cast<double>(c.items_failed()), R"(state="failed")");
  e.Sample("atelier_crawl_items", static_cast<double>(c.items_pending()), R"(state="pending")");
  e.Single("atelier_crawl_items_total", "gauge", "Items in the job.", static_cast<double>(c.items_total()));
  e.Family("atelier_crawl_shards", "gauge", "Shards by state.");
  e.Sample("atelier_crawl_shards", static_cast<double>(c.shards_done()), R"(state="done")");
  e.Sample("atelier_crawl_shards", static_cast<double>(c.shards_leased()), R"(state="leased")");
  e.Sample("atelier_crawl_shards", static_cast<double>(c.shards_failed()), R"(state="failed")");
  e.Sample("atelier_crawl_shards", static_cast<double>(c.shards_pending()), R"(state="pending")");
  e.Family("atelier_crawl_workers", "gauge", "Crawler workers by state.");
  e.Sample("atelier_crawl_workers", c.workers_alive(), R"(state="alive")");
  e.Sample("atelier_crawl_workers", c.workers_lost(), R"(state="lost")");
  e.Single("atelier_crawl_items_per_second", "gauge", "Items finished per second over the last minute.",
           c.items_per_second());
  e.Single("atelier_crawl_eta_seconds", "gauge", "Estimated seconds to finish the crawl (-1: unknown).",
           c.eta_ms() < 0 ? -1.0 : static_cast<double>(c.eta_ms()) / 1000.0);
  e.Single("atelier_crawl_downloaded_bytes_total", "counter", "Bytes downloaded by crawlers.",
           static_cast<double>(c.bytes_downloaded()));
  e.Single("atelier_crawl_done", "gauge", "1 when every shard is done or failed.", c.done() ? 1 : 0);
  e.Family("atelier_crawl_errors_total", "counter", "Failed items by reason.");
  for (const auto& [reason, count] : c.errors_by_reason()) {
    e.Sample("atelier_crawl_errors_total", static_cast<double>(count), absl::StrCat("reason=\"", Escape(reason), "\""));
  }
  e.Family("atelier_source_items", "gauge", "Items per job source and state.");
  for (const auto& s : c.sources()) {
    const std::string source = absl::StrCat("source=\"", Escape(s.source_name()), "\"");
    e.Sample("atelier_source_items", static_cast<double>(s.items_ok()), source + R"(,state="ok")");
    e.Sample("atelier_source_items", static_cast<double>(s.items_dead()), source + R"(,state="dead")");
    e.Sample("atelier_source_items", static_cast<double>(s.items_failed()), source + R"(,state="failed")");
    e.Sample("atelier_source_items", static_cast<double>(s.items_pending()), source + R"(,state="pending")");
  }
  e.Family("atelier_training_epoch", "gauge", "Current epoch (0-based) of each run.");
  for (const auto& t : status.training()) {
    e.Sample("atelier_training_epoch", t.last().epoch(), absl::StrCat("run=\"", Escape(t.run()), "\""));
  }
  e.Family("atelier_training_step", "gauge", "Optimizer steps so far of each run.");
  for (const auto& t : status.training()) {
    e.Sample("atelier_training_step", static_cast<double>(t.last().step()), absl::StrCat("run=\"", Escape(t.run()), "\""));
  }
  e.Family("atelier_training_images_per_second", "gauge", "Training throughput of each run (all ranks).");
  for (const auto& t : status.training()) {
    e.Sample("atelier_training_images_per_second", t.last().images_per_second(),
             absl::StrCat("run=\"", Escape(t.run()), "\""));
  }
  e.Family("atelier_training_loss", "gauge", "Last loss per run, head and split.");
  e.Family("atelier_training_accuracy", "gauge", "Last accuracy per run, head and split.");
  for (const auto& t : status.training()) {
    for (const auto& [split, heads] : {std::pair{"train", &t.last().train()}, std::pair{"val", &t.last().val()}}) {
      for (const auto& h : *heads) {
        const std::string labels = absl::StrCat("run=\"", Escape(t.run()), "\",head=\"", Escape(h.head()),
                                                "\",split=\"", split, "\"");
        e.Sample("atelier_training_loss", h.loss(), labels);
        e.Sample("atelier_training_accuracy", h.accuracy(), labels);
      }
    }
  }
  return e.Take();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::function<atelier::v1::JobStatus()> snapshot) {
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics-listen '", listen, "': expected HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderPrometheus(snapshot()), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto runner = HttpServerThread::Start(*server->server_, host, port);
  if (!runner.ok()) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen ", listen, ": ", runner.status().message()));
  }
  server->runner_ = *std::move(runner);
  return server;
}

MetricsServer::~MetricsServer() { runner_.reset(); }

}  // namespace atelier::coordinator
