#include "atelier/dataset/shard_reader.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/internal/json_fields.h"
#include "atelier/dataset/internal/label_values.h"
#include "atelier/dataset/internal/sample_json.h"
#include "atelier/dataset/sha256.h"

namespace atelier::dataset {
namespace {

constexpr std::string_view kImageKind = "<image>";

// WebDataset's metadata entries: a first path component "__...__".
bool IsMetadataName(std::string_view name) {
  const std::string_view first = name.substr(0, name.find('/'));
  return first.size() >= 4 && first.starts_with("__") && first.ends_with("__");
}

bool IsImageExtension(std::string_view ext) { return ImageFormatFromExtension(ext).ok(); }

}  // namespace

absl::StatusOr<std::unique_ptr<ShardReader>> ShardReader::Open(const std::filesystem::path& shard,
                                                               ShardReaderOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<TarReader> tar, TarReader::Open(shard));
  return std::unique_ptr<ShardReader>(new ShardReader(std::move(tar), std::move(options)));
}

absl::StatusOr<std::optional<Sample>> ShardReader::Next() {
  if (!error_.ok()) return error_;
  while (true) {
    auto group = ReadGroup();
    if (!group.ok()) {
      error_ = group.status();
      return error_;
    }
    if (!group->has_value()) {
      Finish();
      return std::nullopt;
    }
    std::optional<Sample> sample = Assemble(**group);
    if (unattributed_loss_ && (*group)->starts_after_damage) {
      // Neither sample next to the damage lacks a member: the lost entry was a sample of its own.
      unattributed_loss_ = false;
      report_.Skip(damage_->reason, absl::StrCat(damage_->message, " (the lost sample's key is unknown)"));
    }
    if (sample.has_value()) {
      ++samples_;
      return sample;
    }
  }
}

void ShardReader::NoteDamage(const TarDamage& damage, Group& group) {
  damage_ = Damage{damage.truncated ? SkipReason::kTruncated : SkipReason::kTarDamage, damage.message};
  if (damage.entry_lost) unattributed_loss_ = true;
  if (!group.members.empty()) group.suspect = true;
  next_suspect_ = true;
}

absl::StatusOr<std::optional<ShardReader::Group>> ShardReader::ReadGroup() {
  Group group;
  if (pending_.has_value()) {
    group.members.push_back(std::move(*pending_));
    group.suspect = group.starts_after_damage = pending_suspect_;
    pending_.reset();
    pending_suspect_ = false;
  }
  while (!tar_ended_) {
    ASSIGN_OR_RETURN(std::optional<TarItem> item, tar_->Next());
    if (!item.has_value()) {
      tar_ended_ = true;
      break;
    }
    if (const auto* damage = std::get_if<TarDamage>(&*item)) {
      NoteDamage(*damage, group);
      if (damage->truncated) tar_ended_ = true;
      continue;
    }
    TarEntry& entry = std::get<TarEntry>(*item);
    // WebDataset's key rule (base_plus_ext): up to the first dot of the last path component.
    const size_t base = entry.name.rfind('/') == std::string::npos ? 0 : entry.name.rfind('/') + 1;
    const size_t dot = entry.name.find('.', base);
    if (dot == std::string::npos || dot == base || IsMetadataName(entry.name)) continue;
    Member member{entry.name.substr(0, dot), absl::AsciiStrToLower(entry.name.substr(dot + 1)), std::move(entry)};
    if (group.members.empty()) {
      group.suspect = group.starts_after_damage = next_suspect_;
      next_suspect_ = false;
      group.members.push_back(std::move(member));
      continue;
    }
    if (member.key == group.members.front().key) {
      next_suspect_ = false;  // a damage inside this sample: already marked
      group.members.push_back(std::move(member));
      continue;
    }
    pending_ = std::move(member);
    pending_suspect_ = next_suspect_;
    next_suspect_ = false;
    break;
  }
  if (group.members.empty()) return std::nullopt;
  return group;
}

void ShardReader::SkipSample(SkipReason reason, const Group& group, absl::string_view why) {
  const Member& first = group.members.front();
  report_.Skip(reason, absl::StrCat(path().string(), ": sample ", first.key, " at offset ",
                                    first.entry.offset_of_header, ": ", why));
}

