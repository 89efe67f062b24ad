#include "atelier/spec/sweep_spec.h"

#include <string>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kFullSpec[] = R"(data: fmnist
epochs: 9
train: {threads: 1, no-augment: true, no-flip: false, image-size: 28}
parameters:
  lr: {log_uniform: [1e-4, 1e-2]}
  width: {choices: [16, 32, 64]}
  dropout: {uniform: [0.0, 0.5]}
  depth: {int: [2, 4]}
sampler: random
seed: 7
trials: 12
parallel: 3
metric: val_accuracy:item
mode: max
asha: {min_epochs: 1, eta: 3}
)";

TEST(SweepSpecTest, ParsesEveryDocumentedKey) {
  ASSERT_OK_AND_ASSIGN(SweepSpec spec, ParseSweepSpec(kFullSpec, "sweep.yaml", "/specs"));
  EXPECT_EQ(spec.data, "/specs/fmnist");
  EXPECT_EQ(spec.epochs, 9);
  EXPECT_THAT(spec.train_flags, ElementsAre(Pair("threads", "1"), Pair("no-augment", "true"), Pair("image-size", "28")));
  ASSERT_EQ(spec.parameters.size(), 4u);
  EXPECT_EQ(spec.parameters[0].name, "lr");
  EXPECT_EQ(spec.parameters[0].kind, SweepParameter::Kind::kLogUniform);
  EXPECT_DOUBLE_EQ(spec.parameters[0].lo, 1e-4);
  EXPECT_THAT(spec.parameters[1].choices, ElementsAre("16", "32", "64"));
  EXPECT_EQ(spec.parameters[2].kind, SweepParameter::Kind::kUniform);
  EXPECT_EQ(spec.parameters[3].kind, SweepParameter::Kind::kInt);
  EXPECT_EQ(spec.parameters[3].int_hi, 4);
  EXPECT_EQ(spec.sampler, SweepSampler::kRandom);
  EXPECT_EQ(spec.seed, 7u);
  EXPECT_EQ(spec.trials, 12);
  EXPECT_EQ(spec.parallel, 3);
  EXPECT_EQ(spec.metric.name, "val_accuracy");
  EXPECT_EQ(spec.metric.head, "item");
  EXPECT_EQ(spec.metric.mode, MetricMode::kMax);
  ASSERT_TRUE(spec.asha.has_value());
  EXPECT_EQ(spec.asha->min_epochs, 1);
  EXPECT_EQ(spec.asha->eta, 3);
}

TEST(SweepSpecTest, DefaultsAndGridSize) {
  ASSERT_OK_AND_ASSIGN(SweepSpec spec, ParseSweepSpec(R"(data: /d
epochs: 2
parameters: {width: {choices: [8, 16]}, depth: {int: [1, 3]}}
sampler: grid
metric: val_loss
)",
                                                      "s.yaml"));
  EXPECT_EQ(spec.trials, 6);  // the whole grid
  EXPECT_EQ(spec.parallel, 1);
  EXPECT_EQ(spec.metric.mode, MetricMode::kMin);  // loss: lower is better
  EXPECT_FALSE(spec.asha.has_value());
}

struct BadSpec {
  std::string yaml;
  std::string key;  // the dotted key the message must name
};

// Each case is refused with a message naming the file and its key.
void ExpectEachNamesItsKey(const std::vector<BadSpec>& cases) {
  for (const auto& c : cases) {
    EXPECT_THAT(ParseSweepSpec(c.yaml, "sweep.yaml"),
                StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("sweep.yaml:"), HasSubstr(c.key + ":"))))
        << c.yaml;
  }
}

