#include "atelier/trainer/image_set.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/imaging/image.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

struct RawSample {
  std::string key;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> extra;
  std::string bytes;
  std::string origin;
};

// Decodes `raw` in parallel and appends the good ones (3 channels) to `set`.
void DecodeInto(std::vector<RawSample>& raw, int threads, ImageSet& set) {
  const size_t image_bytes = size_t(set.image_size) * set.image_size * 3;
  std::vector<std::optional<std::vector<uint8_t>>> decoded(raw.size());
  std::vector<std::string> errors(raw.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < raw.size(); i = next++) {
      auto pixels = DecodeToSquare(raw[i].bytes, set.image_size);
      if (pixels.ok()) {
        decoded[i] = std::move(*pixels);
      } else {
        errors[i] = std::string(pixels.status().message());
      }
      raw[i].bytes.clear();
      raw[i].bytes.shrink_to_fit();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!decoded[i]) {
      set.read_report.Skip(dataset::SkipReason::kUndecodable, absl::StrCat(raw[i].origin, ": ", errors[i]));
      continue;
    }
    set.pixels.insert(set.pixels.end(), decoded[i]->begin(), decoded[i]->begin() + image_bytes);
    set.keys.push_back(std::move(raw[i].key));
    set.labels.push_back(std::move(raw[i].labels));
    set.extra.push_back(std::move(raw[i].extra));
  }
  raw.clear();
}

void FinishChannels(ImageSet& set, int wanted) {
  const size_t pixels = set.pixels.size() / 3;
  if (wanted == 0) {
    bool grey = !set.keys.empty();
    for (size_t p = 0; p < pixels && grey; ++p) {
      grey = set.pixels[3 * p] == set.pixels[3 * p + 1] && set.pixels[3 * p] == set.pixels[3 * p + 2];
    }
    wanted = grey ? 1 : 3;
  }
  set.channels = wanted;
  if (wanted == 3) return;
  std::vector<uint8_t> luma(pixels);
  for (size_t p = 0; p < pixels; ++p) {
    int sum = set.pixels[3 * p] + set.pixels[3 * p + 1] + set.pixels[3 * p + 2];
    luma[p] = static_cast<uint8_t>((sum + 1) / 3);
  }
  set.pixels = std::move(luma);
}

absl::Status CheckOptions(const LoadOptions& options) {
  if (options.image_size < 4 || options.image_size > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("--image-size ", options.image_size, " is not in 4..4096"));
  }
  if (options.channels != 0 && options.channels != 1 && options.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("--channels ", options.channels, " is not 0 (auto), 1 or 3"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> DecodeToSquare(const std::string& bytes, int image_size) {
  ASSIGN_OR_RETURN(imaging::DecodedImage decoded, imaging::DecodeAndResize(bytes, imaging::ResizeMode::kCenterCrop, image_size));
  imaging::Image square = std::move(decoded.image);
  if (square.width != image_size || square.height != image_size) {
    ASSIGN_OR_RETURN(square, imaging::ResizeTo(square, image_size, image_size));
  }
  return std::move(square.rgb);
}

absl::StatusOr<ImageSet> LoadDatasetRoot(const fs::path& data, const LoadOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(auto shards, dataset::FindShards(data), _.prefix("--data"));
  ImageSet set;
  set.image_size = options.image_size;
  dataset::ShardReaderOptions reader_options;
  reader_options.label_fields = options.label_fields;
  for (const fs::path& shard : shards) {
    auto reader = dataset::ShardReader::Open(shard, reader_options);
    if (!reader.ok()) {
      set.read_report.NameShard(absl::StrCat(shard.string(), ": unreadable: ", reader.status().message()));
      continue;
    }
    std::vector<RawSample> raw;
    while (true) {
      auto next = (*reader)->Next();
      if (!next.ok()) {
        set.read_report.NameShard(absl::StrCat(shard.string(), ": read error after ", raw.size(),
                                               " samples: ", next.status().message()));
        break;
      }
      if (!next->has_value()) break;
      dataset::Sample& sample = **next;
      raw.push_back({sample.meta.key, std::move(sample.meta.labels), std::move(sample.meta.extra),
                     std::move(sample.image_bytes),
                     absl::StrCat(shard.filename().string(), ": ", sample.meta.key)});
    }
    set.read_report.Merge((*reader)->report());
    DecodeInto(raw, options.threads, set);
  }
  FinishChannels(set, options.channels);
  return set;
}

absl::StatusOr<int> SampledImageSide(const fs::path& root, int samples) {
  ASSIGN_OR_RETURN(auto shards, dataset::ListShards(root), _.prefix("dataset root"));
  if (shards.empty()) return absl::NotFoundError(absl::StrCat("no shards under ", root.string(), "/shards"));
  ASSIGN_OR_RETURN(auto reader, dataset::ShardReader::Open(shards.front()));
  int side = 0;
  for (int n = 0; n < samples; ++n) {
    auto next = reader->Next();
    if (!next.ok() || !next->has_value()) break;
    side = std::max({side, (*next)->meta.width, (*next)->meta.height});
  }
  return side;
}

absl::StatusOr<ImageSet> LoadFolder(const fs::path& dir, const std::string& head, const LoadOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat(dir.string(), " is not a directory"));
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ImageSet set;
  set.image_size = options.image_size;
  std::vector<RawSample> raw;
  for (const fs::path& file : files) {
    fs::path relative = fs::relative(file, dir);
    if (std::distance(relative.begin(), relative.end()) < 2) continue;  // not inside a class folder
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    RawSample sample;
    sample.key = relative.generic_string();
    sample.labels[head] = relative.begin()->string();
    sample.bytes = std::move(bytes).str();
    sample.origin = file.string();
    raw.push_back(std::move(sample));
  }
  if (raw.empty()) return absl::NotFoundError(absl::StrCat(dir.string(), " has no files in class subfolders"));
  DecodeInto(raw, options.threads, set);
  FinishChannels(set, options.channels);
  return set;
}

}  // namespace atelier::trainer
