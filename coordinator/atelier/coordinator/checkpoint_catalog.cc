#include "atelier/coordinator/checkpoint_catalog.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "nlohmann/json.hpp"

namespace atelier::coordinator {
namespace fs = std::filesystem;

bool IsSafeName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." && !absl::StrContains(name, '/') &&
         !absl::StrContains(name, '\0');
}

namespace {

constexpr absl::string_view kCheckpointPrefix = "ckpt-";
constexpr absl::string_view kCheckpointSuffix = ".pt";
constexpr char kModelFile[] = "model.pt";

struct EpochEnd {
  int64_t step = 0;
  double metric = 0;  // the trainer's "best" metric of that epoch
};

// The finished epochs of a run, from RUN/metrics.jsonl (empty when missing);
// a resumed run may repeat an epoch: the last line for it wins.
std::vector<EpochEnd> ReadEpochEnds(const fs::path& metrics_jsonl) {
  std::map<int, EpochEnd> by_epoch;
  std::ifstream in(metrics_jsonl);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("epoch") || !j.contains("step")) continue;
    EpochEnd end;
    end.step = j.value("step", int64_t{0});
    end.metric = -j.value("train_loss", 0.0);
    if (j.contains("val") && j["val"].is_object() && !j["val"].empty()) {
      double sum = 0;
      for (const auto& [head, m] : j["val"].items()) sum += m.value("accuracy", 0.0);
      end.metric = sum / static_cast<double>(j["val"].size());
    }
    by_epoch[j.value("epoch", 0)] = end;
  }
  std::vector<EpochEnd> ends;
  for (const auto& [epoch, end] : by_epoch) ends.push_back(end);
  return ends;
}

int64_t StepOf(absl::string_view file_name) {
  if (!absl::ConsumePrefix(&file_name, kCheckpointPrefix) || !absl::ConsumeSuffix(&file_name, kCheckpointSuffix)) {
    return -1;
  }
  int64_t step = -1;
  return absl::SimpleAtoi(file_name, &step) ? step : -1;
}

std::string ReadPointer(const fs::path& path) {
  std::ifstream in(path);
  std::string name;
  std::getline(in, name);
  return std::string(absl::StripAsciiWhitespace(name));
}

int64_t ModifiedMs(const fs::path& path) {
  std::error_code ec;
  auto t = fs::last_write_time(path, ec);
  if (ec) return 0;
  auto system = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(system.time_since_epoch()).count();
}

}  // namespace

CheckpointCatalog::CheckpointCatalog(fs::path dataset_root) : root_(std::move(dataset_root)) {}

absl::StatusOr<std::vector<std::string>> CheckpointCatalog::Runs() const {
  std::vector<std::string> runs;
  const fs::path dir = root_ / "runs";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return runs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    if (fs::is_directory(entry.path() / "checkpoints") || fs::exists(entry.path() / kModelFile)) {
      runs.push_back(entry.path().filename().string());
    }
  }
  if (ec) return absl::InternalError(absl::StrCat(dir.string(), ": ", ec.message()));
  std::sort(runs.begin(), runs.end());
  return runs;
}

