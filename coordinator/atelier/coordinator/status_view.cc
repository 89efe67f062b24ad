#include "atelier/coordinator/status_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace atelier::coordinator {
namespace {

// How status names a worker's state: a worker told the crawl is done is
// "finished", not "lost".
const char* WorkerStateName(v1::WorkerState state) {
  switch (state) {
    case v1::WORKER_STATE_ALIVE: return "alive";
    case v1::WORKER_STATE_FINISHED: return "finished";
    default: return "lost";
  }
}

}  // namespace

using json = nlohmann::json;

nlohmann::json StatusJson(const v1::JobStatus& status) {
  const v1::CrawlStatus& c = status.crawl();
  json sources = json::array();
  for (const auto& s : c.sources()) {
    sources.push_back({{"source_name", s.source_name()}, {"items_total", s.items_total()},
                       {"items_ok", s.items_ok()}, {"items_dead", s.items_dead()},
                       {"items_failed", s.items_failed()}, {"items_pending", s.items_pending()}});
  }
  json workers = json::array();
  for (const auto& w : c.workers()) {
    workers.push_back({{"worker_id", w.worker_id()}, {"hostname", w.hostname()},
                       {"state", WorkerStateName(w.state())},
                       {"last_seen_ms", w.last_seen_ms()},
                       {"leased_shards", std::vector<uint64_t>(w.leased_shards().begin(),
                                                               w.leased_shards().end())},
                       {"items_done", w.items_done()}});
  }
  json failed = json::array();
  for (const auto& f : c.failed_shards()) {
    failed.push_back({{"shard_id", f.shard_id()}, {"attempts", f.attempts()},
                      {"last_error", f.last_error()}});
  }
  std::map<std::string, int64_t> errors(c.errors_by_reason().begin(), c.errors_by_reason().end());
  json training = json::array();
  for (const auto& t : status.training()) {
    const auto& m = t.last();
    json heads = json::object();
    for (const auto& h : m.train()) heads[h.head()]["train"] = {{"loss", h.loss()}, {"accuracy", h.accuracy()}};
    for (const auto& h : m.val()) heads[h.head()]["val"] = {{"loss", h.loss()}, {"accuracy", h.accuracy()}};
    training.push_back({{"run", t.run()}, {"world_size", t.world_size()}, {"epoch", m.epoch()},
                        {"epochs_total", m.epochs_total()}, {"step", m.step()}, {"steps_total", m.steps_total()},
                        {"learning_rate", m.learning_rate()}, {"images_per_second", m.images_per_second()},
                        {"eta_ms", m.eta_ms()}, {"last_checkpoint", m.last_checkpoint()}, {"heads", heads},
                        {"updated_at_ms", t.updated_at_ms()}});
  }
  return json{{"job_name", c.job_name()},
              {"server_time_ms", status.server_time_ms()},
              {"started_at_ms", c.started_at_ms()},
              {"done", c.done()},
              {"items_total", c.items_total()},
              {"items_ok", c.items_ok()},
              {"items_dead", c.items_dead()},
              {"items_failed", c.items_failed()},
              {"items_pending", c.items_pending()},
              {"shards_total", c.shards_total()},
              {"shards_done", c.shards_done()},
              {"shards_leased", c.shards_leased()},
              {"shards_failed", c.shards_failed()},
              {"shards_pending", c.shards_pending()},
              {"workers_alive", c.workers_alive()},
              {"workers_lost", c.workers_lost()},
              {"workers_finished", c.workers_finished()},
              {"items_per_second", c.items_per_second()},
              {"eta_ms", c.eta_ms()},
              {"bytes_downloaded", c.bytes_downloaded()},
              {"errors_by_reason", errors},
              {"sources", sources},
              {"workers", workers},
              {"failed_shards", failed},
              {"training", training}};
}

std::string FormatEta(int64_t ms) {
  if (ms < 0) return "?";
  int64_t s = ms / 1000;
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

namespace {

std::string Bar(int64_t done, int64_t total, int width) {
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(frac * width + 1e-9);
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '.'), "] ",
                      absl::StrFormat("%5.1f%%", frac * 100));
}

}  // namespace

