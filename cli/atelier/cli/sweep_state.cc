#include "atelier/cli/sweep_state.h"

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/status_macros.h"
#include "nlohmann/json.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace atelier::cli {
namespace {

constexpr TrialState kStates[] = {TrialState::kPending, TrialState::kRunning, TrialState::kCompleted,
                                  TrialState::kStopped, TrialState::kFailed};

json ParamsToJson(const TrialParams& params) {
  json j = json::array();
  for (const auto& [name, value] : params) j.push_back({name, value});
  return j;
}

json TrialToJson(const TrialRecord& t) {
  json history = json::array();
  for (const auto& [epoch, value] : t.history) history.push_back({epoch, value});
  return {{"id", t.id},
          {"params", ParamsToJson(t.params)},
          {"state", TrialStateName(t.state)},
          {"epochs", t.epochs()},
          {"metric", t.metric() ? json(*t.metric()) : json(nullptr)},
          {"history", history},
          {"rungs_decided", t.rungs_decided},
          {"starts", t.starts},
          {"exit_code", t.exit_code},
          {"message", t.message}};
}

absl::StatusOr<TrialRecord> TrialFromJson(const std::string& text, const fs::path& file) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto damaged = [&file](const std::string& why) {
    return absl::DataLossError(absl::StrCat(file.string(), ": ", why, "; remove the file to run the trial again"));
  };
  if (!j.is_object()) return damaged("not a JSON object");
  TrialRecord t;
  try {
    t.id = j.at("id").get<int>();
    for (const auto& p : j.at("params")) t.params.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
    const std::string state = j.at("state").get<std::string>();
    bool known = false;
    for (TrialState s : kStates) {
      if (state == TrialStateName(s)) {
        t.state = s;
        known = true;
      }
    }
    if (!known) return damaged(absl::StrCat("unknown state '", state, "'"));
    for (const auto& h : j.at("history")) t.history.emplace_back(h.at(0).get<int>(), h.at(1).get<double>());
    t.rungs_decided = j.at("rungs_decided").get<int>();
    t.starts = j.at("starts").get<int>();
    t.exit_code = j.at("exit_code").get<int>();
    t.message = j.at("message").get<std::string>();
  } catch (const json::exception& e) {
    return damaged(e.what());
  }
  return t;
}

std::string Describe(const TrialParams& params) {
  std::string out;
  for (const auto& [name, value] : params) absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  return out;
}

// The metric of one metrics.jsonl record, if it has it.
std::optional<double> MetricOf(const json& j, const SweepMetric& metric) {
  if (!j.is_object() || !j.contains("val") || !j["val"].is_object()) return std::nullopt;
  const json& val = j["val"];
  const char* field = metric.name == "val_loss" ? "loss" : "accuracy";
  if (!metric.head.empty()) {
    if (!val.contains(metric.head) || !val[metric.head].contains(field) || !val[metric.head][field].is_number()) {
      return std::nullopt;
    }
    return val[metric.head][field].get<double>();
  }
  if (metric.name == "val_loss") {
    if (!j.contains("val_loss") || !j["val_loss"].is_number()) return std::nullopt;
    return j["val_loss"].get<double>();
  }
  double sum = 0;
  int heads = 0;
  for (const auto& [head, m] : val.items()) {
    if (!m.contains(field) || !m[field].is_number()) return std::nullopt;
    sum += m[field].get<double>();
    ++heads;
  }
  if (heads == 0) return std::nullopt;
  return sum / heads;
}

}  // namespace

const char* TrialStateName(TrialState state) {
  switch (state) {
    case TrialState::kPending: return "pending";
    case TrialState::kRunning: return "running";
    case TrialState::kCompleted: return "completed";
    case TrialState::kStopped: return "stopped";
    case TrialState::kFailed: return "failed";
  }
  return "?";
}

fs::path TrialDir(const fs::path& sweep_dir, int id) {
  char name[16];
  std::snprintf(name, sizeof name, "%04d", id);
  return sweep_dir / "trials" / name;
}
fs::path TrialRunDir(const fs::path& sweep_dir, int id) { return TrialDir(sweep_dir, id) / "run"; }
fs::path TrialLog(const fs::path& sweep_dir, int id) { return TrialDir(sweep_dir, id) / "train.log"; }

absl::Status SaveTrial(Env& env, const fs::path& sweep_dir, const TrialRecord& trial) {
  const fs::path dir = TrialDir(sweep_dir, trial.id);
  RETURN_IF_ERROR(env.CreateDirs(dir));
  return WriteFileAtomically(env, dir / "trial.json", TrialToJson(trial).dump(2) + "\n");
}

absl::Status SaveSweepState(Env& env, const fs::path& sweep_dir, const SweepState& state) {
  json trials = json::array();
  for (const auto& t : state.trials) trials.push_back(TrialToJson(t));
  RETURN_IF_ERROR(env.CreateDirs(sweep_dir));
  return WriteFileAtomically(env, sweep_dir / kSweepStateName, json{{"trials", trials}}.dump(2) + "\n");
}

absl::StatusOr<SweepState> LoadSweepState(Env& env, const fs::path& sweep_dir,
                                          const std::vector<TrialParams>& samples) {
  SweepState state;
  for (size_t i = 0; i < samples.size(); ++i) {
    const fs::path file = TrialDir(sweep_dir, static_cast<int>(i)) / "trial.json";
    TrialRecord trial;
    trial.id = static_cast<int>(i);
    trial.params = samples[i];
    if (env.FileExists(file)) {
      ASSIGN_OR_RETURN(std::string text, env.ReadFile(file));
      ASSIGN_OR_RETURN(trial, TrialFromJson(text, file));
      if (trial.id != static_cast<int>(i) || trial.params != samples[i]) {
        return absl::FailedPreconditionError(absl::StrCat(
            file.string(), " is trial ", trial.id, " with ", Describe(trial.params), ", but the spec's trial ", i,
            " is ", Describe(samples[i]), ": this sweep folder belongs to another spec (use another --dir)"));
      }
    }
    state.trials.push_back(std::move(trial));
  }
  return state;
}

std::vector<std::pair<int, double>> ReadMetricHistory(const std::string& jsonl, const SweepMetric& metric) {
  std::map<int, double> by_epoch;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n', absl::SkipWhitespace())) {
    const json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("epoch") || !j["epoch"].is_number_integer()) continue;
    if (auto value = MetricOf(j, metric)) by_epoch[j["epoch"].get<int>()] = *value;
  }
  return {by_epoch.begin(), by_epoch.end()};
}

}  // namespace atelier::cli
