// Streaming prediction over a whole set: shards (`--data`), a folder tree
// (`--folder`) or a list of image files, one PredictionRow per input, in input
// order.
//
// Pipeline: one reader thread pulls inputs from an InputSource (file reads
// and shard reading happen there), `decode_threads` threads prepare them
// (PrepareImage: the same preprocessing as `predict IMAGE...`), and the calling
// thread batches them through the model (ClassifyPrepared) and hands the rows,
// in input order, to the sink. At most about 2 x batch_size + 2 x
// decode_threads inputs are in flight (read and not yet handed over), so memory
// is bounded whatever the size of the set.
//
// An input that cannot be read or decoded becomes a row with `error` set and
// no heads; it never ends the run. For shards, a shard that cannot be opened
// or read on is one error row (key: the shard's file name); samples the shard
// reader skips (damaged tar, sha256 mismatch, invalid JSON... see
// shard_reader.h) are counted in report(), not given rows. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/dataset/read_report.h"
#include "atelier/trainer/model.h"
#include "atelier/trainer/prediction_rows.h"

namespace atelier::trainer {

// One input: its row (key, url/path, meta; error when unreadable) and bytes.
struct BulkInput {
  PredictionRow row;
  std::filesystem::path file;  // image files: the file
  std::string bytes;           // the encoded image (kept for the sink only with keep_bytes)
  std::string extension;       // shard samples: "jpg" | "png" | "webp"
};

class InputSource {
 public:
  virtual ~InputSource() = default;
  // The next input, nullopt at the end. A failure here ends the run.
  virtual absl::StatusOr<std::optional<BulkInput>> Next() = 0;
  // How many inputs there are, when known up front.
  virtual std::optional<int64_t> total() const { return std::nullopt; }
  // Samples skipped by the shard reader (empty for files).
  virtual dataset::ReadReport report() const { return {}; }
};

// The shards `data` names (dataset::FindShards: a dataset root, a folder of
// *.tar files, one .tar); NotFound naming `data` when it names none. total()
// is known when every shard has a stats.json with its sample count.
absl::StatusOr<std::unique_ptr<InputSource>> OpenShardSource(const std::filesystem::path& data);
// Every regular file under `dir` (recursive, any name or extension; sorted by
// path). Keys are the paths relative to `dir`. NotFound when `dir` is not a
// directory.
absl::StatusOr<std::unique_ptr<InputSource>> OpenFolderSource(const std::filesystem::path& dir);
// These image files, in this order; keys are the paths as given.
std::unique_ptr<InputSource> OpenFileListSource(std::vector<std::filesystem::path> files);
// The source a command line names: shards when `data` is set, else the folder
// tree when `folder` is set, else the image files.
absl::StatusOr<std::unique_ptr<InputSource>> OpenInputSource(const std::filesystem::path& data,
                                                             const std::filesystem::path& folder,
                                                             std::vector<std::filesystem::path> files);

struct BulkPredictOptions {
  int decode_threads = 0;  // 0: the number of cores
  int batch_size = 64;
  bool keep_bytes = false;  // keep BulkInput::bytes for the sink (sorting shard samples)
  bool features = false;    // fill PredictionRow::features (atelier embed)
  // Called after each batch with the rows handed over so far.
  std::function<void(int64_t done)> on_progress;
};

// Called once per input, in input order; a failure stops the run.
using RowSink = std::function<absl::Status(const BulkInput& input)>;

// Runs `model` over every input of `source`. Returns the rows handed over.
absl::StatusOr<int64_t> PredictAll(Classifier& model, InputSource& source, const BulkPredictOptions& options,
                                   const RowSink& sink);

}  // namespace atelier::trainer
