// CheckpointCatalog: the trainer runs and checkpoints under a dataset root,
// as the trainer writes them (docs/trainer.md):
//   ROOT/runs/<run>/checkpoints/ckpt-<step>.pt, .../latest, .../best  (pointer
//   files holding one file name), ROOT/runs/<run>/model.pt
// Each checkpoint's epoch and, for the best one, the metric that made it best
// come from the run's metrics.jsonl (one line per finished epoch: its last
// global step, train loss, val accuracy per head): a checkpoint at step S was
// written after the epochs whose last step is <= S; the trainer's "best"
// metric is the mean val accuracy over heads, or minus the train loss when
// the run has no val split. It lists them and resolves "latest", "best", "step-N", "model.pt" or a file
// name to one file. sha256 digests are cached by (path, size, mtime), so a
// file rewritten in place is hashed again. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace atelier::coordinator {

struct CheckpointFile {
  std::string run;
  std::string name;              // file name, e.g. "ckpt-120.pt" or "model.pt"
  std::filesystem::path path;    // absolute
  std::string relative_path;     // relative to the dataset root
  int64_t size_bytes = 0;
  int64_t step = -1;             // -1 for model.pt
  int64_t modified_ms = 0;
  bool is_latest = false;
  bool is_best = false;
  int epoch = 0;                 // epochs finished when it was written
  double best_metric = 0;        // the metric that made it best, if is_best
  std::string sha256;            // filled by Resolve / List(with_sha256)
};

// A run or file name that cannot escape its directory (not empty, ".", ".."
// and without '/' or NUL).
bool IsSafeName(absl::string_view name);

class CheckpointCatalog {
 public:
  explicit CheckpointCatalog(std::filesystem::path dataset_root);

  // Run names (directories under ROOT/runs with a checkpoints/ dir or a model.pt).
  absl::StatusOr<std::vector<std::string>> Runs() const;
  // Files of `run` (every run when empty), oldest step first, model.pt last.
  absl::StatusOr<std::vector<CheckpointFile>> List(absl::string_view run, bool with_sha256);
  // One file of `run`: "latest", "best", "step-N", "model.pt" or a file name.
  // NotFound names the run and what was asked; InvalidArgument for unsafe names.
  absl::StatusOr<CheckpointFile> Resolve(absl::string_view run, absl::string_view which);

 private:
  absl::StatusOr<std::string> Sha256Of(const CheckpointFile& file) ABSL_LOCKS_EXCLUDED(mu_);

  std::filesystem::path root_;
  absl::Mutex mu_;
  struct CachedDigest {
    int64_t size = 0;
    int64_t modified_ms = 0;
    std::string sha256;
  };
  std::map<std::string, CachedDigest> digests_ ABSL_GUARDED_BY(mu_);  // by path
};

}  // namespace atelier::coordinator
