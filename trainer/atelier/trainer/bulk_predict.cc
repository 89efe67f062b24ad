#include "atelier/trainer/bulk_predict.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/dataset/shard_stats.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/torch_file.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

// Files larger than this are error rows rather than read into memory.
constexpr uintmax_t kMaxImageFileBytes = uintmax_t{256} << 20;

class ShardSource : public InputSource {
 public:
  ShardSource(std::vector<fs::path> shards, std::optional<int64_t> total)
      : shards_(std::move(shards)), total_(total) {}

  absl::StatusOr<std::optional<BulkInput>> Next() override {
    while (true) {
      if (!reader_) {
        if (next_shard_ == shards_.size()) return std::nullopt;
        const fs::path& shard = shards_[next_shard_++];
        auto reader = dataset::ShardReader::Open(shard);
        if (!reader.ok()) return ShardError(shard, absl::StrCat("cannot open shard: ", reader.status().message()));
        reader_ = std::move(*reader);
        current_ = shard;
        samples_in_shard_ = 0;
      }
      auto next = reader_->Next();
      if (!next.ok()) {
        report_.Merge(reader_->report());
        reader_.reset();
        return ShardError(current_, absl::StrCat("read error after ", samples_in_shard_,
                                                 " samples: ", next.status().message()));
      }
      if (!next->has_value()) {
        report_.Merge(reader_->report());
        reader_.reset();
        continue;
      }
      ++samples_in_shard_;
      dataset::Sample& sample = **next;
      BulkInput input;
      input.row.key = sample.meta.key;
      input.row.url = sample.meta.url;
      input.row.shard = current_.filename().string();
      nlohmann::json meta = nlohmann::json::parse(reader_->sample_json(), nullptr, /*allow_exceptions=*/false);
      if (!meta.is_object()) meta = nlohmann::json::parse(dataset::SampleMetaToJson(sample.meta), nullptr, false);
      if (!meta.is_object()) meta = nlohmann::json::object();
      // The labels as the reader took them (a .cls member included).
      meta["labels"] = sample.meta.labels;
      input.row.meta = std::move(meta);
      input.extension = std::string(dataset::ImageExtension(sample.format));
      input.bytes = std::move(sample.image_bytes);
      return input;
    }
  }
  std::optional<int64_t> total() const override { return total_; }
  dataset::ReadReport report() const override { return report_; }

 private:
  static BulkInput ShardError(const fs::path& shard, std::string why) {
    BulkInput input;
    input.row.key = shard.filename().string();
    input.row.shard = shard.filename().string();
    input.row.path = shard.string();
    input.row.error = std::move(why);
    return input;
  }

  std::vector<fs::path> shards_;
  std::optional<int64_t> total_;
  size_t next_shard_ = 0;
  std::unique_ptr<dataset::ShardReader> reader_;
  fs::path current_;
  int64_t samples_in_shard_ = 0;
  dataset::ReadReport report_;
};

// Image files, read one at a time.
class FileSource : public InputSource {
 public:
  FileSource(std::vector<fs::path> files, std::vector<std::string> keys)
      : files_(std::move(files)), keys_(std::move(keys)) {}

  absl::StatusOr<std::optional<BulkInput>> Next() override {
    if (next_ == files_.size()) return std::nullopt;
    const size_t i = next_++;
    BulkInput input;
    input.file = files_[i];
    input.row.key = keys_[i];
    input.row.path = files_[i].string();
    std::string ext = files_[i].extension().string();
    input.extension = ext.empty() ? "" : ext.substr(1);
    std::error_code ec;
    const uintmax_t size = fs::file_size(files_[i], ec);
    if (ec) {
      input.row.error = absl::StrCat("cannot read: ", ec.message());
      return input;
    }
    if (size > kMaxImageFileBytes) {
      input.row.error = absl::StrCat("not read: ", size, " bytes is more than ", kMaxImageFileBytes >> 20, " MiB");
      return input;
    }
    std::ifstream in(files_[i], std::ios::binary);
    std::ostringstream bytes;
    if (in) bytes << in.rdbuf();
    if (!in || in.bad()) {
      input.row.error = absl::StrCat("cannot read: ", std::strerror(errno));
      return input;
    }
    input.bytes = std::move(bytes).str();
    return input;
  }
  std::optional<int64_t> total() const override { return static_cast<int64_t>(files_.size()); }

