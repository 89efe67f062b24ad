// The sweep driver against a fake trainer: a shell script that reads its
// flags, writes one metrics.jsonl line per epoch whose val accuracy is
// quality * epoch / 100 (so ASHA's decisions are known in advance),
// checkpoints after every epoch, exits 75 on SIGTERM (ignores it with
// --stubborn 1) and resumes from its
// checkpoint with --resume. Every wait has a deadline.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "atelier/cli/sweep_driver.h"
#include "atelier/cli/sweep_report.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// FAKE_EVENTS (environment): a file to which every start appends "+ <ns>" and
// every exit "- <ns>", for the concurrency check.
constexpr char kFakeTrainer[] = R"SH(#!/bin/bash
[ "$1" = train ] || { echo "expected train, got $1" >&2; exit 2; }
shift
out= epochs= quality=1 delay=0.2 resume=0 stubborn=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --quality) quality=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --fail) exit 3 ;;
    --stubborn) stubborn=1; shift 2 ;;
    --resume) resume=1; shift ;;
    --data|--threads) shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
events="${FAKE_EVENTS:-/dev/null}"
echo "+ $(date +%s%N)" >> "$events"
trap 'echo "- $(date +%s%N)" >> "$events"' EXIT
mkdir -p "$out"
start=0
if [ "$resume" = 1 ] && [ -f "$out/ckpt" ]; then start=$(cat "$out/ckpt"); fi
echo "start $start" >> "$out/starts"
stop=0
trap 'stop=1' TERM
if [ "$stubborn" = 1 ]; then trap '' TERM; fi  # ignores SIGTERM (and so does its sleep)
for ((e = start + 1; e <= epochs; e++)); do
  sleep "$delay" & wait $!
  acc=$(awk "BEGIN { print $quality * $e / 100 }")
  echo "{\"epoch\":$e,\"val_loss\":1,\"val\":{\"item\":{\"loss\":1,\"accuracy\":$acc}}}" >> "$out/metrics.jsonl"
  echo "$e" > "$out/ckpt.tmp" && mv "$out/ckpt.tmp" "$out/ckpt"
  if [ "$stop" = 1 ]; then echo "stopped at $e" >> "$out/starts"; exit 75; fi
done
exit 0
)SH";

class SweepDriverTest : public ::testing::Test {
 protected:
  SweepDriverTest() : dir_("sweep-driver") {
    testing::WriteFileOrDie(trainer(), kFakeTrainer);
    ::chmod(trainer().c_str(), 0755);
  }

  fs::path trainer() const { return dir_ / "fake-trainer"; }
  fs::path sweep_dir() const { return dir_ / "sweep"; }

  SweepSpec WriteSpec(const std::string& yaml) {
    testing::WriteFileOrDie(dir_ / "sweep.yaml", yaml);
    auto spec = LoadSweepSpec((dir_ / "sweep.yaml").string());
    EXPECT_TRUE(spec.ok()) << spec.status();
    return spec.ok() ? *spec : SweepSpec{};
  }

  SweepOptions Options() const {
    SweepOptions options;
    options.dir = sweep_dir();
    options.trainer = {trainer().string(), "train"};
    options.poll = absl::Milliseconds(20);
    return options;
  }

  // `atelier sweep` as a user runs it, with the fake trainer.
  std::vector<std::string> SweepCommand() const {
    return {testing::BinaryPath("atelier").string(), "sweep", "--spec", (dir_ / "sweep.yaml").string(), "--dir",
            sweep_dir().string(), "--trainer", trainer().string(), "--poll-ms", "20"};
  }

  std::vector<std::string> Lines(const fs::path& file) const {
    return absl::StrSplit(testing::ReadFileOrEmpty(file), '\n', absl::SkipEmpty());
  }

