#include "atelier/coordinator/prometheus_metrics.h"

#include <charconv>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "atelier/common/listen_address.h"
#include "httplib.h"

namespace atelier::coordinator {
namespace {

std::string Escape(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

// A sample value: integers exactly, doubles in their shortest round-trip form.
struct Value {
  Value(int64_t v) : text(absl::StrCat(v)) {}  // NOLINT: implicit on purpose
  Value(int v) : text(absl::StrCat(v)) {}      // NOLINT
  Value(double v) {                            // NOLINT
    if (std::isnan(v)) {
      text = "NaN";
    } else if (std::isinf(v)) {
      text = v > 0 ? "+Inf" : "-Inf";
    } else {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
      text.assign(buf, ec == std::errc() ? end : buf);
    }
  }
  std::string text;
};

// Builds the exposition one family at a time: Family() writes the HELP and
// TYPE lines, the samples of that family follow at once, so every family's
// samples are contiguous (the text format requires it).
class Exposition {
 public:
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    name_ = name;
    absl::StrAppend(&text_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(const Value& value, const std::string& labels = "") {
    absl::StrAppend(&text_, name_, labels.empty() ? "" : absl::StrCat("{", labels, "}"), " ", value.text, "\n");
  }
  void Single(const std::string& name, const std::string& type, const std::string& help, const Value& value) {
    Family(name, type, help);
    Sample(value);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
  std::string name_;
};

std::string Label(absl::string_view name, const std::string& value) {
  return absl::StrCat(name, "=\"", Escape(value), "\"");
}

void RenderCrawl(const atelier::v1::CrawlStatus& c, Exposition& e) {
  e.Family("atelier_crawl_items", "gauge",
           "Items of the job by state (ok, dead, failed, pending); live leases' progress included.");
  e.Sample(c.items_ok(), R"(state="ok")");
  e.Sample(c.items_dead(), R"(state="dead")");
  e.Sample(c.items_failed(), R"(state="failed")");
  e.Sample(c.items_pending(), R"(state="pending")");
  e.Single("atelier_crawl_job_items", "gauge", "Items in the job.", c.items_total());
  e.Family("atelier_crawl_shards", "gauge", "Shards by state.");
  e.Sample(c.shards_done(), R"(state="done")");
  e.Sample(c.shards_leased(), R"(state="leased")");
  e.Sample(c.shards_failed(), R"(state="failed")");
  e.Sample(c.shards_pending(), R"(state="pending")");
  e.Family("atelier_crawl_workers", "gauge",
           "Crawler workers by state: alive (seen within the lease TTL), lost (not seen for longer), "
           "finished (told the crawl is done).");
  e.Sample(c.workers_alive(), R"(state="alive")");
  e.Sample(c.workers_lost(), R"(state="lost")");
  e.Sample(c.workers_finished(), R"(state="finished")");
  e.Single("atelier_crawl_items_per_second", "gauge", "Items made final per second over the last minute.",
           c.items_per_second());
  e.Single("atelier_crawl_eta_seconds", "gauge", "Estimated seconds to finish the crawl (-1: unknown).",
           c.eta_ms() < 0 ? -1.0 : static_cast<double>(c.eta_ms()) / 1000.0);
  e.Single("atelier_crawl_downloaded_bytes_total", "counter",
           "Bytes downloaded by crawlers, including those of lost leases.", c.bytes_downloaded());
  e.Single("atelier_crawl_lost_bytes_total", "counter",
           "Bytes downloaded for leases that were then lost (expired or released); their shards are "
           "fetched again.",
           c.bytes_lost());
  e.Single("atelier_crawl_done", "gauge", "1 when every shard is done or failed, else 0.", c.done() ? 1 : 0);
  e.Family("atelier_crawl_errors_total", "counter",
           "Items of committed shards that ended dead or failed, by reason (dead and failed both count).");
  for (const auto& [reason, count] : std::map<std::string, int64_t>(c.errors_by_reason().begin(),
                                                                    c.errors_by_reason().end())) {
    e.Sample(count, Label("reason", reason));
  }
  e.Family("atelier_source_items", "gauge", "Items per job source and state.");
  for (const auto& s : c.sources()) {
    const std::string source = Label("source", s.source_name());
    e.Sample(s.items_ok(), source + R"(,state="ok")");
    e.Sample(s.items_dead(), source + R"(,state="dead")");
    e.Sample(s.items_failed(), source + R"(,state="failed")");
    e.Sample(s.items_pending(), source + R"(,state="pending")");
  }
}

void RenderTraining(const google::protobuf::RepeatedPtrField<atelier::v1::TrainingRunStatus>& runs,
                    Exposition& e) {
  e.Family("atelier_training_epoch", "gauge", "Current epoch (0-based) of each run.");
  for (const auto& t : runs) e.Sample(t.last().epoch(), Label("run", t.run()));
  e.Family("atelier_training_step", "gauge", "Optimizer steps so far of each run.");
  for (const auto& t : runs) e.Sample(t.last().step(), Label("run", t.run()));
  e.Family("atelier_training_images_per_second", "gauge", "Training throughput of each run (all ranks).");
  for (const auto& t : runs) e.Sample(t.last().images_per_second(), Label("run", t.run()));
  // Loss and accuracy: one family each, so each family's samples stay together.
  using HeadValue = double (atelier::v1::HeadMetrics::*)() const;
  for (const auto& [name, help, value] :
       {std::tuple<const char*, const char*, HeadValue>{"atelier_training_loss",
                                                         "Last reported loss per run, head and split.",
                                                         &atelier::v1::HeadMetrics::loss},
        std::tuple<const char*, const char*, HeadValue>{
            "atelier_training_accuracy_ratio", "Last reported accuracy (0 to 1) per run, head and split.",
            &atelier::v1::HeadMetrics::accuracy}}) {
    e.Family(name, "gauge", help);
    for (const auto& t : runs) {
      for (const auto& [split, heads] : {std::pair{"train", &t.last().train()}, std::pair{"val", &t.last().val()}}) {
        for (const auto& h : *heads) {
          e.Sample((h.*value)(), absl::StrCat(Label("run", t.run()), ",", Label("head", h.head()),
                                              ",split=\"", split, "\""));
        }
      }
    }
  }
}

}  // namespace

std::string RenderPrometheus(const atelier::v1::JobStatus& status) {
  Exposition e;
  RenderCrawl(status.crawl(), e);
  RenderTraining(status.training(), e);
  return e.Take();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::function<atelier::v1::JobStatus()> snapshot) {
  auto address = ParseListenAddress(listen);
  if (!address.ok()) return absl::InvalidArgumentError(absl::StrCat("--metrics-listen ", address.status().message()));
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderPrometheus(snapshot()), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto runner = HttpServerThread::Start(*server->server_, address->host, address->port);
  if (!runner.ok()) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen ", listen, ": ", runner.status().message()));
  }
  server->runner_ = *std::move(runner);
  return server;
}

MetricsServer::~MetricsServer() { runner_.reset(); }

}  // namespace atelier::coordinator