 private:
  std::vector<fs::path> files_;
  std::vector<std::string> keys_;
  size_t next_ = 0;
};

// The sample count of the shards' stats.json files, when every shard has one.
std::optional<int64_t> CountFromStats(const std::vector<fs::path>& shards) {
  int64_t total = 0;
  for (const fs::path& shard : shards) {
    fs::path stats = shard;
    stats.replace_extension(".stats.json");
    auto read = dataset::ReadShardStats(stats);
    if (!read.ok() || read->samples <= 0) return std::nullopt;
    total += read->samples;
  }
  return total;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InputSource>> OpenShardSource(const fs::path& data) {
  ASSIGN_OR_RETURN(std::vector<fs::path> shards, dataset::FindShards(data), _.prefix("--data"));
  std::optional<int64_t> total = CountFromStats(shards);
  return std::unique_ptr<InputSource>(std::make_unique<ShardSource>(std::move(shards), total));
}

absl::StatusOr<std::unique_ptr<InputSource>> OpenFolderSource(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat("--folder ", dir.string(), " is not a directory"));
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec)) files.push_back(it->path());
  }
  if (ec) return absl::PermissionDeniedError(absl::StrCat("--folder ", dir.string(), ": ", ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<std::string> keys;
  for (const fs::path& file : files) keys.push_back(fs::relative(file, dir).generic_string());
  return std::unique_ptr<InputSource>(std::make_unique<FileSource>(std::move(files), std::move(keys)));
}

std::unique_ptr<InputSource> OpenFileListSource(std::vector<fs::path> files) {
  std::vector<std::string> keys;
  for (const fs::path& file : files) keys.push_back(file.string());
  return std::make_unique<FileSource>(std::move(files), std::move(keys));
}

absl::StatusOr<std::unique_ptr<InputSource>> OpenInputSource(const fs::path& data, const fs::path& folder,
                                                             std::vector<fs::path> files) {
  if (!data.empty()) return OpenShardSource(data);
  if (!folder.empty()) return OpenFolderSource(folder);
  return OpenFileListSource(std::move(files));
}

namespace {

struct Decoded {
  BulkInput input;
  std::vector<uint8_t> pixels;  // empty for error rows
};

// What PredictAll's reader, decoders and emitting thread share: inputs read
// and not yet decoded, decoded ones waiting for their turn, and the counts
// that bound how far the reader runs ahead.
struct Pipeline {
  absl::Mutex mu;
  std::deque<std::pair<int64_t, BulkInput>> todo ABSL_GUARDED_BY(mu);
  std::map<int64_t, Decoded> decoded ABSL_GUARDED_BY(mu);
  int64_t read ABSL_GUARDED_BY(mu) = 0;
  int64_t emitted ABSL_GUARDED_BY(mu) = 0;
  bool reading_done ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  absl::Status read_error ABSL_GUARDED_BY(mu);
};

}  // namespace

absl::StatusOr<int64_t> PredictAll(Classifier& model, InputSource& source, const BulkPredictOptions& options,
                                   const RowSink& sink) {
  const ModelConfig& config = model->config;
  const int threads = options.decode_threads > 0
                          ? options.decode_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int batch_size = std::max(1, options.batch_size);
  const int64_t max_in_flight = 2 * int64_t{batch_size} + 2 * int64_t{threads};
  const size_t image_bytes = size_t(config.image_size) * config.image_size * config.in_channels;

  Pipeline p;
  std::thread reader([&] {
    while (true) {
      {
        absl::MutexLock lock(&p.mu);
        auto room = [&p, max_in_flight]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
          return p.stop || p.read - p.emitted < max_in_flight;
        };
        p.mu.Await(absl::Condition(&room));
        if (p.stop) break;
      }
      auto next = source.Next();
      absl::MutexLock lock(&p.mu);
      if (!next.ok() || !next->has_value()) {
        if (!next.ok()) p.read_error = next.status();
        break;
      }
      p.todo.emplace_back(p.read++, std::move(**next));
    }
    absl::MutexLock lock(&p.mu);
    p.reading_done = true;
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (true) {
        std::pair<int64_t, BulkInput> item;
        {
          absl::MutexLock lock(&p.mu);
          auto work = [&p]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
            return p.stop || !p.todo.empty() || p.reading_done;
          };
          p.mu.Await(absl::Condition(&work));
          if (p.stop || p.todo.empty()) return;
          item = std::move(p.todo.front());
          p.todo.pop_front();
        }
        Decoded d{std::move(item.second), {}};
        if (d.input.row.error.empty()) {
          auto pixels = PrepareImage(d.input.bytes, config);
          if (pixels.ok()) {
            d.pixels = std::move(*pixels);
          } else {
            d.input.row.error = std::string(pixels.status().message());
          }
        }
        if (!options.keep_bytes) std::string().swap(d.input.bytes);
        absl::MutexLock lock(&p.mu);
        p.decoded.emplace(item.first, std::move(d));
      }
    });
  }
  auto finish = [&] {
    {
      absl::MutexLock lock(&p.mu);
      p.stop = true;
    }
    reader.join();
    for (auto& w : workers) w.join();
  };

  absl::Status status;
  std::vector<Decoded> batch;
  auto flush = [&]() -> absl::Status {
    std::vector<size_t> good;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].input.row.error.empty()) good.push_back(i);
    }
    if (!good.empty()) {
      try {
        torch::Tensor prepared = torch::empty(
            {static_cast<int64_t>(good.size()), config.image_size, config.image_size, config.in_channels},
            torch::kUInt8);
        for (size_t g = 0; g < good.size(); ++g) {
          std::memcpy(prepared.data_ptr<uint8_t>() + g * image_bytes, batch[good[g]].pixels.data(), image_bytes);
        }
        torch::Tensor features;
        std::vector<std::vector<HeadPrediction>> predictions =
            HeadPredictions(ClassifyPrepared(model, prepared, nullptr, options.features ? &features : nullptr));
        for (size_t g = 0; g < good.size(); ++g) batch[good[g]].input.row.heads = std::move(predictions[g]);
        if (options.features) {
          const int64_t dim = features.size(1);
          const float* f = features.data_ptr<float>();
          for (size_t g = 0; g < good.size(); ++g) {
            batch[good[g]].input.row.features.assign(f + g * dim, f + (g + 1) * dim);
          }
        }
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("prediction failed: ", TorchErrorMessage(e)));
      }
    }
    int64_t emitted = 0;
    for (Decoded& d : batch) {
      RETURN_IF_ERROR(sink(d.input));
      absl::MutexLock lock(&p.mu);
      emitted = ++p.emitted;
    }
    batch.clear();
    if (options.on_progress) options.on_progress(emitted);
    return absl::OkStatus();
  };
  int64_t next = 0;
  while (status.ok()) {
    std::optional<Decoded> item;
    {
      absl::MutexLock lock(&p.mu);
      auto turn = [&p, &next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p.mu) {
        return p.decoded.count(next) > 0 || (p.reading_done && next == p.read);
      };
      p.mu.Await(absl::Condition(&turn));
      auto it = p.decoded.find(next);
      if (it != p.decoded.end()) {
        item = std::move(it->second);
        p.decoded.erase(it);
      }
    }
    if (!item) break;  // everything read has been handed over
    ++next;
    batch.push_back(std::move(*item));
    if (static_cast<int>(batch.size()) >= batch_size) status = flush();
  }
  if (status.ok() && !batch.empty()) status = flush();
  finish();
  if (!status.ok()) return status;
  absl::MutexLock lock(&p.mu);  // the threads are joined; the lock is for the annotations
  if (!p.read_error.ok()) return p.read_error;
  return p.emitted;
}

}  // namespace atelier::trainer
