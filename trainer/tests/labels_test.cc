#include "atelier/trainer/labels.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::StatusIs;

TEST(LabelsTest, DiscoversHeadsAndSortedClasses) {
  std::vector<std::map<std::string, std::string>> labels = {
      {{"media", "watercolor"}, {"emotion", "happy"}}, {{"media", "comic"}}, {{"media", "Öl"}, {"emotion", "scary"}}};
  ASSERT_OK_AND_ASSIGN(LabelSpace all, DiscoverLabelSpace(labels, {}));
  ASSERT_EQ(all.heads.size(), 2u);
  EXPECT_EQ(all.heads[0].name, "emotion");
  EXPECT_EQ(all.heads[1].name, "media");
  EXPECT_THAT(all.heads[1].classes, ::testing::ElementsAre("comic", "watercolor", "Öl"));
  EXPECT_EQ(all.ClassIndex(1, "watercolor"), 1);
  EXPECT_EQ(all.ClassIndex(1, "oil"), -1);
  ASSERT_OK_AND_ASSIGN(LabelSpace one, DiscoverLabelSpace(labels, {"media"}));
  ASSERT_EQ(one.heads.size(), 1u);
  EXPECT_THAT(DiscoverLabelSpace(labels, {"country"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(LabelsTest, ParseBalance) {
  EXPECT_EQ(ParseBalance("none")->every.mode, BalanceSpec::kNone);
  EXPECT_EQ(ParseBalance("weighted")->every.mode, BalanceSpec::kWeighted);
  ASSERT_OK_AND_ASSIGN(BalancePlan cap, ParseBalance("cap:450"));
  EXPECT_EQ(cap.For("any head").mode, BalanceSpec::kCap);
  EXPECT_EQ(cap.For("any head").cap, 450);
  ASSERT_OK_AND_ASSIGN(BalancePlan per_head, ParseBalance("country=cap:20,decade=weighted"));
  EXPECT_EQ(per_head.For("country").mode, BalanceSpec::kCap);
  EXPECT_EQ(per_head.For("country").cap, 20);
  EXPECT_EQ(per_head.For("decade").mode, BalanceSpec::kWeighted);
  EXPECT_EQ(per_head.For("media").mode, BalanceSpec::kNone);
  EXPECT_THAT(ParseBalance("cap:0"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseBalance("oversample"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseBalance("country=cap:x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseBalance("a=cap:2,a=cap:3"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LabelsTest, CapKeepsAtMostNPerClassAndAllUnlabelled) {
  std::vector<std::string> keys;
  std::vector<int32_t> targets;
  std::vector<int64_t> indices;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(absl::StrCat("k", i));
    targets.push_back(i < 70 ? 0 : i < 95 ? 1 : -1);
    indices.push_back(i);
  }
  std::vector<int64_t> kept = CapPerClass(indices, targets, 1, {10}, keys, 1);
  int count[2] = {0, 0}, unlabelled = 0;
  for (int64_t i : kept) (targets[i] < 0 ? unlabelled : count[targets[i]])++;
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(unlabelled, 5);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
}

// Finding 4: the cap applies to every head, not just the first.
TEST(LabelsTest, CapAppliesToEveryHead) {
  // Head 0 (country): 3 classes of 200; head 1 (decade): 12 classes.
  std::vector<std::string> keys;
  std::vector<int32_t> targets;
  std::vector<int64_t> indices;
  for (int i = 0; i < 600; ++i) {
    keys.push_back(absl::StrCat("met-", i, "-0"));
    targets.push_back(i % 3);
    targets.push_back(i % 7 == 0 ? 11 : (i * 13) % 11);
    indices.push_back(i);
  }
  std::vector<int64_t> kept = CapPerClass(indices, targets, 2, {20, 20}, keys, 3);
  std::map<int, int> per_class[2];
  for (int64_t i : kept) {
    ++per_class[0][targets[2 * i]];
    ++per_class[1][targets[2 * i + 1]];
  }
  for (int h = 0; h < 2; ++h) {
    for (const auto& [c, n] : per_class[h]) EXPECT_LE(n, 20) << "head " << h << " class " << c;
  }
  EXPECT_EQ(per_class[1].size(), 12u);
  // A cap on one head only: every class of that head reaches it.
  std::vector<int64_t> decade_only = CapPerClass(indices, targets, 2, {0, 20}, keys, 3);
  std::map<int, int> decade;
  for (int64_t i : decade_only) ++decade[targets[2 * i + 1]];
  for (const auto& [c, n] : decade) EXPECT_EQ(n, 20) << c;
  EXPECT_EQ(decade_only.size(), 12u * 20);
}

TEST(LabelsTest, InverseFrequencyWeights) {
  std::vector<double> w = InverseFrequencyWeights({30, 10, 0});
  EXPECT_DOUBLE_EQ(w[0], 40.0 / (2 * 30));
  EXPECT_DOUBLE_EQ(w[1], 40.0 / (2 * 10));
  EXPECT_DOUBLE_EQ(w[2], 1.0);
}

}  // namespace
}  // namespace atelier::trainer
