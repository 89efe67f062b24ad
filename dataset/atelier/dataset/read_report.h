// ReadReport: what reading shards cost, for logs and summaries. One bad sample
// costs one sample: readers skip it and count it here by reason, and shards
// that gave nothing (empty, unreadable, no intact sample) are named.
//
//   ReadReport report;
//   report.Skip(SkipReason::kSha256Mismatch, "<shard>: sample bam-1 at offset 512: ...");
//   report.NameShard("<shard>: empty file (0 bytes)");
//   report.Merge(other);
//   report.Summary()  -> "2 samples skipped (invalid_json 1, sha256_mismatch 1); first: ...;
//                         1 shard gave no sample: ..."
//
// Plain data, not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace atelier::dataset {

enum class SkipReason {
  kTarDamage,         // a damaged tar header; the reader resynchronised after it
  kTruncated,         // the shard ends inside the sample
  kNoImage,           // no .jpg/.jpeg/.png/.webp member
  kSeveralImages,     // more than one image member
  kDuplicateMember,   // two members with the same extension (WebDataset refuses these too)
  kInvalidJson,       // the .json member is not a JSON object, or a known field has the wrong type
  kMetadataMismatch,  // the JSON's key or image_format disagrees with the member names
  kSha256Mismatch,    // the image bytes do not hash to the JSON's sha256
  kInvalidLabel,      // a --label-field value that is an object or an array
  kUndecodable,       // the image bytes do not decode (found by the consumer)
};

// "tar_damage", "truncated", "no_image", "several_images", "duplicate_member",
// "invalid_json", "metadata_mismatch", "sha256_mismatch", "invalid_label", "undecodable".
std::string_view SkipReasonName(SkipReason reason);

struct ReadReport {
  static constexpr size_t kMaxExamples = 10;

  std::map<std::string, int64_t> skipped_by_reason;  // SkipReasonName -> samples
  std::vector<std::string> examples;                 // the first kMaxExamples skips, one line each
  std::vector<std::string> bad_shards;               // "<shard>: why it gave no sample"

  int64_t skipped() const;
  void Skip(SkipReason reason, std::string example);
  void NameShard(std::string what);
  void Merge(const ReadReport& other);
  // One line; "0 samples skipped" when there is nothing to report.
  std::string Summary() const;

  bool operator==(const ReadReport&) const = default;
};

}  // namespace atelier::dataset