  // Waits up to 60 s for `done` (checked every 20 ms).
  static bool WaitFor(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // The trial's record; an empty object while it has none.
  nlohmann::json TrialJson(int id) const {
    auto j = nlohmann::json::parse(testing::ReadFileOrEmpty(TrialDir(sweep_dir(), id) / "trial.json"), nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
  }

  int Checkpoint(int id) const {
    int epoch = 0;
    return absl::SimpleAtoi(testing::ReadFileOrEmpty(TrialRunDir(sweep_dir(), id) / "ckpt"), &epoch) ? epoch : 0;
  }

  void StopAndResume(int signal);

  testing::TempDir dir_;
};

TEST_F(SweepDriverTest, AshaStopsTheTrialsOutsideTheTopOfTheirRung) {
  // Sequential trials, rungs at epochs 1 and 3 (eta 3, 9 epochs). Trial 0
  // (quality 5) is first at every rung; 1 (3) is behind 5 at rung 1 -> stop;
  // 2 (8) leads -> on; 3 (1) -> stop; 4 (9) leads -> on; 5 (2) is 5th of 6 at
  // rung 1, where the top 2 go on -> stop.
  const SweepSpec spec = WriteSpec(R"(data: /data
epochs: 9
parameters: {quality: {choices: [5, 3, 8, 1, 9, 2]}}
sampler: grid
metric: val_accuracy:item
asha: {min_epochs: 1, eta: 3}
)");
  ASSERT_OK_AND_ASSIGN(SweepOutcome outcome, RunSweep(spec, Options()));
  EXPECT_FALSE(outcome.interrupted);
  const std::vector<TrialState> expected = {TrialState::kCompleted, TrialState::kStopped, TrialState::kCompleted,
                                            TrialState::kStopped,   TrialState::kCompleted, TrialState::kStopped};
  ASSERT_EQ(outcome.state.trials.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const TrialRecord& t = outcome.state.trials[i];
    EXPECT_EQ(t.state, expected[i]) << "trial " << i << ": " << TrialStateName(t.state) << " " << t.message;
    if (t.state == TrialState::kCompleted) {
      EXPECT_EQ(t.epochs(), 9) << i;
    } else {
      EXPECT_LT(t.epochs(), 9) << i;  // stopped soon after its rung, with its last metric
      EXPECT_GE(t.epochs(), 1) << i;
      EXPECT_EQ(t.exit_code, 75) << i;
      EXPECT_TRUE(t.metric().has_value()) << i;
    }
  }
  EXPECT_EQ(BestTrial(outcome.state, spec), 4);
  // sweep.json holds every trial's record.
  auto sweep = nlohmann::json::parse(testing::ReadFileOrEmpty(sweep_dir() / kSweepStateName), nullptr, false);
  ASSERT_TRUE(sweep.is_object());
  ASSERT_EQ(sweep["trials"].size(), 6u);
  EXPECT_EQ(sweep["trials"][1]["state"], "stopped");
  EXPECT_EQ(sweep["trials"][4]["epochs"], 9);
  // The report of the finished sweep: the page passes the HTML checker.
  ASSERT_OK(WriteSweepReport(*Env::Default(), sweep_dir(), outcome.state, spec));
  auto check = testing::CheckHtmlPage(sweep_dir() / kSweepPageName);
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(SweepDriverTest, NeverRunsMoreThanParallelTrialsAtOnce) {
  const SweepSpec spec = WriteSpec(R"(data: /data
epochs: 3
parameters: {quality: {choices: [1, 2, 3, 4, 5, 6, 7]}, delay: {choices: [0.05]}}
sampler: grid
parallel: 2
)");
  const fs::path events = dir_ / "events";
  ::setenv("FAKE_EVENTS", events.c_str(), 1);
  auto outcome = RunSweep(spec, Options());
  ::unsetenv("FAKE_EVENTS");
  ASSERT_OK(outcome.status());
  for (const auto& t : outcome->state.trials) EXPECT_EQ(t.state, TrialState::kCompleted) << t.id;
  std::vector<std::pair<long long, int>> timeline;
  for (const std::string& line : Lines(events)) {
    long long ns = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(2), &ns)) << line;
    timeline.emplace_back(ns, line[0] == '+' ? 1 : -1);
  }
  ASSERT_EQ(timeline.size(), 14u);
  std::sort(timeline.begin(), timeline.end());
  int running = 0, most = 0;
  for (const auto& [ns, delta] : timeline) most = std::max(most, running += delta);
  EXPECT_EQ(most, 2);
  EXPECT_EQ(running, 0);
}

TEST_F(SweepDriverTest, AFailedTrialIsRecordedAndTheOthersRun) {
  const SweepSpec spec = WriteSpec(R"(data: /data
epochs: 2
parameters: {fail: {choices: [true, false]}, delay: {choices: [0.01]}}
sampler: grid
)");
  ASSERT_OK_AND_ASSIGN(SweepOutcome outcome, RunSweep(spec, Options()));
  EXPECT_EQ(outcome.state.trials[0].state, TrialState::kFailed);
  EXPECT_EQ(outcome.state.trials[0].exit_code, 3);
  EXPECT_THAT(outcome.state.trials[0].message, HasSubstr("train.log"));
  EXPECT_EQ(outcome.state.trials[1].state, TrialState::kCompleted);
  EXPECT_TRUE(fs::exists(TrialLog(sweep_dir(), 1)));
}

TEST_F(SweepDriverTest, ATrialOfAClusterTaskWritesOnlyItsOwnFiles) {
  const SweepSpec spec = WriteSpec(R"(data: /data
epochs: 2
parameters: {quality: {choices: [1, 2, 3]}, delay: {choices: [0.01]}}
sampler: grid
)");
  ASSERT_OK_AND_ASSIGN(SweepOutcome outcome, RunSweepTrial(spec, 1, Options()));
  EXPECT_EQ(outcome.state.trials[1].state, TrialState::kCompleted);
  EXPECT_FALSE(fs::exists(sweep_dir() / kSweepStateName));
  EXPECT_FALSE(fs::exists(TrialDir(sweep_dir(), 0)));
  EXPECT_FALSE(fs::exists(TrialDir(sweep_dir(), 2)));
  EXPECT_EQ(TrialJson(1)["state"], "completed");
  // The parent's --report reads the trials' records.
  auto report = testing::RunCommand({testing::BinaryPath("atelier").string(), "sweep", "--spec",
                                     (dir_ / "sweep.yaml").string(), "--dir", sweep_dir().string(), "--report"});
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_THAT(report.output, HasSubstr("best: trial 1"));
  auto gathered = nlohmann::json::parse(testing::ReadFileOrEmpty(sweep_dir() / kSweepStateName), nullptr, false);
  ASSERT_TRUE(gathered.is_object());
  EXPECT_EQ(gathered["trials"][1]["state"], "completed");
  EXPECT_EQ(gathered["trials"][0]["state"], "pending");
  EXPECT_THAT(testing::ReadFileOrEmpty(sweep_dir() / kTrialsCsvName), HasSubstr("1,2,0.01,completed,2,0.04"));
  EXPECT_THAT(RunSweepTrial(spec, 3, Options()), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SweepDriverTest, AClusterTaskIsJudgedAgainstTheOtherTasksRecords) {
  const SweepSpec spec = WriteSpec(R"(data: /data
epochs: 4
parameters: {quality: {choices: [5, 3]}}
sampler: grid
asha: {min_epochs: 1, eta: 2}
)");
  ASSERT_OK_AND_ASSIGN(SweepOutcome first, RunSweepTrial(spec, 0, Options()));
  EXPECT_EQ(first.state.trials[0].state, TrialState::kCompleted);
  ASSERT_OK_AND_ASSIGN(SweepOutcome second, RunSweepTrial(spec, 1, Options()));  // behind trial 0 at epoch 1
  EXPECT_EQ(second.state.trials[1].state, TrialState::kStopped) << second.state.trials[1].message;
  EXPECT_EQ(TrialJson(1)["state"], "stopped");
  EXPECT_EQ(TrialJson(0)["epochs"], 4);  // trial 0's record untouched
}

// kill -9 of the driver while trials run, then the same command again: the
// finished trials are not started again, the running ones continue from
// their checkpoints, and every trial ends with all its epochs.
TEST_F(SweepDriverTest, RerunAfterKill9LosesAndRepeatsNothing) {
  WriteSpec(R"(data: /data
epochs: 6
parameters: {delay: {choices: [0.02, 0.4]}, quality: {choices: [1, 2]}}
sampler: grid
parallel: 2
)");
  {
    testing::ChildProcess driver(SweepCommand(), dir_ / "driver1.log");
    ASSERT_TRUE(WaitFor([&] {
      return TrialJson(0).value("state", "") == "completed" && TrialJson(1).value("state", "") == "completed" &&
             Checkpoint(2) >= 2 && Checkpoint(3) >= 2;
    })) << testing::ReadFileOrEmpty(dir_ / "driver1.log");
    EXPECT_EQ(driver.Kill(SIGKILL), 128 + SIGKILL);
  }
  // The trainers die with the driver (their process group and PR_SET_PDEATHSIG).
  ASSERT_TRUE(WaitFor([&] {
    auto r = testing::RunCommand({"pgrep", "-f", trainer().string()});
    return r.exit_code == 1;
  }));
  const int checkpoint2 = Checkpoint(2);
  testing::ChildProcess rerun(SweepCommand(), dir_ / "driver2.log");
  ASSERT_EQ(rerun.Wait(std::chrono::seconds(60)), 0) << testing::ReadFileOrEmpty(dir_ / "driver2.log");
  for (int id : {0, 1}) {
    EXPECT_EQ(Lines(TrialRunDir(sweep_dir(), id) / "starts"), std::vector<std::string>{"start 0"}) << id;
    EXPECT_EQ(TrialJson(id)["starts"], 1) << id;
  }
  for (int id : {2, 3}) {
    const auto starts = Lines(TrialRunDir(sweep_dir(), id) / "starts");
    ASSERT_EQ(starts.size(), 2u) << id;
    EXPECT_EQ(starts[0], "start 0");
    EXPECT_NE(starts[1], "start 0") << id << ": started again from scratch";
    EXPECT_EQ(TrialJson(id)["starts"], 2) << id;
  }
  EXPECT_EQ(Lines(TrialRunDir(sweep_dir(), 2) / "starts")[1], "start " + std::to_string(checkpoint2));
  for (int id = 0; id < 4; ++id) {
    EXPECT_EQ(TrialJson(id)["state"], "completed") << id;
    EXPECT_EQ(TrialJson(id)["epochs"], 6) << id;
  }
  const std::string out = testing::ReadFileOrEmpty(dir_ / "driver2.log");
  EXPECT_THAT(out, HasSubstr("best: trial 1"));  // quality 2 at delay 0.02 (the first of the best)
  EXPECT_THAT(out, HasSubstr("atelier train --data /data --out "));
  EXPECT_TRUE(fs::exists(sweep_dir() / kTrialsCsvName));
  EXPECT_TRUE(fs::exists(sweep_dir() / kSweepPageName));
}

// SIGTERM or SIGINT to the driver: every trial checkpoints (exit 75), the
// driver exits 75 with them recorded as running; the rerun resumes them.
void SweepDriverTest::StopAndResume(int signal) {
  WriteSpec(R"(data: /data
epochs: 8
parameters: {quality: {choices: [1, 2]}, delay: {choices: [0.3]}}
sampler: grid
parallel: 2
)");
  {
    testing::ChildProcess driver(SweepCommand(), dir_ / "driver1.log");
    ASSERT_TRUE(WaitFor([&] { return Checkpoint(0) >= 1 && Checkpoint(1) >= 1; }));
    ::kill(driver.pid(), signal);
    EXPECT_EQ(driver.Wait(std::chrono::seconds(60)), 75) << testing::ReadFileOrEmpty(dir_ / "driver1.log");
  }
  for (int id : {0, 1}) {
    EXPECT_EQ(TrialJson(id)["state"], "running") << id;
    EXPECT_THAT(testing::ReadFileOrEmpty(TrialRunDir(sweep_dir(), id) / "starts"), HasSubstr("stopped at")) << id;
  }
  testing::ChildProcess rerun(SweepCommand(), dir_ / "driver2.log");
  ASSERT_EQ(rerun.Wait(std::chrono::seconds(60)), 0) << testing::ReadFileOrEmpty(dir_ / "driver2.log");
  for (int id : {0, 1}) {
    EXPECT_EQ(TrialJson(id)["state"], "completed") << id;
    const auto starts = Lines(TrialRunDir(sweep_dir(), id) / "starts");
    ASSERT_EQ(starts.size(), 3u) << id;
    EXPECT_NE(starts[2], "start 0") << id;
  }
}

// A trial that ignores SIGTERM is killed after --stop-grace-s and stays
// resumable: the rerun continues it from its last checkpoint.
TEST_F(SweepDriverTest, ATrialIgnoringSigtermIsKilledAfterTheGraceAndResumes) {
  WriteSpec(R"(data: /data
epochs: 6
parameters: {stubborn: {choices: [1]}, delay: {choices: [1.0]}}
sampler: grid
)");
  std::vector<std::string> command = SweepCommand();
  command.insert(command.end(), {"--stop-grace-s", "1"});
  {
    testing::ChildProcess driver(command, dir_ / "driver1.log");
    ASSERT_TRUE(WaitFor([&] { return Checkpoint(0) >= 1; }));
    ::kill(driver.pid(), SIGTERM);
    EXPECT_EQ(driver.Wait(std::chrono::seconds(60)), 75) << testing::ReadFileOrEmpty(dir_ / "driver1.log");
  }
  // Not completed: the trainer (5 s of epochs left) was killed, not waited for.
  EXPECT_EQ(TrialJson(0)["state"], "running");
  EXPECT_THAT(TrialJson(0)["message"].get<std::string>(), HasSubstr("killed"));
  const auto first = Lines(TrialRunDir(sweep_dir(), 0) / "starts");
  EXPECT_EQ(first, std::vector<std::string>{"start 0"}) << "the trainer exited by itself";
  const int checkpoint = Checkpoint(0);
  EXPECT_LT(checkpoint, 6);
  testing::ChildProcess rerun(SweepCommand(), dir_ / "driver2.log");
  ASSERT_EQ(rerun.Wait(std::chrono::seconds(60)), 0) << testing::ReadFileOrEmpty(dir_ / "driver2.log");
  EXPECT_EQ(TrialJson(0)["state"], "completed");
  const auto starts = Lines(TrialRunDir(sweep_dir(), 0) / "starts");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1], "start " + std::to_string(checkpoint));
}

