#include "atelier/coordinator/status_view.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::testing::HasSubstr;

v1::JobStatus Sample() {
  v1::JobStatus st;
  st.set_server_time_ms(1000);
  auto* c = st.mutable_crawl();
  c->set_job_name("dresses");
  c->set_items_total(200);
  c->set_items_ok(90);
  c->set_items_dead(8);
  c->set_items_failed(2);
  c->set_items_pending(100);
  c->set_shards_total(4);
  c->set_shards_done(2);
  c->set_shards_leased(1);
  c->set_shards_pending(1);
  c->set_workers_alive(2);
  c->set_workers_lost(1);
  c->set_workers_finished(3);
  c->set_items_per_second(12.5);
  c->set_eta_ms(8000);
  (*c->mutable_errors_by_reason())["http_404"] = 8;
  auto* s = c->add_sources();
  s->set_source_name("met");
  s->set_items_total(200);
  s->set_items_ok(90);
  auto* w = c->add_workers();
  w->set_worker_id("w3");
  w->set_state(v1::WORKER_STATE_LOST);
  auto* finished = c->add_workers();
  finished->set_worker_id("w4");
  finished->set_state(v1::WORKER_STATE_FINISHED);
  return st;
}

TEST(StatusViewTest, JsonHasTheDocumentedFields) {
  nlohmann::json j = StatusJson(Sample());
  EXPECT_EQ(j["items_total"], 200);
  EXPECT_EQ(j["items_ok"], 90);
  EXPECT_EQ(j["items_dead"], 8);
  EXPECT_EQ(j["items_failed"], 2);
  EXPECT_EQ(j["items_pending"], 100);
  EXPECT_EQ(j["shards_total"], 4);
  EXPECT_EQ(j["shards_done"], 2);
  EXPECT_EQ(j["shards_leased"], 1);
  EXPECT_EQ(j["shards_failed"], 0);
  EXPECT_EQ(j["workers_alive"], 2);
  EXPECT_EQ(j["workers_finished"], 3);
  EXPECT_EQ(j["items_per_second"], 12.5);
  EXPECT_EQ(j["errors_by_reason"]["http_404"], 8);
  EXPECT_EQ(j["sources"][0]["source_name"], "met");
  EXPECT_EQ(j["workers"][0]["state"], "lost");
  EXPECT_EQ(j["workers"][1]["state"], "finished");  // exited cleanly, not lost
}

TEST(StatusViewTest, HumanViewShowsBarsRateAndEta) {
  const std::string text = RenderStatus(Sample(), 20);
  EXPECT_THAT(text, HasSubstr("[##########..........]  50.0%"));
  EXPECT_THAT(text, HasSubstr("12.5 items/s"));
  EXPECT_THAT(text, HasSubstr("ETA 8s"));
  EXPECT_THAT(text, HasSubstr("2 alive, 1 lost"));
  EXPECT_THAT(text, HasSubstr("http_404=8"));
  EXPECT_THAT(text, HasSubstr("LOST"));
}

TEST(StatusViewTest, EtaFormatting) {
  EXPECT_EQ(FormatEta(-1), "?");
  EXPECT_EQ(FormatEta(59'000), "59s");
  EXPECT_EQ(FormatEta(185'000), "3m05s");
  EXPECT_EQ(FormatEta(3'720'000), "1h02m");
}

}  // namespace
}  // namespace atelier::coordinator

namespace atelier::coordinator {
namespace {

TEST(StatusViewTest, ShowsTrainingRunsBesideTheCrawl) {
  v1::JobStatus status;
  status.mutable_crawl()->set_job_name("j");
  auto* run = status.add_training();
  run->set_run("dresses");
  run->set_world_size(2);
  auto* m = run->mutable_last();
  m->set_epoch(2);
  m->set_epochs_total(10);
  m->set_step(30);
  m->set_steps_total(100);
  m->set_images_per_second(512);
  m->set_eta_ms(90'000);
  m->set_last_checkpoint("runs/dresses/checkpoints/ckpt-30.pt");
  auto* head = m->add_val();
  head->set_head("country");
  head->set_loss(0.5);
  head->set_accuracy(0.8125);
  const std::string text = RenderStatus(status);
  EXPECT_THAT(text, ::testing::HasSubstr("training dresses (2 ranks)  epoch 3/10"));
  EXPECT_THAT(text, ::testing::HasSubstr("country      val loss 0.500  accuracy 81.2%"));
  EXPECT_THAT(text, ::testing::HasSubstr("ckpt-30.pt"));
  const auto json = StatusJson(status);
  ASSERT_EQ(json["training"].size(), 1u);
  EXPECT_EQ(json["training"][0]["run"], "dresses");
  EXPECT_DOUBLE_EQ(json["training"][0]["heads"]["country"]["val"]["accuracy"].get<double>(), 0.8125);
}

}  // namespace
}  // namespace atelier::coordinator