TEST(SweepSpecTest, EveryBadInputNamesTheFileAndTheKey) {
  const std::string base = "data: /d\nepochs: 3\n";
  const std::string params = "parameters: {lr: {choices: [0.1]}}\ntrials: 2\n";
  const std::vector<BadSpec> cases = {
      {"epochs: 3\n" + params, "data"},
      {"data: /d\n" + params, "epochs"},
      {"data: /d\nepochs: zero\n" + params, "epochs"},
      {base + "trials: 2\n", "parameters"},
      {base + "parameters: {}\ntrials: 2\n", "parameters"},
      {base + "parameters: {lr: {normal: [0, 1]}}\ntrials: 2\n", "parameters.lr"},
      {base + "parameters: {lr: {uniform: [1, 0]}}\ntrials: 2\n", "parameters.lr.uniform"},
      {base + "parameters: {lr: {uniform: [a, 1]}}\ntrials: 2\n", "parameters.lr.uniform"},
      {base + "parameters: {lr: {log_uniform: [0, 1]}}\ntrials: 2\n", "parameters.lr.log_uniform"},
      {base + "parameters: {depth: {int: [1.5, 3]}}\ntrials: 2\n", "parameters.depth.int"},
      {base + "parameters: {width: {choices: [8, 8]}}\ntrials: 2\n", "parameters.width.choices"},
      {base + "parameters: {width: {choices: []}}\ntrials: 2\n", "parameters.width.choices"},
      {base + "parameters: {epochs: {choices: [1, 2]}}\ntrials: 2\n", "parameters.epochs"},
      {base + "parameters: {--lr: {choices: [1]}}\ntrials: 2\n", "parameters.--lr"},
      {base + "train: {out: x}\n" + params, "train.out"},
      {base + "train: {lr: 0.1}\n" + params, "parameters.lr"},
      {base + "train: {lr: [1, 2]}\n" + params, "train.lr"},
      {base + "parameters: {lr: {choices: [0.1]}}\n", "trials"},
      {base + params + "sampler: bayes\n", "sampler"},
      {base + params + "parallel: 0\n", "parallel"},
      {base + params + "metric: val_f1\n", "metric"},
      {base + params + "metric: 'val_accuracy:'\n", "metric"},
      {base + params + "mode: biggest\n", "mode"},
      {base + params + "asha: {eta: 1}\n", "asha.eta"},
      {base + params + "asha: {min_epochs: 5}\n", "asha.min_epochs"},
      {base + params + "asha: {rungs: 3}\n", "asha.rungs"},
      {base + params + "colour: blue\n", "colour"},
      {base + "parameters: {lr: {uniform: [0, 1]}}\nsampler: grid\n", "parameters.lr"},
      {base + "parameters: {lr: {choices: [1, 2]}}\nsampler: grid\ntrials: 3\n", "trials"},
  };
  ExpectEachNamesItsKey(cases);
  EXPECT_THAT(ParseSweepSpec("data: [", "sweep.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sweep.yaml:")));
  EXPECT_THAT(LoadSweepSpec("/nonexistent/sweep.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/sweep.yaml")));
}

// Found by the sweep_spec fuzzer: a kind with a null value ({uniform: }) was
// read through an empty std::optional (heap-use-after-free under ASan), and an
// int range beyond int64 was cast to int64 (undefined behaviour). Both are
// errors naming the key now.
TEST(SweepSpecTest, NullKindValuesAndHugeIntRangesAreErrors) {
  const std::string base = "data: /d\nepochs: 3\ntrials: 2\n";
  const std::vector<BadSpec> cases = {
      {base + "parameters: {lr: {uniform: }}\n", "parameters.lr.uniform"},
      {base + "parameters: {lr: {log_uniform, eta: 3}}\n", "parameters.lr.log_uniform"},
      {base + "parameters: {depth: {int: null}}\n", "parameters.depth.int"},
      {base + "parameters: {width: {choices: ~}}\n", "parameters.width.choices"},
      {base + "parameters: {depth: {int: [0, 1.0e300]}}\n", "parameters.depth.int"},
      {base + "parameters: {depth: {int: [-1.0e19, 1]}}\n", "parameters.depth.int"},
  };
  ExpectEachNamesItsKey(cases);
  ASSERT_OK_AND_ASSIGN(SweepSpec spec,
                       ParseSweepSpec(base + "parameters: {depth: {int: [-9007199254740992, 9007199254740992]}}\n",
                                      "sweep.yaml"));
  EXPECT_EQ(spec.parameters[0].int_lo, -9007199254740992);
  EXPECT_EQ(spec.parameters[0].int_hi, 9007199254740992);
}

}  // namespace
}  // namespace atelier
