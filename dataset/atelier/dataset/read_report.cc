#include "atelier/dataset/read_report.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace atelier::dataset {

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kTarDamage:
      return "tar_damage";
    case SkipReason::kTruncated:
      return "truncated";
    case SkipReason::kNoImage:
      return "no_image";
    case SkipReason::kSeveralImages:
      return "several_images";
    case SkipReason::kDuplicateMember:
      return "duplicate_member";
    case SkipReason::kInvalidJson:
      return "invalid_json";
    case SkipReason::kMetadataMismatch:
      return "metadata_mismatch";
    case SkipReason::kSha256Mismatch:
      return "sha256_mismatch";
    case SkipReason::kInvalidLabel:
      return "invalid_label";
    case SkipReason::kUndecodable:
      return "undecodable";
  }
  return "unknown";
}

int64_t ReadReport::skipped() const {
  int64_t total = 0;
  for (const auto& [reason, count] : skipped_by_reason) total += count;
  return total;
}

void ReadReport::Skip(SkipReason reason, std::string example) {
  ++skipped_by_reason[std::string(SkipReasonName(reason))];
  if (examples.size() < kMaxExamples) examples.push_back(std::move(example));
}

void ReadReport::NameShard(std::string what) { bad_shards.push_back(std::move(what)); }

void ReadReport::Merge(const ReadReport& other) {
  for (const auto& [reason, count] : other.skipped_by_reason) skipped_by_reason[reason] += count;
  for (const std::string& example : other.examples) {
    if (examples.size() >= kMaxExamples) break;
    examples.push_back(example);
  }
  bad_shards.insert(bad_shards.end(), other.bad_shards.begin(), other.bad_shards.end());
}

std::string ReadReport::Summary() const {
  std::string text = absl::StrCat(skipped(), skipped() == 1 ? " sample" : " samples", " skipped");
  if (!skipped_by_reason.empty()) {
    absl::StrAppend(&text, " (", absl::StrJoin(skipped_by_reason, ", ", absl::PairFormatter(" ")), ")");
  }
  if (!examples.empty()) absl::StrAppend(&text, "; first: ", examples.front());
  if (!bad_shards.empty()) {
    absl::StrAppend(&text, "; ", bad_shards.size(), bad_shards.size() == 1 ? " shard" : " shards",
                    " gave no sample: ", absl::StrJoin(bad_shards, "; "));
  }
  return text;
}

}  // namespace atelier::dataset