absl::StatusOr<std::vector<CheckpointFile>> CheckpointCatalog::List(absl::string_view run, bool with_sha256) {
  std::vector<std::string> runs;
  if (run.empty()) {
    ASSIGN_OR_RETURN(runs, Runs());
  } else {
    if (!IsSafeName(run)) return absl::InvalidArgumentError(absl::StrCat("invalid run name '", run, "'"));
    if (!fs::is_directory(root_ / "runs" / std::string(run))) {
      return absl::NotFoundError(absl::StrCat("no run '", run, "' under ", (root_ / "runs").string()));
    }
    runs.push_back(std::string(run));
  }
  std::vector<CheckpointFile> files;
  for (const auto& name : runs) {
    const fs::path run_dir = root_ / "runs" / name;
    const fs::path ckpt_dir = run_dir / "checkpoints";
    const std::string latest = ReadPointer(ckpt_dir / "latest");
    const std::string best = ReadPointer(ckpt_dir / "best");
    std::vector<CheckpointFile> run_files;
    std::error_code ec;
    if (fs::is_directory(ckpt_dir)) {
      for (const auto& entry : fs::directory_iterator(ckpt_dir, ec)) {
        const std::string file_name = entry.path().filename().string();
        const int64_t step = StepOf(file_name);
        if (step < 0 || !entry.is_regular_file()) continue;  // temporaries, pointers
        CheckpointFile f;
        f.run = name;
        f.name = file_name;
        f.path = entry.path();
        f.step = step;
        f.is_latest = file_name == latest;
        f.is_best = file_name == best;
        run_files.push_back(std::move(f));
      }
    }
    std::sort(run_files.begin(), run_files.end(),
              [](const CheckpointFile& a, const CheckpointFile& b) { return a.step < b.step; });
    if (fs::is_regular_file(run_dir / kModelFile)) {
      CheckpointFile f;
      f.run = name;
      f.name = kModelFile;
      f.path = run_dir / kModelFile;
      run_files.push_back(std::move(f));
    }
    const std::vector<EpochEnd> epochs = ReadEpochEnds(run_dir / "metrics.jsonl");
    for (auto& f : run_files) {
      for (const auto& end : epochs) {
        if (f.step >= 0 && end.step > f.step) continue;
        ++f.epoch;  // model.pt (step -1) comes after every epoch
        if (f.is_best && end.step == f.step) f.best_metric = end.metric;
      }
      f.size_bytes = static_cast<int64_t>(fs::file_size(f.path, ec));
      if (ec) continue;  // pruned by the trainer while listing
      f.modified_ms = ModifiedMs(f.path);
      f.relative_path = fs::relative(f.path, root_).string();
      if (with_sha256) {
        ASSIGN_OR_RETURN(f.sha256, Sha256Of(f));
      }
      files.push_back(std::move(f));
    }
  }
  return files;
}

absl::StatusOr<CheckpointFile> CheckpointCatalog::Resolve(absl::string_view run, absl::string_view which) {
  if (!IsSafeName(run)) return absl::InvalidArgumentError(absl::StrCat("invalid run name '", run, "'"));
  if (!IsSafeName(which)) return absl::InvalidArgumentError(absl::StrCat("invalid checkpoint name '", which, "'"));
  ASSIGN_OR_RETURN(auto files, List(run, /*with_sha256=*/false));
  int64_t wanted_step = -1;
  absl::string_view step_text = which;
  const bool by_step = absl::ConsumePrefix(&step_text, "step-") && absl::SimpleAtoi(step_text, &wanted_step);
  for (auto& f : files) {
    const bool match = (which == "latest" && f.is_latest) || (which == "best" && f.is_best) ||
                       (by_step && f.step == wanted_step) || f.name == which;
    if (!match) continue;
    ASSIGN_OR_RETURN(f.sha256, Sha256Of(f));
    return f;
  }
  return absl::NotFoundError(absl::StrCat("run '", run, "' has no checkpoint '", which,
                                          "' (ask for latest, best, step-N, model.pt or a listed name)"));
}

absl::StatusOr<std::string> CheckpointCatalog::Sha256Of(const CheckpointFile& file) {
  const std::string key = file.path.string();
  {
    absl::MutexLock lock(&mu_);
    auto it = digests_.find(key);
    if (it != digests_.end() && it->second.size == file.size_bytes && it->second.modified_ms == file.modified_ms) {
      return it->second.sha256;
    }
  }
  ASSIGN_OR_RETURN(std::string digest, dataset::Sha256OfFile(file.path));
  absl::MutexLock lock(&mu_);
  digests_[key] = CachedDigest{file.size_bytes, file.modified_ms, digest};
  return digest;
}

}  // namespace atelier::coordinator
