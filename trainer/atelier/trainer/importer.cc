#include "atelier/trainer/importer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/imaging/image.h"
#include "atelier/trainer/idx_file.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

// Writes samples into consecutive new shards.
class ShardSink {
 public:
  static absl::StatusOr<ShardSink> Create(const ImportOptions& options) {
    if (options.data_root.empty()) return absl::InvalidArgumentError("--data is required");
    if (options.head.empty()) return absl::InvalidArgumentError("--head must not be empty");
    if (options.samples_per_shard <= 0) return absl::InvalidArgumentError("samples per shard must be > 0");
    std::error_code ec;
    fs::create_directories(dataset::ShardsDir(options.data_root), ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", options.data_root.string(), ": ", ec.message()));
    ASSIGN_OR_RETURN(auto shards, dataset::ListShards(options.data_root));
    uint64_t next = 0;
    for (const auto& path : shards) {
      auto index = dataset::ShardIndexFromFileName(path.filename().string());
      if (index) next = std::max(next, *index + 1);
    }
    return ShardSink(options, next);
  }

  absl::Status Add(const dataset::Sample& sample) {
    if (!writer_) {
      ASSIGN_OR_RETURN(writer_, dataset::ShardWriter::Open(options_.data_root, next_index_));
    }
    RETURN_IF_ERROR(writer_->Add(sample));
    ++result_.imported;
    if (writer_->samples() >= options_.samples_per_shard) return Flush();
    return absl::OkStatus();
  }

  absl::Status Flush() {
    if (!writer_) return absl::OkStatus();
    dataset::ShardStats stats;
    stats.items_total = stats.ok = stats.samples = writer_->samples();
    stats.worker_id = "import";
    auto committed = writer_->Commit(stats);
    writer_.reset();
    if (!committed.ok()) return committed.status();
    ++next_index_;
    ++result_.shards;
    return absl::OkStatus();
  }

  ImportResult& result() { return result_; }

 private:
  ShardSink(const ImportOptions& options, uint64_t next) : options_(options), next_index_(next) {}
  ImportOptions options_;
  uint64_t next_index_;
  std::unique_ptr<dataset::ShardWriter> writer_;
  ImportResult result_;
};

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path.string()));
  return std::move(out).str();
}

}  // namespace

absl::StatusOr<ImportResult> ImportFolder(const fs::path& dir, const ImportOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("import folder ", dir.string(), " is not a directory"));
  }
  ASSIGN_OR_RETURN(ShardSink sink, ShardSink::Create(options));
  // Sorted traversal: the same tree always gives the same shards.
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) class_dirs.push_back(entry.path());
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dir.string(), " has no class subfolders"));
  }
  std::set<std::string> classes;
  for (const fs::path& class_dir : class_dirs) {
    std::string class_name = class_dir.filename().string();
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(class_dir, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      auto bytes = ReadWholeFile(file);
      if (!bytes.ok()) {
        ++sink.result().skipped;
        continue;
      }
      auto format = dataset::SniffImageFormat(*bytes);
      if (!format.ok()) {
        ++sink.result().skipped;
        continue;
      }
      std::string relative = fs::relative(file, dir).generic_string();
      dataset::Sample sample;
      sample.format = *format;
      sample.meta.key = "img-" + dataset::Sha256Hex(relative).substr(0, 16);
      sample.meta.source = "import";
      sample.meta.labels[options.head] = class_name;
      sample.meta.extra["path"] = relative;
      if (auto info = imaging::ProbeImage(*bytes); info.ok()) {
        sample.meta.width = sample.meta.original_width = info->width;
        sample.meta.height = sample.meta.original_height = info->height;
      }
      sample.image_bytes = std::move(*bytes);
      RETURN_IF_ERROR(Annotate(sink.Add(sample), absl::StrCat("importing ", file.string())));
      classes.insert(class_name);
    }
  }
  RETURN_IF_ERROR(sink.Flush());
  ImportResult result = sink.result();
  result.classes.assign(classes.begin(), classes.end());
  return result;
}

absl::StatusOr<ImportResult> ImportIdx(const fs::path& images_path, const fs::path& labels_path,
                                       const std::vector<std::string>& class_names, const std::string& key_prefix,
                                       const ImportOptions& options) {
  if (key_prefix.empty()) return absl::InvalidArgumentError("key prefix must not be empty");
  ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path));
  ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(labels_path));
  if (images.dims.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(images_path.string(), ": expected N x H x W images, got ",
                                                   images.dims.size(), " dimensions"));
  }
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) {
    return absl::InvalidArgumentError(absl::StrCat(labels_path.string(), ": expected ", images.dims[0],
                                                   " labels to match ", images_path.string()));
  }
  ASSIGN_OR_RETURN(ShardSink sink, ShardSink::Create(options));
  const int height = static_cast<int>(images.dims[1]);
  const int width = static_cast<int>(images.dims[2]);
  const size_t pixels = static_cast<size_t>(height) * width;
  std::set<std::string> classes;
  const uint32_t count = options.limit > 0 ? static_cast<uint32_t>(std::min<int64_t>(options.limit, images.dims[0]))
                                           : images.dims[0];
  for (uint32_t i = 0; i < count; ++i) {
    int label = labels.data[i];
    std::string class_name;
    if (!class_names.empty()) {
      if (label >= static_cast<int>(class_names.size())) {
        return absl::InvalidArgumentError(absl::StrCat(labels_path.string(), ": label ", label, " at index ", i,
                                                       " has no name (", class_names.size(), " class names given)"));
      }
      class_name = class_names[label];
    } else {
      class_name = absl::StrCat(label);
    }
    imaging::Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(pixels * 3);
    const uint8_t* src = images.data.data() + i * pixels;
    for (size_t p = 0; p < pixels; ++p) {
      image.rgb[3 * p] = image.rgb[3 * p + 1] = image.rgb[3 * p + 2] = src[p];
    }
    ASSIGN_OR_RETURN(std::string png, imaging::EncodePng(image));
    dataset::Sample sample;
    sample.format = dataset::ImageFormat::kPng;
    sample.meta.key = absl::StrFormat("%s-%06d", key_prefix, i);
    sample.meta.source = "import";
    sample.meta.labels[options.head] = class_name;
    sample.meta.width = sample.meta.original_width = width;
    sample.meta.height = sample.meta.original_height = height;
    sample.image_bytes = std::move(png);
    RETURN_IF_ERROR(sink.Add(sample));
    classes.insert(class_name);
  }
  RETURN_IF_ERROR(sink.Flush());
  ImportResult result = sink.result();
  result.classes.assign(classes.begin(), classes.end());
  return result;
}

}  // namespace atelier::trainer
