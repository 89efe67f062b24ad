// The Prometheus exposition of a status, and the /metrics endpoint on loopback.
#include "atelier/coordinator/prometheus_metrics.h"

#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "test_items.h"

namespace atelier::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

atelier::v1::JobStatus SampleStatus() {
  atelier::v1::JobStatus status;
  auto* c = status.mutable_crawl();
  c->set_items_total(100);
  c->set_items_ok(60);
  c->set_items_dead(5);
  c->set_items_failed(2);
  c->set_items_pending(33);
  c->set_shards_done(3);
  c->set_workers_alive(2);
  c->set_items_per_second(12.5);
  (*c->mutable_errors_by_reason())["timeout"] = 2;
  auto* source = c->add_sources();
  source->set_source_name("met \"dresses\"");
  source->set_items_ok(10);
  auto* run = status.add_training();
  run->set_run("r1");
  run->mutable_last()->set_epoch(4);
  auto* head = run->mutable_last()->add_val();
  head->set_head("country");
  head->set_accuracy(0.5);
  return status;
}

TEST(PrometheusMetricsTest, RendersCountsRatesAndTraining) {
  const std::string text = RenderPrometheus(SampleStatus());
  EXPECT_THAT(text, HasSubstr("# TYPE atelier_crawl_items gauge\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_items{state=\"ok\"} 60\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_items{state=\"pending\"} 33\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_items_per_second 12.5\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_errors_total{reason=\"timeout\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("atelier_source_items{source=\"met \\\"dresses\\\"\",state=\"ok\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("atelier_training_epoch{run=\"r1\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("atelier_training_accuracy_ratio{run=\"r1\",head=\"country\",split=\"val\"} 0.5\n"));
}

TEST(PrometheusMetricsTest, PrintsIntegersExactlyAndDoublesRoundTrip) {
  atelier::v1::JobStatus status;
  status.mutable_crawl()->set_bytes_downloaded(3'728'969);
  status.mutable_crawl()->set_items_total(123'456'789'012);
  status.mutable_crawl()->set_items_per_second(1234567.25);
  const std::string text = RenderPrometheus(status);
  EXPECT_THAT(text, HasSubstr("atelier_crawl_downloaded_bytes_total 3728969\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_job_items 123456789012\n"));
  EXPECT_THAT(text, HasSubstr("atelier_crawl_items_per_second 1234567.25\n"));
  EXPECT_THAT(text, Not(HasSubstr("e+")));
}

// A crawl with a killed worker, scraped over HTTP at every step and read by
// python3-prometheus-client's parser (coordinator/tests/prometheus_lint.py):
// every family typed once, no gauge named *_total, counters never decrease
// (the killed worker's bytes move to lost_bytes_total, downloaded keeps them),
// and a worker that finished cleanly is not "lost".
TEST(PrometheusMetricsTest, ThirdPartyParserReadsACrawlWithAKilledWorker) {
  FakeClock clock;
  kv::MemoryKvStore store;
  ShardTableOptions options;
  options.lease_ttl = absl::Seconds(30);
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store, clock, options));
  testing::FillTable(*table, 2, 2);
  auto snapshot = [&] {
    atelier::v1::JobStatus status;
    *status.mutable_crawl() = table->Status();
    for (const char* run : {"r1", "r2"}) {  // two runs with two heads each
      auto* t = status.add_training();
      t->set_run(run);
      for (const char* head : {"artist", "century"}) {
        auto* h = t->mutable_last()->add_train();
        h->set_head(head);
        h->set_loss(0.25);
        h->set_accuracy(0.75);
        *t->mutable_last()->add_val() = *h;
      }
    }
    return status;
  };
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start("127.0.0.1:0", snapshot));
  httplib::Client client("127.0.0.1", server->port());
  atelier::testing::TempDir dir("prometheus");
  std::vector<std::string> lint = {"/usr/bin/python3",
                                   atelier::testing::SourcePath("coordinator/tests/prometheus_lint.py").string()};
  auto scrape = [&] {
    auto response = client.Get("/metrics");
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200);
    const auto path = dir / absl::StrCat("scrape-", lint.size(), ".txt");
    atelier::testing::WriteFileOrDie(path, response->body);
    lint.push_back(path.string());
  };
  auto register_worker = [&](const std::string& name) {
    v1::RegisterWorkerRequest request;
    request.set_worker_name(name);
    return table->RegisterWorker(request).value_or("");
  };
  const std::string killed = register_worker("killed");
  const std::string survivor = register_worker("survivor");
  scrape();

  // The killed worker downloads 1616 bytes of shard 0, reports them, then dies.
  ASSERT_OK_AND_ASSIGN(auto lost_lease, table->Lease(killed));
  v1::ReportProgressRequest progress;
  progress.set_worker_id(killed);
  progress.set_shard_id(lost_lease.shard_id());
  progress.set_fencing_token(lost_lease.fencing_token());
  progress.set_bytes_downloaded(1616);
  auto* result = progress.add_results();
  result->set_key(lost_lease.items(0).key());
  result->set_outcome(v1::ITEM_OUTCOME_OK);
  ASSERT_OK(table->ReportProgress(progress).status());
  scrape();

  // The survivor commits shard 1 (3,728,969 bytes, one dead item).
  ASSERT_OK_AND_ASSIGN(auto lease, table->Lease(survivor));
  auto done = testing::CompleteAll(survivor, lease);
  done.mutable_results(1)->set_outcome(v1::ITEM_OUTCOME_DEAD);
  done.mutable_results(1)->set_reason("http_404");
  done.mutable_stats()->set_bytes_downloaded(3'728'969);
  ASSERT_OK(table->Complete(done));
  scrape();

  // The killed worker's lease expires; the survivor redoes shard 0 and finishes.
  clock.Advance(absl::Seconds(31));
  scrape();
  ASSERT_OK_AND_ASSIGN(lease, table->Lease(survivor));
  ASSERT_EQ(lease.shard_id(), lost_lease.shard_id());
  done = testing::CompleteAll(survivor, lease);
  done.mutable_stats()->set_bytes_downloaded(2000);
  ASSERT_OK(table->Complete(done));
  ASSERT_OK_AND_ASSIGN(lease, table->Lease(survivor));
  ASSERT_TRUE(lease.job_done());
  scrape();

  auto parsed = atelier::testing::RunCommand(lint);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  const auto last = nlohmann::json::parse(parsed.output, nullptr, false);
  ASSERT_FALSE(last.is_discarded()) << parsed.output;
  EXPECT_EQ(last.value("atelier_crawl_downloaded_bytes_total", -1.0), 1616 + 3'728'969 + 2000);
  EXPECT_EQ(last.value("atelier_crawl_lost_bytes_total", -1.0), 1616);
  EXPECT_EQ(last.value("atelier_crawl_errors_total{reason=\"http_404\"}", -1.0), 1);
  EXPECT_EQ(last.value("atelier_crawl_workers{state=\"lost\"}", -1.0), 1);
  EXPECT_EQ(last.value("atelier_crawl_workers{state=\"finished\"}", -1.0), 1);
  EXPECT_EQ(last.value("atelier_crawl_workers{state=\"alive\"}", -1.0), 0);
  EXPECT_EQ(last.value("atelier_training_accuracy_ratio{head=\"century\",run=\"r2\",split=\"val\"}", -1.0),
            0.75);
}

TEST(PrometheusMetricsTest, ServesMetricsOnLoopback) {
  int scrapes = 0;
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start("127.0.0.1:0", [&] {
                         ++scrapes;
                         return SampleStatus();
                       }));
  httplib::Client client("127.0.0.1", server->port());
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->get_header_value("Content-Type"), HasSubstr("version=0.0.4"));
  EXPECT_THAT(response->body, HasSubstr("atelier_crawl_job_items 100\n"));
  EXPECT_EQ(scrapes, 1);
}

TEST(PrometheusMetricsTest, RejectsBadListenAddress) {
  EXPECT_THAT(MetricsServer::Start("nonsense", [] { return atelier::v1::JobStatus(); }),
              atelier::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nonsense")));
}

}  // namespace
}  // namespace atelier::coordinator
