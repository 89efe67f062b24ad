#include "atelier/dataset/shard_reader.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/sha256.h"

namespace atelier::dataset {
namespace {

// One tar entry of a sample: `<key>.json` or `<key>.<image extension>`.
struct Part {
  std::string key;
  bool is_json = false;
  ImageFormat format = ImageFormat::kJpeg;
};

std::string EntryWhere(const std::filesystem::path& path, const TarEntry& entry) {
  return absl::StrCat(path.string(), ": entry \"", entry.name, "\" at offset ", entry.offset_of_header);
}

absl::StatusOr<Part> ClassifyEntry(const std::filesystem::path& path, const TarEntry& entry) {
  const size_t dot = entry.name.find('.');
  Part part;
  part.key = entry.name.substr(0, dot);
  if (dot == std::string::npos) {
    return absl::DataLossError(absl::StrCat(EntryWhere(path, entry), ": not a <key>.<ext> sample entry"));
  }
  const absl::Status key_status = ValidateKey(part.key);
  if (!key_status.ok()) {
    return absl::DataLossError(absl::StrCat(EntryWhere(path, entry), ": ", key_status.message()));
  }
  const std::string ext = entry.name.substr(dot + 1);
  if (ext == "json") {
    part.is_json = true;
    return part;
  }
  auto format = ImageFormatFromExtension(ext);
  if (!format.ok()) {
    return absl::DataLossError(absl::StrCat(EntryWhere(path, entry), ": sample ", part.key,
                                            ": expected .json or an image, ", format.status().message()));
  }
  part.format = *format;
  return part;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardReader>> ShardReader::Open(const std::filesystem::path& shard,
                                                               ShardReaderOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<TarReader> tar, TarReader::Open(shard));
  return std::unique_ptr<ShardReader>(new ShardReader(std::move(tar), options));
}

absl::StatusOr<std::optional<Sample>> ShardReader::Next() {
  if (!error_.ok()) return error_;
  auto sample = ReadSample();
  if (!sample.ok()) error_ = sample.status();
  return sample;
}

absl::StatusOr<std::optional<Sample>> ShardReader::ReadSample() {
  ASSIGN_OR_RETURN(std::optional<TarEntry> first, tar_->Next());
  if (!first.has_value()) return std::nullopt;
  ASSIGN_OR_RETURN(Part first_part, ClassifyEntry(path(), *first));
  const std::string& key = first_part.key;
  const std::string where =
      absl::StrCat(path().string(), ": sample ", key, " (starting at offset ", first->offset_of_header, ")");
  ASSIGN_OR_RETURN(std::optional<TarEntry> second, tar_->Next(),
                   _.prefix(absl::StrCat("sample ", key, " (starting at offset ",
                                         first->offset_of_header, ")")));
  const std::string missing = first_part.is_json ? "image" : ".json";
  if (!second.has_value()) {
    return absl::DataLossError(absl::StrCat(where, ": has ", first->name, " but no ", missing,
                                            " entry: the archive ends"));
  }
  ASSIGN_OR_RETURN(Part second_part, ClassifyEntry(path(), *second));
  if (second_part.key != key || second_part.is_json == first_part.is_json) {
    return absl::DataLossError(absl::StrCat(where, ": has ", first->name, " but no ", missing,
                                            " entry next to it (the next entry is ", second->name,
                                            " at offset ", second->offset_of_header, ")"));
  }
  TarEntry& json = first_part.is_json ? *first : *second;
  TarEntry& image = first_part.is_json ? *second : *first;
  const ImageFormat format = first_part.is_json ? second_part.format : first_part.format;

  auto meta = SampleMetaFromJson(json.data, EntryWhere(path(), json));
  if (!meta.ok()) return absl::DataLossError(meta.status().message());
  if (meta->key != key) {
    return absl::DataLossError(absl::StrCat(where, ": ", json.name, " says key \"", meta->key, "\""));
  }
  if (!meta->image_format.empty()) {
    auto declared = ImageFormatFromExtension(meta->image_format);
    if (!declared.ok() || *declared != format) {
      return absl::DataLossError(absl::StrCat(where, ": ", json.name, " says image_format \"",
                                              meta->image_format, "\" but the image is ", image.name));
    }
  }
  meta->image_format = std::string(ImageExtension(format));
  if (options_.verify_sha256) {
    const std::string hash = Sha256Hex(image.data);
    if (absl::AsciiStrToLower(meta->sha256) != hash) {
      return absl::DataLossError(absl::StrCat(where, ": sha256 mismatch: ", json.name, " says \"",
                                              meta->sha256, "\", ", image.name, " (offset ",
                                              image.offset_of_header, ") hashes to ", hash));
    }
  }
  sample_offset_ = first->offset_of_header;
  return Sample{std::move(*meta), format, std::move(image.data)};
}

absl::StatusOr<ShardListing> ListShard(const std::filesystem::path& shard) {
  ASSIGN_OR_RETURN(std::unique_ptr<ShardReader> reader, ShardReader::Open(shard));
  ShardListing listing;
  while (true) {
    auto sample = reader->Next();
    if (!sample.ok()) {
      listing.error = sample.status();
      break;
    }
    if (!sample->has_value()) break;
    Sample& s = **sample;
    listing.samples.push_back(ShardEntrySummary{std::move(s.meta.key), std::move(s.meta.image_format),
                                                s.image_bytes.size(), reader->sample_offset()});
  }
  return listing;
}

absl::StatusOr<SampleMeta> ReadSampleMeta(const std::filesystem::path& shard, std::string_view key) {
  ASSIGN_OR_RETURN(std::unique_ptr<ShardReader> reader,
                   ShardReader::Open(shard, ShardReaderOptions{.verify_sha256 = false}));
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Sample> sample, reader->Next(),
                     _.prefix(absl::StrCat("looking for sample ", std::string(key))));
    if (!sample.has_value()) {
      return absl::NotFoundError(
          absl::StrCat(shard.string(), ": no sample with key \"", std::string(key), "\""));
    }
    if (sample->meta.key == key) return std::move(sample->meta);
  }
}

}  // namespace atelier::dataset
