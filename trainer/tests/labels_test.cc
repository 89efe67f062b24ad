#include "atelier/trainer/labels.h"

#include <cmath>

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

TEST(LabelsTest, SplitsAreStratifiedAndStableWhenDataIsAdded) {
  SplitOptions options;
  options.val_ratio = 0.2;
  options.test_ratio = 0.1;
  options.seed = 7;
  // Three classes of very different sizes; keys carry the class.
  std::map<std::string, std::string> first;  // key -> split name
  std::map<std::string, int> per_class[3];
  const int sizes[] = {3000, 1000, 300};
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < sizes[c]; ++i) {
      std::string key = absl::StrCat("c", c, "-", i);
      std::string split(SplitName(AssignSplit(key, options)));
      first[key] = split;
      ++per_class[c][split];
    }
  }
  for (int c = 0; c < 3; ++c) {
    double n = sizes[c];
    double sd = std::sqrt(0.2 * 0.8 / n);
    EXPECT_NEAR(per_class[c]["val"] / n, 0.2, 4 * sd) << "class " << c;
    EXPECT_NEAR(per_class[c]["test"] / n, 0.1, 4 * std::sqrt(0.1 * 0.9 / n)) << "class " << c;
  }
  // Adding data (more keys) leaves every old assignment where it was.
  for (int i = 0; i < 2000; ++i) AssignSplit(absl::StrCat("new-", i), options);
  for (const auto& [key, split] : first) ASSERT_EQ(SplitName(AssignSplit(key, options)), split) << key;
  // A different seed gives a different split.
  options.seed = 8;
  int moved = 0;
  for (const auto& [key, split] : first) moved += SplitName(AssignSplit(key, options)) != split;
  EXPECT_GT(moved, 100);
}

TEST(LabelsTest, BadRatiosAreRejected) {
  SplitOptions options;
  options.val_ratio = 0.6;
  options.test_ratio = 0.5;
  EXPECT_THAT(ValidateSplitOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LabelsTest, ParseBalance) {
  EXPECT_EQ(ParseBalance("none")->mode, BalanceSpec::kNone);
  EXPECT_EQ(ParseBalance("weighted")->mode, BalanceSpec::kWeighted);
  ASSERT_OK_AND_ASSIGN(BalanceSpec cap, ParseBalance("cap:450"));
  EXPECT_EQ(cap.mode, BalanceSpec::kCap);
  EXPECT_EQ(cap.cap, 450);
  EXPECT_THAT(ParseBalance("cap:0"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseBalance("oversample"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LabelsTest, CapKeepsAtMostNPerClassAndAllUnlabelled) {
  std::vector<std::string> keys;
  std::vector<int> classes;
  std::vector<int64_t> indices;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(absl::StrCat("k", i));
    classes.push_back(i < 70 ? 0 : i < 95 ? 1 : -1);
    indices.push_back(i);
  }
  std::vector<int64_t> kept = CapPerClass(indices, classes, keys, 10, 1);
  int count[2] = {0, 0}, unlabelled = 0;
  for (int64_t i : kept) (classes[i] < 0 ? unlabelled : count[classes[i]])++;
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(unlabelled, 5);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
}

TEST(LabelsTest, InverseFrequencyWeights) {
  std::vector<double> w = InverseFrequencyWeights({30, 10, 0});
  EXPECT_DOUBLE_EQ(w[0], 40.0 / (2 * 30));
  EXPECT_DOUBLE_EQ(w[1], 40.0 / (2 * 10));
  EXPECT_DOUBLE_EQ(w[2], 1.0);
}

}  // namespace
}  // namespace atelier::trainer
