// Trainer rendezvous through the coordinator, on the fake clock.
#include "atelier/coordinator/training_registry.h"

#include <future>
#include <thread>

#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;

JoinRequest Member(const std::string& id, const std::string& host, int port, int world = 2) {
  JoinRequest r;
  r.run = "run1";
  r.world_size = world;
  r.hostname = host;
  r.store_port = port;
  r.member_id = id;
  r.timeout = absl::Seconds(30);
  return r;
}

TEST(TrainingRegistryTest, RanksFollowJoinOrderAndRankZeroHostsTheStore) {
  FakeClock clock;
  TrainingRegistry registry(&clock);
  auto first = std::async(std::launch::async, [&] { return registry.Join(Member("a", "node-a", 1111)); });
  clock.WaitForSleepers(1);
  ASSERT_OK_AND_ASSIGN(JoinResult second, registry.Join(Member("b", "node-b", 2222)));
  ASSERT_OK_AND_ASSIGN(JoinResult a, first.get());
  EXPECT_EQ(a.rank, 0);
  EXPECT_EQ(second.rank, 1);
  for (const auto& r : {a, second}) {
    EXPECT_EQ(r.world_size, 2);
    EXPECT_EQ(r.master_addr, "node-a");
    EXPECT_EQ(r.master_port, 1111);
  }
  // The same member joining again keeps its rank.
  ASSERT_OK_AND_ASSIGN(JoinResult again, registry.Join(Member("b", "node-b", 3333)));
  EXPECT_EQ(again.rank, 1);
  EXPECT_EQ(again.generation, a.generation);
}

TEST(TrainingRegistryTest, TimesOutOnTheFakeClockNamingTheRun) {
  FakeClock clock;
  TrainingRegistry registry(&clock);
  auto lonely = std::async(std::launch::async, [&] { return registry.Join(Member("a", "node-a", 1, 3)); });
  clock.WaitForSleepers(1);
  clock.Advance(absl::Seconds(31));
  EXPECT_THAT(lonely.get(), StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::HasSubstr("run1")));
}

TEST(TrainingRegistryTest, NewMembersAfterAFormedGroupStartANewGeneration) {
  FakeClock clock;
  TrainingRegistry registry(&clock);
  ASSERT_OK_AND_ASSIGN(JoinResult solo, registry.Join(Member("a", "node-a", 1, 1)));
  ASSERT_OK_AND_ASSIGN(JoinResult restarted, registry.Join(Member("a2", "node-c", 5, 1)));
  EXPECT_EQ(restarted.rank, 0);
  EXPECT_EQ(restarted.master_addr, "node-c");
  EXPECT_EQ(restarted.generation, solo.generation + 1);
}

TEST(TrainingRegistryTest, RejectsBadRequests) {
  FakeClock clock;
  TrainingRegistry registry(&clock);
  auto bad = Member("a", "h", 1, 0);
  EXPECT_THAT(registry.Join(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = Member("", "h", 1);
  EXPECT_THAT(registry.Join(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TrainingRegistryTest, KeepsRankZeroMetricsAndStopRequests) {
  FakeClock clock;
  TrainingRegistry registry(&clock);
  atelier::v1::ReportMetricsRequest report;
  report.set_run("run9");
  report.set_rank(0);
  report.set_epoch(3);
  report.set_world_size(4);
  auto* head = report.add_val();
  head->set_head("media");
  head->set_accuracy(0.75);
  registry.ReportMetrics(report);
  report.set_rank(1);
  report.set_epoch(99);
  registry.ReportMetrics(report);
  auto runs = registry.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run(), "run9");
  EXPECT_EQ(runs[0].last().epoch(), 3);
  EXPECT_EQ(runs[0].world_size(), 4);
  EXPECT_DOUBLE_EQ(runs[0].last().val(0).accuracy(), 0.75);
  EXPECT_EQ(runs[0].updated_at_ms(), clock.NowMillis());
  EXPECT_FALSE(registry.StopRequested("run9"));
  registry.RequestStop("run9");
  EXPECT_TRUE(registry.StopRequested("run9"));
}

}  // namespace
}  // namespace atelier::coordinator
