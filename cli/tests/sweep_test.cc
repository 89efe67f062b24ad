// The pure parts of `atelier sweep`: sampling, ASHA, metrics, records, the
// report (table, CSV, best command, page) and the cluster files.
#include <set>
#include <string>

#include "absl/strings/str_join.h"
#include "atelier/cli/asha.h"
#include "atelier/cli/sweep_emit.h"
#include "atelier/cli/sweep_report.h"
#include "atelier/cli/sweep_sampler.h"
#include "atelier/cli/sweep_state.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::cli {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

SweepSpec Spec(const std::string& yaml) {
  auto spec = ParseSweepSpec(yaml, "sweep.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : SweepSpec{};
}

TEST(SweepSamplerTest, GridEnumeratesTheProductFirstParameterSlowest) {
  const SweepSpec spec = Spec(R"(data: /d
epochs: 1
parameters: {width: {choices: [8, 16]}, depth: {int: [1, 3]}, no-augment: {choices: [true, false]}}
sampler: grid
)");
  const auto trials = SampleTrials(spec);
  ASSERT_EQ(trials.size(), 12u);
  EXPECT_THAT(trials[0], ElementsAre(Pair("width", "8"), Pair("depth", "1"), Pair("no-augment", "true")));
  EXPECT_THAT(trials[1], ElementsAre(Pair("width", "8"), Pair("depth", "1"), Pair("no-augment", "false")));
  EXPECT_THAT(trials[2], ElementsAre(Pair("width", "8"), Pair("depth", "2"), Pair("no-augment", "true")));
  EXPECT_THAT(trials[11], ElementsAre(Pair("width", "16"), Pair("depth", "3"), Pair("no-augment", "false")));
  std::set<TrialParams> distinct(trials.begin(), trials.end());
  EXPECT_EQ(distinct.size(), 12u);
}

TEST(SweepSamplerTest, RandomIsSeededReproducibleAndInRange) {
  const std::string yaml = R"(data: /d
epochs: 1
parameters:
  lr: {log_uniform: [1e-4, 1e-1]}
  dropout: {uniform: [0.1, 0.5]}
  depth: {int: [2, 4]}
  width: {choices: [16, 32]}
trials: 200
)";
  const auto a = SampleTrials(Spec(yaml + "seed: 3\n"));
  const auto b = SampleTrials(Spec(yaml + "seed: 3\n"));
  const auto c = SampleTrials(Spec(yaml + "seed: 4\n"));
  ASSERT_EQ(a.size(), 200u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<std::string> depths, widths;
  int small_lr = 0;
  for (const auto& t : a) {
    const double lr = std::stod(t[0].second), dropout = std::stod(t[1].second);
    EXPECT_GE(lr, 1e-4 * 0.9999);
    EXPECT_LE(lr, 1e-1);
    EXPECT_GE(dropout, 0.1);
    EXPECT_LE(dropout, 0.5);
    small_lr += lr < 1e-2 ? 1 : 0;  // log-uniform: two thirds of the draws below 1e-2
    depths.insert(t[2].second);
    widths.insert(t[3].second);
  }
  EXPECT_GT(small_lr, 100);
  EXPECT_THAT(depths, ElementsAre("2", "3", "4"));
  EXPECT_THAT(widths, ElementsAre("16", "32"));
}

TEST(AshaTest, RungsAreMinTimesEtaPowersBelowTheEpochs) {
  EXPECT_THAT(AshaRungs({.min_epochs = 1, .eta = 3}, 9), ElementsAre(1, 3));
  EXPECT_THAT(AshaRungs({.min_epochs = 1, .eta = 3}, 10), ElementsAre(1, 3, 9));
  EXPECT_THAT(AshaRungs({.min_epochs = 2, .eta = 2}, 20), ElementsAre(2, 4, 8, 16));
  EXPECT_TRUE(AshaRungs({.min_epochs = 4, .eta = 2}, 4).empty());
}

TEST(AshaTest, OnlyTheTopOneOverEtaGoOn) {
  EXPECT_TRUE(AshaContinues(0.1, {}, 3, MetricMode::kMax));          // first at the rung
  EXPECT_FALSE(AshaContinues(0.1, {0.5}, 3, MetricMode::kMax));      // 2 trials: only the best
  EXPECT_TRUE(AshaContinues(0.5, {0.5}, 3, MetricMode::kMax));       // ties go on
  EXPECT_TRUE(AshaContinues(0.4, {0.9, 0.1, 0.2, 0.3, 0.0}, 3, MetricMode::kMax));   // 2nd of 6: top 2
  EXPECT_FALSE(AshaContinues(0.3, {0.9, 0.4, 0.2, 0.1, 0.0}, 3, MetricMode::kMax));  // 3rd of 6
  EXPECT_TRUE(AshaContinues(0.1, {0.5, 0.9}, 3, MetricMode::kMin));  // loss: lower is better
  EXPECT_FALSE(AshaContinues(0.9, {0.5}, 2, MetricMode::kMin));
}

TEST(SweepStateTest, ReadsTheMetricFromMetricsJsonl) {
  const std::string jsonl =
      R"({"epoch":1,"val_loss":2.0,"val":{"a":{"loss":1.5,"accuracy":0.2},"b":{"loss":0.5,"accuracy":0.4}}})"
      "\n"
      R"({"epoch":2,"train_loss":1.0})"  // no val split: no metric
      "\n"
      R"({"epoch":1,"val_loss":1.0,"val":{"a":{"loss":0.7,"accuracy":0.6},"b":{"loss":0.3,"accuracy":0.8}}})"
      "\n"
      R"({"epoch":3,"val_loss":0.5,"val":{"a":{"loss":0.4)";  // being written
  SweepMetric mean;
  EXPECT_THAT(ReadMetricHistory(jsonl, mean), ElementsAre(Pair(1, 0.7)));  // the last line of epoch 1
  SweepMetric head{.name = "val_accuracy", .head = "b"};
  EXPECT_THAT(ReadMetricHistory(jsonl, head), ElementsAre(Pair(1, 0.8)));
  SweepMetric loss{.name = "val_loss", .head = "", .mode = MetricMode::kMin};
  EXPECT_THAT(ReadMetricHistory(jsonl, loss), ElementsAre(Pair(1, 1.0)));
  SweepMetric head_loss{.name = "val_loss", .head = "a", .mode = MetricMode::kMin};
  EXPECT_THAT(ReadMetricHistory(jsonl, head_loss), ElementsAre(Pair(1, 0.7)));
}

TEST(SweepStateTest, RecordsRoundTripAndAnotherSpecIsRefused) {
  testing::TempDir dir("sweep-state");
  TrialRecord t;
  t.id = 1;
  t.params = {{"lr", "0.01"}};
  t.state = TrialState::kStopped;
  t.history = {{1, 0.5}, {2, 0.25}};
  t.rungs_decided = 1;
  t.starts = 2;
  t.exit_code = 75;
  t.message = "ASHA";
  ASSERT_OK(SaveTrial(*Env::Default(), dir.path(), t));
  ASSERT_OK_AND_ASSIGN(SweepState state,
                       LoadSweepState(*Env::Default(), dir.path(), {{{"lr", "0.1"}}, {{"lr", "0.01"}}}));
  ASSERT_EQ(state.trials.size(), 2u);
  EXPECT_EQ(state.trials[0].state, TrialState::kPending);
  const TrialRecord& back = state.trials[1];
  EXPECT_EQ(back.state, TrialState::kStopped);
  EXPECT_THAT(back.history, ElementsAre(Pair(1, 0.5), Pair(2, 0.25)));
  EXPECT_EQ(back.epochs(), 2);
  EXPECT_EQ(back.starts, 2);
  EXPECT_EQ(back.exit_code, 75);
  EXPECT_THAT(LoadSweepState(*Env::Default(), dir.path(), {{{"lr", "0.1"}}, {{"lr", "0.02"}}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("trial.json")));
  testing::WriteFileOrDie(TrialDir(dir.path(), 0) / "trial.json", "{\"id\": ");
  EXPECT_THAT(LoadSweepState(*Env::Default(), dir.path(), {{{"lr", "0.1"}}, {{"lr", "0.01"}}}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("0000/trial.json")));
}

SweepState ThreeTrials() {
  SweepState state;
  const std::vector<std::pair<TrialState, std::vector<std::pair<int, double>>>> trials = {
      {TrialState::kCompleted, {{1, 0.5}, {2, 0.6}, {3, 0.7}}},
      {TrialState::kStopped, {{1, 0.2}}},
      {TrialState::kCompleted, {{1, 0.6}, {2, 0.8}, {3, 0.9}}},
  };
  for (size_t i = 0; i < trials.size(); ++i) {
    TrialRecord t;
    t.id = static_cast<int>(i);
    t.params = {{"lr", i == 2 ? "0.003" : "0.1"}, {"tag", i == 2 ? "it's <b>" : "plain"}};
    t.state = trials[i].first;
    t.history = trials[i].second;
    state.trials.push_back(t);
  }
  return state;
}

const char kReportSpec[] = R"(data: /data/my set
epochs: 3
train: {threads: 1, no-augment: true}
parameters: {lr: {choices: [0.1, 0.003]}, tag: {choices: [plain, "it's <b>"]}}
trials: 3
metric: val_accuracy:item
)";

TEST(SweepReportTest, TableCsvAndBestCommand) {
  const SweepSpec spec = Spec(kReportSpec);
  const SweepState state = ThreeTrials();
  EXPECT_EQ(BestTrial(state, spec), 2);
  const std::string table = TrialTable(state, spec);
  EXPECT_THAT(table, HasSubstr("trial  lr     tag       epochs  val_accuracy:item  state"));
  EXPECT_THAT(table, HasSubstr("1      0.1    plain     1       0.2                stopped"));
  const std::string csv = TrialsCsv(state, spec);
  EXPECT_THAT(csv, HasSubstr("trial,lr,tag,state,epochs,val_accuracy:item,exit_code,message\n"));
  EXPECT_THAT(csv, HasSubstr("2,0.003,it's <b>,completed,3,0.9,,\n"));
  const std::string command = BestTrainCommand(spec, state.trials[2], "runs/best");
  EXPECT_EQ(command,
            "atelier train --data '/data/my set' --out runs/best --epochs 3 --threads 1 --no-augment --lr 0.003 "
            "--tag 'it'\\''s <b>'");
  // The shell reads the words back as they were.
  const char kWords[] = "eval \"set -- $1\"; for w in \"$@\"; do printf '[%s]' \"$w\"; done";
  auto r = testing::RunCommand({"/bin/sh", "-c", kWords, "sh",
                                absl::StrJoin({ShellQuote("it's <b>"), ShellQuote("a b"), ShellQuote("$HOME"),
                                               ShellQuote(""), ShellQuote("plain-word")},
                                              " ")});
  EXPECT_EQ(r.output, "[it's <b>][a b][$HOME][][plain-word]");
  EXPECT_EQ(ShellQuote("plain-word"), "plain-word");
  auto eval = testing::RunCommand({"/bin/sh", "-c", "eval \"set -- $1\"; for w in \"$@\"; do printf '[%s]' \"$w\"; done",
                                   "sh", command});
  EXPECT_THAT(eval.output, HasSubstr("[--data][/data/my set]"));
  EXPECT_THAT(eval.output, HasSubstr("[--tag][it's <b>]"));
}

TEST(SweepReportTest, BestPrefersCompletedTrialsAndHonoursMin) {
  SweepSpec spec = Spec(kReportSpec);
  SweepState state = ThreeTrials();
  state.trials[1].history = {{1, 0.95}};  // stopped early with a higher metric
  EXPECT_EQ(BestTrial(state, spec), 2);
  spec.metric.mode = MetricMode::kMin;
  EXPECT_EQ(BestTrial(state, spec), 0);
  for (auto& t : state.trials) t.state = TrialState::kRunning;
  spec.metric.mode = MetricMode::kMax;
  EXPECT_EQ(BestTrial(state, spec), 1);  // none completed: any trial with a metric
  EXPECT_FALSE(BestTrial(SweepState{}, spec).has_value());
}

TEST(SweepReportTest, PageIsSelfContainedAndEscapesText) {
  const SweepSpec spec = Spec(kReportSpec);
  testing::TempDir dir("sweep-page");
  ASSERT_OK(WriteSweepReport(*Env::Default(), dir.path(), ThreeTrials(), spec));
  const std::string html = testing::ReadFileOrEmpty(dir / kSweepPageName);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("<polyline"));
  EXPECT_THAT(html, HasSubstr("stroke-dasharray"));  // the stopped trial
  EXPECT_THAT(html, HasSubstr("it&#39;s &lt;b&gt;"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<b>")));
  EXPECT_EQ(testing::ReadFileOrEmpty(dir / kTrialsCsvName), TrialsCsv(ThreeTrials(), spec));
  auto check = testing::CheckHtmlPage(dir / kSweepPageName);
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST(SweepEmitTest, SlurmArrayRunsOneTrialPerTask) {
  const std::string script = SlurmArrayScript({.spec = "/shared/it's.yaml", .dir = "/shared/sweep", .trials = 12,
                                               .parallel = 3});
  EXPECT_THAT(script, HasSubstr("#SBATCH --array=0-11%3\n"));
  EXPECT_THAT(script, HasSubstr("#SBATCH --requeue\n"));
  EXPECT_THAT(script, HasSubstr("spec='/shared/it'\\''s.yaml'\ndir=/shared/sweep\n"));
  EXPECT_THAT(script, HasSubstr("sweep --spec \"$spec\" --dir \"$dir\" --trial \"$trial\""));
  EXPECT_THAT(script, HasSubstr("trial=\"${SLURM_ARRAY_TASK_ID:?"));
  EXPECT_THAT(script, HasSubstr("scontrol requeue"));
  testing::TempDir dir("sweep-emit");
  testing::WriteFileOrDie(dir / "sweep.sbatch", script);
  auto syntax = testing::RunCommand({"bash", "-n", (dir / "sweep.sbatch").string()});
  EXPECT_EQ(syntax.exit_code, 0) << syntax.output;
}

TEST(SweepEmitTest, K8sIndexedJobRunsOneTrialPerPod) {
  const std::string job = K8sIndexedJob({.spec = "/data/sweep.yaml", .dir = "/data/sweeps/a", .trials = 12,
                                         .parallel = 3});
  EXPECT_THAT(job, HasSubstr("completionMode: Indexed\n"));
  EXPECT_THAT(job, HasSubstr("completions: 12\n  parallelism: 3\n"));
  EXPECT_THAT(job, HasSubstr("args: [sweep, --spec, \"/data/sweep.yaml\", --dir, \"/data/sweeps/a\", --trial, "
                             "\"$(TRIAL)\"]"));
  EXPECT_THAT(job, HasSubstr("batch.kubernetes.io/job-completion-index"));
  EXPECT_THAT(job, HasSubstr("values: [75]"));
  EXPECT_THAT(job, HasSubstr("runAsNonRoot: true"));
  EXPECT_THAT(job, HasSubstr("claimName: atelier-dataset"));
  // It parses as YAML (Debian's python3-yaml) with the fields where the Job API expects them.
  testing::TempDir dir("sweep-emit-k8s");
  testing::WriteFileOrDie(dir / "job.yaml", job);
  auto parsed = testing::RunCommand(
      {"/usr/bin/python3", "-c",
       "import sys, yaml; j = yaml.safe_load(open(sys.argv[1])); s = j['spec']; "
       "c = s['template']['spec']['containers'][0]; "
       "print(j['kind'], s['completionMode'], s['completions'], s['parallelism'], c['args'][-1], "
       "s['template']['spec']['restartPolicy'])",
       (dir / "job.yaml").string()});
  EXPECT_EQ(parsed.output, "Job Indexed 12 3 $(TRIAL) Never\n");
}

}  // namespace
}  // namespace atelier::cli