std::optional<Sample> ShardReader::Assemble(Group& group) {
  const std::string& key = group.members.front().key;
  std::map<std::string, std::string_view> members;
  std::set<std::string> kinds;
  Member* image = nullptr;
  Member* json = nullptr;
  std::vector<std::string> image_names;
  for (Member& member : group.members) {
    if (!members.emplace(member.ext, member.entry.data).second) {
      SkipSample(SkipReason::kDuplicateMember, group,
                 absl::StrCat("two members with the extension .", member.ext, " (", member.entry.name, ")"));
      return std::nullopt;
    }
    if (member.ext == "json") {
      json = &member;
      kinds.insert(member.ext);
    } else if (IsImageExtension(member.ext)) {
      image = &member;
      image_names.push_back(member.entry.name);
      kinds.insert(std::string(kImageKind));
    } else {
      kinds.insert(member.ext);
    }
  }
  const bool layout_complete = std::includes(kinds.begin(), kinds.end(), layout_.begin(), layout_.end());
  if (group.suspect && (image == nullptr || !layout_complete)) {
    unattributed_loss_ = false;
    SkipSample(damage_->reason, group, absl::StrCat("lacks a member next to the damage: ", damage_->message));
    return std::nullopt;
  }
  if (image == nullptr) {
    SkipSample(SkipReason::kNoImage, group, "no image member (.jpg, .jpeg, .png or .webp)");
    return std::nullopt;
  }
  if (image_names.size() > 1) {
    SkipSample(SkipReason::kSeveralImages, group,
               absl::StrCat("more than one image member: ", absl::StrJoin(image_names, ", ")));
    return std::nullopt;
  }
  const ImageFormat format = *ImageFormatFromExtension(image->ext);
  SampleMeta meta;
  meta.key = key;
  nlohmann::json object;
  if (json != nullptr) {
    const std::string origin =
        absl::StrCat(path().string(), ": ", json->entry.name, " at offset ", json->entry.offset_of_header);
    absl::StatusOr<nlohmann::json> parsed = internal::ParseJsonObject(json->entry.data, origin);
    absl::StatusOr<SampleMeta> from_json =
        parsed.ok() ? internal::SampleMetaFromObject(*parsed, origin, key) : absl::StatusOr<SampleMeta>(parsed.status());
    if (!from_json.ok()) {
      report_.Skip(SkipReason::kInvalidJson, std::string(from_json.status().message()));
      return std::nullopt;
    }
    object = std::move(*parsed);
    meta = std::move(*from_json);
    if (meta.key != key) {
      SkipSample(SkipReason::kMetadataMismatch, group,
                 absl::StrCat(json->entry.name, " says key \"", meta.key, "\""));
      return std::nullopt;
    }
  }
  if (!meta.image_format.empty()) {
    auto declared = ImageFormatFromExtension(meta.image_format);
    if (!declared.ok() || *declared != format) {
      SkipSample(SkipReason::kMetadataMismatch, group,
                 absl::StrCat(json->entry.name, " says image_format \"", meta.image_format, "\" but the image is ",
                              image->entry.name));
      return std::nullopt;
    }
    if (options_.verify_sha256 && !meta.sha256.empty()) {
      const std::string hash = Sha256Hex(image->entry.data);
      if (absl::AsciiStrToLower(meta.sha256) != hash) {
        SkipSample(SkipReason::kSha256Mismatch, group,
                   absl::StrCat("sha256 mismatch: ", json->entry.name, " says \"", meta.sha256, "\", ",
                                image->entry.name, " (offset ", image->entry.offset_of_header, ") hashes to ", hash));
        return std::nullopt;
      }
    }
  }
  meta.image_format = std::string(ImageExtension(format));
  const nlohmann::json* json_object = json != nullptr ? &object : nullptr;
  if (options_.label_fields.empty()) {
    if (!meta.labels.contains("cls")) {
      const LabelField cls{"cls", LabelField::Kind::kMember, "cls"};
      auto labels = internal::ExtractLabels({cls}, nullptr, members);
      if (labels.ok()) meta.labels.merge(*labels);
    }
  } else {
    auto labels = internal::ExtractLabels(options_.label_fields, json_object, members);
    if (!labels.ok()) {
      SkipSample(SkipReason::kInvalidLabel, group, labels.status().message());
      return std::nullopt;
    }
    meta.labels = std::move(*labels);
  }
  layout_ = std::move(kinds);
  sample_offset_ = group.members.front().entry.offset_of_header;
  sample_json_ = json != nullptr ? json->entry.data : std::string();
  return Sample{std::move(meta), format, std::move(image->entry.data)};
}

void ShardReader::Finish() {
  if (finished_) return;
  finished_ = true;
  if (unattributed_loss_) {
    unattributed_loss_ = false;
    report_.Skip(damage_->reason, absl::StrCat(damage_->message, " (the lost sample's key is unknown)"));
  }
  if (samples_ > 0) return;
  if (tar_->file_size() == 0) {
    report_.NameShard(absl::StrCat(path().string(), ": empty file (0 bytes)"));
  } else {
    report_.NameShard(absl::StrCat(path().string(), ": no intact sample (", report_.skipped(), " skipped)"));
  }
}

absl::StatusOr<ShardListing> ListShard(const std::filesystem::path& shard) {
  ASSIGN_OR_RETURN(std::unique_ptr<ShardReader> reader, ShardReader::Open(shard));
  ShardListing listing;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Sample> sample, reader->Next());
    if (!sample.has_value()) break;
    listing.samples.push_back(ShardEntrySummary{std::move(sample->meta.key), std::move(sample->meta.image_format),
                                                sample->image_bytes.size(), reader->sample_offset()});
  }
  listing.report = reader->report();
  return listing;
}

namespace {

// The first intact sample with `key` and its stored .json.
absl::StatusOr<std::pair<Sample, std::string>> FindSample(const std::filesystem::path& shard, std::string_view key) {
  ShardReaderOptions options;
  options.verify_sha256 = false;
  ASSIGN_OR_RETURN(std::unique_ptr<ShardReader> reader, ShardReader::Open(shard, std::move(options)));
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Sample> sample, reader->Next(),
                     _.prefix(absl::StrCat("looking for sample ", std::string(key))));
    if (!sample.has_value()) break;
    if (sample->meta.key == key) return std::make_pair(std::move(*sample), reader->sample_json());
  }
  const std::string missing = absl::StrCat(shard.string(), ": no intact sample with key \"", std::string(key), "\"");
  if (reader->report().skipped() > 0) {
    return absl::DataLossError(absl::StrCat(missing, "; ", reader->report().Summary()));
  }
  return absl::NotFoundError(missing);
}

}  // namespace

absl::StatusOr<SampleMeta> ReadSampleMeta(const std::filesystem::path& shard, std::string_view key) {
  ASSIGN_OR_RETURN(auto found, FindSample(shard, key));
  return std::move(found.first.meta);
}

absl::StatusOr<std::string> ReadSampleJson(const std::filesystem::path& shard, std::string_view key) {
  ASSIGN_OR_RETURN(auto found, FindSample(shard, key));
  if (!found.second.empty()) return std::move(found.second);
  return SampleMetaToJson(found.first.meta);
}

}  // namespace atelier::dataset
