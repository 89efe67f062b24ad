#include "atelier/cli/sweep_driver.h"

#include <signal.h>

#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "atelier/cli/asha.h"
#include "atelier/common/process_set.h"
#include "atelier/common/status_macros.h"

namespace fs = std::filesystem;

namespace atelier::cli {
namespace {

void AppendFlag(std::vector<std::string>& args, const std::string& name, const std::string& value) {
  if (value == "false") return;
  args.push_back("--" + name);
  if (value != "true") args.push_back(value);
}

// One run of the driver over a sweep folder: all trials, or only `only`.
class SweepRun {
 public:
  SweepRun(const SweepSpec& spec, const SweepOptions& options, std::optional<int> only)
      : spec_(spec), options_(options), only_(only) {
    if (spec.asha) rungs_ = AshaRungs(*spec.asha, spec.epochs);
  }

  absl::StatusOr<SweepOutcome> Run() {
    if (options_.trainer.empty()) return absl::InvalidArgumentError("no trainer command to run the trials with");
    samples_ = SampleTrials(spec_);
    if (only_ && (*only_ < 0 || *only_ >= static_cast<int>(samples_.size()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--trial ", *only_, " is not a trial of ", spec_.origin, " (0 to ", samples_.size() - 1, ")"));
    }
    ASSIGN_OR_RETURN(state_, LoadSweepState(*options_.env, options_.dir, samples_));
    RETURN_IF_ERROR(SaveAll());
    const int parallel = only_ ? 1 : spec_.parallel;
    while (true) {
      if (only_) RETURN_IF_ERROR(ReloadOthers());
      RETURN_IF_ERROR(Refresh());
      if (Stopping()) return Interrupt();
      while (static_cast<int>(active_.size()) < parallel) {
        std::optional<int> next = NextTrial();
        if (!next) break;
        RETURN_IF_ERROR(Start(*next));
      }
      if (active_.empty()) break;
      options_.clock->SleepFor(options_.poll);
    }
    return SweepOutcome{state_, false};
  }

 private:
  bool Stopping() const { return options_.stop != nullptr && options_.stop->load(); }
  bool Mine(int id) const { return !only_ || *only_ == id; }

  void Say(const std::string& line) {
    if (options_.progress) *options_.progress << "atelier sweep: " << line << "\n" << std::flush;
  }

  // Running trials (left by a killed driver) first, then pending ones, by id.
  std::optional<int> NextTrial() const {
    for (TrialState wanted : {TrialState::kRunning, TrialState::kPending}) {
      for (const auto& t : state_.trials) {
        if (t.state == wanted && Mine(t.id) && !active_.count(t.id)) return t.id;
      }
    }
    return std::nullopt;
  }

  absl::Status Start(int id) {
    TrialRecord& t = state_.trials[id];
    const fs::path trial_dir = TrialDir(options_.dir, id);
    RETURN_IF_ERROR(options_.env->CreateDirs(trial_dir));
    std::vector<std::string> argv = options_.trainer;
    for (auto& a : TrainArguments(spec_, t.params, TrialRunDir(options_.dir, id))) argv.push_back(std::move(a));
    argv.push_back("--resume");
    const bool resumed = t.state == TrialState::kRunning;
    ASSIGN_OR_RETURN(pid_t pid, processes_.Start(argv, {}, TrialLog(options_.dir, id)));
    active_[id] = pid;
    t.state = TrialState::kRunning;
    ++t.starts;
    Say(absl::StrCat("trial ", id, resumed ? " resumed" : " started", " (pid ", pid, ")"));
    return Save(id);
  }

  // Reads the metrics of every active trial, judges it at the rungs it has
  // reached, and records the trials that exited.
  absl::Status Refresh() {
    for (auto it = active_.begin(); it != active_.end();) {
      const int id = it->first;
      const pid_t pid = it->second;
      const bool running = processes_.Running(pid);  // before reading: the exit's last epoch is then in the file
      TrialRecord& t = state_.trials[id];
      const size_t before = t.history.size();
      auto jsonl = options_.env->ReadFile(TrialRunDir(options_.dir, id) / "metrics.jsonl");
      if (jsonl.ok()) t.history = ReadMetricHistory(*jsonl, spec_.metric);
      bool changed = t.history.size() != before;
      changed |= Judge(t, pid, running);
      if (!running) {
        Finish(t, processes_.Wait(pid));
        it = active_.erase(it);
        changed = true;
      } else {
        ++it;
      }
      if (changed) RETURN_IF_ERROR(Save(id));
    }
    return absl::OkStatus();
  }

  // ASHA at every rung `t` has reached and not been judged at. Returns whether
  // the record changed.
  bool Judge(TrialRecord& t, pid_t pid, bool running) {
    bool changed = false;
    while (t.rungs_decided < static_cast<int>(rungs_.size()) && t.epochs() >= rungs_[t.rungs_decided]) {
      const int rung = rungs_[t.rungs_decided];
      std::optional<double> value;
      for (const auto& [epoch, v] : t.history) {
        if (epoch == rung) value = v;
      }
      ++t.rungs_decided;
      changed = true;
      if (!value) continue;  // no metric at that epoch: nothing to judge on
      std::vector<double> others;
      for (const auto& u : state_.trials) {
        if (u.id == t.id || u.rungs_decided < t.rungs_decided) continue;
        for (const auto& [epoch, v] : u.history) {
          if (epoch == rung) others.push_back(v);
        }
      }
      if (AshaContinues(*value, others, spec_.asha->eta, spec_.metric.mode)) continue;
      t.message = absl::StrCat("ASHA: ", spec_.metric.Describe(), " ", *value, " at epoch ", rung,
                               " is not in the top 1/", spec_.asha->eta, " of ", others.size() + 1, " trials");
      if (running && !asha_stopped_.count(t.id)) {
        processes_.SignalGroup(pid, SIGTERM);
        asha_stopped_.insert(t.id);
        Say(absl::StrCat("trial ", t.id, " stopped at epoch ", rung, " (", t.message, ")"));
      }
      break;
    }
    return changed;
  }

  void Finish(TrialRecord& t, int exit_code) {
    t.exit_code = exit_code;
    if (exit_code == 0) {
      t.state = TrialState::kCompleted;
      if (!asha_stopped_.count(t.id)) t.message.clear();
    } else if (exit_code == kStopped && asha_stopped_.count(t.id)) {
      t.state = TrialState::kStopped;
    } else if (exit_code == kStopped && Stopping()) {
      t.state = TrialState::kRunning;  // checkpointed; the next run resumes it
    } else if (killed_.count(t.id)) {
      // Killed after the stop grace: still resumable, from its last checkpoint.
      t.state = TrialState::kRunning;
      t.message = "killed after the stop grace; resumes from its last checkpoint";
    } else {
      t.state = TrialState::kFailed;
      t.message = absl::StrCat("atelier train exited with code ", exit_code, " (see ",
                               TrialLog(options_.dir, t.id).string(), ")");
    }
    Say(absl::StrCat("trial ", t.id, " ", TrialStateName(t.state), " after ", t.epochs(), " epochs",
                     t.metric() ? absl::StrCat(", ", spec_.metric.Describe(), " ", *t.metric()) : ""));
  }

  absl::StatusOr<SweepOutcome> Interrupt() {
    Say(absl::StrCat("stopping ", active_.size(), " running trials (SIGTERM: they checkpoint and exit 75)"));
    for (const auto& [id, pid] : active_) processes_.SignalGroup(pid, SIGTERM);
    const absl::Time deadline = options_.clock->Now() + options_.stop_grace;
    while (!active_.empty()) {
      if (options_.clock->Now() >= deadline) {
        for (const auto& [id, pid] : active_) {
          if (!killed_.insert(id).second) continue;
          Say(absl::StrCat("trial ", id, " did not stop within the grace period; killed (SIGKILL)"));
          processes_.SignalGroup(pid, SIGKILL);
        }
      }
      RETURN_IF_ERROR(Refresh());
      if (!active_.empty()) options_.clock->SleepFor(options_.poll);
    }
    bool unfinished = false;
    for (const auto& t : state_.trials) unfinished |= Mine(t.id) && !t.finished();
    return SweepOutcome{state_, unfinished};
  }

  // Cluster task: the other trials' records as their own tasks wrote them.
  absl::Status ReloadOthers() {
    ASSIGN_OR_RETURN(SweepState disk, LoadSweepState(*options_.env, options_.dir, samples_));
    for (auto& t : disk.trials) {
      if (!Mine(t.id)) state_.trials[t.id] = std::move(t);
    }
    return absl::OkStatus();
  }

  absl::Status Save(int id) {
    RETURN_IF_ERROR(SaveTrial(*options_.env, options_.dir, state_.trials[id]));
    if (only_) return absl::OkStatus();  // a cluster task writes only its own trial's files
    return SaveSweepState(*options_.env, options_.dir, state_);
  }

  absl::Status SaveAll() {
    if (only_) return options_.env->CreateDirs(TrialDir(options_.dir, *only_));
    return SaveSweepState(*options_.env, options_.dir, state_);
  }

  static constexpr int kStopped = 75;  // atelier::kExitStoppedOnSignal, the trainer's exit after its checkpoint

  const SweepSpec& spec_;
  const SweepOptions& options_;
  const std::optional<int> only_;
  std::vector<int> rungs_;
  std::vector<TrialParams> samples_;
  SweepState state_;
  ProcessSet processes_;
  std::map<int, pid_t> active_;  // trial id -> trainer pid
  std::set<int> asha_stopped_;   // trials sent SIGTERM by ASHA
  std::set<int> killed_;         // trials sent SIGKILL after the stop grace
};

}  // namespace

std::vector<std::string> TrainArguments(const SweepSpec& spec, const TrialParams& params, const fs::path& run_dir) {
  std::vector<std::string> args = {"--data", spec.data, "--out", run_dir.string(), "--epochs",
                                   absl::StrCat(spec.epochs)};
  for (const auto& [name, value] : spec.train_flags) AppendFlag(args, name, value);
  for (const auto& [name, value] : params) AppendFlag(args, name, value);
  return args;
}

absl::StatusOr<SweepOutcome> RunSweep(const SweepSpec& spec, const SweepOptions& options) {
  return SweepRun(spec, options, std::nullopt).Run();
}

absl::StatusOr<SweepOutcome> RunSweepTrial(const SweepSpec& spec, int id, const SweepOptions& options) {
  return SweepRun(spec, options, id).Run();
}

}  // namespace atelier::cli