std::string RenderStatus(const v1::JobStatus& status, int width) {
  const v1::CrawlStatus& c = status.crawl();
  const int64_t final_items = c.items_ok() + c.items_dead() + c.items_failed();
  std::string out;
  absl::StrAppend(&out, "job ", c.job_name(), c.done() ? "  (crawl done)" : "", "\n");
  absl::StrAppend(&out, "items  ", Bar(final_items, c.items_total(), width), "  ", final_items,
                  "/", c.items_total(), "\n");
  absl::StrAppend(&out, "shards ", Bar(c.shards_done() + c.shards_failed(), c.shards_total(), width),
                  "  ", c.shards_done(), " done, ", c.shards_leased(), " leased, ",
                  c.shards_pending(), " pending, ", c.shards_failed(), " failed of ",
                  c.shards_total(), "\n");
  absl::StrAppend(&out, "        ok ", c.items_ok(), "  dead ", c.items_dead(), "  failed ",
                  c.items_failed(), "  pending ", c.items_pending(), "\n");
  absl::StrAppend(&out, "rate   ", absl::StrFormat("%.1f", c.items_per_second()),
                  " items/s  ETA ", c.done() ? "done" : FormatEta(c.eta_ms()), "  downloaded ",
                  absl::StrFormat("%.1f MB", static_cast<double>(c.bytes_downloaded()) / 1e6), "\n");
  absl::StrAppend(&out, "workers ", c.workers_alive(), " alive, ", c.workers_lost(), " lost\n");
  if (c.sources_size() > 0) {
    absl::StrAppend(&out, "sources:\n");
    for (const auto& s : c.sources()) {
      absl::StrAppend(&out, absl::StrFormat("  %-24s %s  ok %d dead %d failed %d pending %d\n",
                                            s.source_name(),
                                            Bar(s.items_ok() + s.items_dead() + s.items_failed(),
                                                s.items_total(), width / 2),
                                            s.items_ok(), s.items_dead(), s.items_failed(),
                                            s.items_pending()));
    }
  }
  if (!c.errors_by_reason().empty()) {
    std::map<std::string, int64_t> errors(c.errors_by_reason().begin(), c.errors_by_reason().end());
    absl::StrAppend(&out, "errors:");
    for (const auto& [reason, n] : errors) absl::StrAppend(&out, " ", reason, "=", n);
    absl::StrAppend(&out, "\n");
  }
  for (const auto& w : c.workers()) {
    absl::StrAppend(&out, absl::StrFormat("  worker %-8s %-20s %-5s items %d shards %d\n",
                                          w.worker_id(), w.hostname(),
                                          w.state() == v1::WORKER_STATE_LOST ? "LOST" : WorkerStateName(w.state()),
                                          w.items_done(), w.leased_shards_size()));
  }
  for (const auto& f : c.failed_shards()) {
    absl::StrAppend(&out, "  FAILED shard ", f.shard_id(), " after ", f.attempts(),
                    " attempts: ", f.last_error(), "\n");
  }
  for (const auto& t : status.training()) {
    const auto& m = t.last();
    absl::StrAppend(&out, "training ", t.run(), " (", t.world_size(), " ranks)  epoch ", m.epoch() + 1, "/",
                    m.epochs_total(), "  step ", Bar(m.step(), m.steps_total(), width / 2), " ", m.step(), "/",
                    m.steps_total(), absl::StrFormat("  %.0f img/s  ETA ", m.images_per_second()),
                    FormatEta(m.eta_ms()), "\n");
    for (const auto& h : m.val()) {
      absl::StrAppend(&out, absl::StrFormat("  %-12s val loss %.3f  accuracy %.1f%%\n", h.head(), h.loss(),
                                            100.0 * h.accuracy()));
    }
    if (!m.last_checkpoint().empty()) absl::StrAppend(&out, "  last checkpoint ", m.last_checkpoint(), "\n");
  }
  return out;
}

}  // namespace atelier::coordinator
