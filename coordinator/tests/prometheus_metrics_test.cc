// The Prometheus exposition of a status, and the /metrics endpoint on loopback.
#include "atelier/coordinator/prometheus_metrics.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace atelier::coordinator {
namespace {

using ::testing::HasSubstr;

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
  EXPECT_THAT(text, HasSubstr("atelier_training_accuracy{run=\"r1\",head=\"country\",split=\"val\"} 0.5\n"));
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
  EXPECT_THAT(response->body, HasSubstr("atelier_crawl_items_total 100"));
  EXPECT_EQ(scrapes, 1);
}

TEST(PrometheusMetricsTest, RejectsBadListenAddress) {
  EXPECT_THAT(MetricsServer::Start("nonsense", [] { return atelier::v1::JobStatus(); }),
              atelier::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nonsense")));
}

}  // namespace
}  // namespace atelier::coordinator