TEST_F(SweepDriverTest, SigtermStopsTheTrialsResumably) { StopAndResume(SIGTERM); }
TEST_F(SweepDriverTest, SigintStopsTheTrialsResumably) { StopAndResume(SIGINT); }

TEST_F(SweepDriverTest, TheTrainerCanComeFromTheEnvironment) {
  WriteSpec("data: /data\nepochs: 1\nparameters: {delay: {choices: [0.01]}}\nsampler: grid\n");
  auto r = testing::RunCommand({testing::BinaryPath("atelier").string(), "sweep", "--spec",
                                (dir_ / "sweep.yaml").string(), "--dir", sweep_dir().string()},
                               {{"ATELIER_SWEEP_TRAINER", trainer().string()}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(TrialJson(0)["state"], "completed");
}

TEST_F(SweepDriverTest, ASpecErrorNamesTheKeyAndExitsOne) {
  testing::WriteFileOrDie(dir_ / "sweep.yaml",
                          "data: /data\nepochs: 2\nparameters: {lr: {choices: [1]}}\ntrials: 1\nsampler: bayes\n");
  auto r = testing::RunCommand(SweepCommand());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("sweep.yaml:5: sampler:"));
}

TEST_F(SweepDriverTest, EmitWritesTheClusterFiles) {
  WriteSpec("data: /data\nepochs: 2\nparameters: {quality: {choices: [1, 2, 3]}}\nsampler: grid\nparallel: 2\n");
  auto cmd = SweepCommand();
  cmd.insert(cmd.end(), {"--emit", "slurm"});
  auto slurm = testing::RunCommand(cmd);
  EXPECT_EQ(slurm.exit_code, 0) << slurm.output;
  EXPECT_THAT(testing::ReadFileOrEmpty(sweep_dir() / "sweep.sbatch"), HasSubstr("#SBATCH --array=0-2%2\n"));
  cmd.back() = "k8s";
  auto k8s = testing::RunCommand(cmd);
  EXPECT_EQ(k8s.exit_code, 0) << k8s.output;
  EXPECT_THAT(testing::ReadFileOrEmpty(sweep_dir() / "sweep-job.yaml"), HasSubstr("completions: 3\n"));
  EXPECT_FALSE(fs::exists(sweep_dir() / "trials"));  // nothing ran
}

}  // namespace
}  // namespace atelier::cli
