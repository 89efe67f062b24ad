// ShardReader: streams the samples of one WebDataset shard, atelier's own
// (ShardWriter) or foreign (img2dataset, Python's tarfile, `tar`).
//
//   ASSIGN_OR_RETURN(auto reader, ShardReader::Open(path));
//   while (true) {
//     ASSIGN_OR_RETURN(std::optional<Sample> sample, reader->Next());
//     if (!sample) break;  // end of the shard
//   }
//   reader->report()      // the samples skipped, by reason; the shard, if it gave none
//
// Grouping follows WebDataset: a member's key is its name up to the first dot
// of its last path component ("dir.v2/000001.seg.png" -> key "dir.v2/000001",
// extension "seg.png", lowercased), consecutive members with one key form a
// sample, in any order. Members without a dot and "__...__" metadata names
// are ignored (so is everything TarReader skips: directories, links). A
// sample needs exactly one image member (.jpg, .jpeg, .png or .webp); the
// rest is optional: a .json object (SampleMeta's fields, each with its type
// when present; "key", when present, must equal the member key) and any other
// members (.cls, .txt, ...), which --label-field can read (label_fields.h).
// meta.key is the member key; meta.image_format the canonical extension ("jpg"
// for .jpeg).
//
// Integrity: with verify_sha256, a JSON that has both "sha256" and
// "image_format" (atelier's writer, whose sha256 is of the stored bytes) must
// match the image bytes. img2dataset's JSON has no image_format, and its
// sha256 is of the file as downloaded, before resizing, so it is not compared.
//
// One bad sample costs one sample: it is skipped, counted in report() by
// SkipReason with an example line (file, key, byte offset, why), and reading
// goes on with the next sample. A damaged tar header costs the samples next
// to it that then lack a member (TarReader resynchronises on the next valid
// header): of the two samples either side of the damage, each is kept only if
// it has every kind of member the last intact sample had, and at least one
// sample is counted lost when some bytes of an entry were. A shard that gives
// no sample at all (0 bytes, nothing intact) is named in report().bad_shards
// at its end. Next() fails only on an I/O error (then again on every call).
// Memory is bounded by one sample plus one member. Not thread-safe.
//
// ListShard, ReadSampleMeta and ReadSampleJson are one-pass conveniences on top (`atelier shard`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/dataset/label_fields.h"
#include "atelier/dataset/read_report.h"
#include "atelier/dataset/sample.h"
#include "atelier/dataset/tar_reader.h"

namespace atelier::dataset {

struct ShardReaderOptions {
  bool verify_sha256 = true;  // atelier's sha256 (see above): a mismatch skips the sample
  // Where labels come from. Empty: the JSON's "labels" object, plus the text of
  // a .cls member as head "cls" when the JSON gives no "cls".
  std::vector<LabelField> label_fields;
};

class ShardReader {
 public:
  // NotFound naming the file if it does not exist; InvalidArgument if it is not a regular file.
  static absl::StatusOr<std::unique_ptr<ShardReader>> Open(const std::filesystem::path& shard,
                                                           ShardReaderOptions options = {});

  absl::StatusOr<std::optional<Sample>> Next();

  // Byte offset of the first tar header of the sample last returned by Next().
  uint64_t sample_offset() const { return sample_offset_; }
  // The .json member of the sample last returned, as stored ("" if it had none).
  const std::string& sample_json() const { return sample_json_; }
  const std::filesystem::path& path() const { return tar_->path(); }
  const ReadReport& report() const { return report_; }

 private:
  struct Member {
    std::string key, ext;
    TarEntry entry;
  };
  struct Group {
    std::vector<Member> members;
    bool suspect = false;              // damage right before, inside or right after it
    bool starts_after_damage = false;  // the first group after a damage
  };
  struct Damage {
    SkipReason reason;
    std::string message;
  };

  ShardReader(std::unique_ptr<TarReader> tar, ShardReaderOptions options)
      : tar_(std::move(tar)), options_(std::move(options)) {}

  absl::StatusOr<std::optional<Group>> ReadGroup();
  void NoteDamage(const TarDamage& damage, Group& group);
  // The sample, or std::nullopt after counting why it was skipped.
  std::optional<Sample> Assemble(Group& group);
  void SkipSample(SkipReason reason, const Group& group, absl::string_view why);
  void Finish();

  std::unique_ptr<TarReader> tar_;
  ShardReaderOptions options_;
  ReadReport report_;
  std::optional<Member> pending_;  // the first member of the next group
  bool pending_suspect_ = false;
  bool next_suspect_ = false;  // the member after a damage starts a suspect group
  bool tar_ended_ = false;
  bool finished_ = false;
  std::optional<Damage> damage_;  // the last damage, for groups dropped because of it
  bool unattributed_loss_ = false;  // an entry was lost and no dropped sample accounts for it
  std::set<std::string> layout_;    // member kinds of the last intact sample ("<image>" for the image)
  int64_t samples_ = 0;
  uint64_t sample_offset_ = 0;
  std::string sample_json_;
  absl::Status error_;
};

struct ShardEntrySummary {
  std::string key;
  std::string image_format;
  uint64_t image_bytes = 0;
  uint64_t offset = 0;  // byte offset of the sample's first tar header
};

struct ShardListing {
  std::vector<ShardEntrySummary> samples;  // the intact samples, in order
  ReadReport report;                       // what was skipped
};

// Reads the whole shard (verify_sha256 on). NotFound if the file is missing;
// otherwise the intact samples and the report of the rest.
absl::StatusOr<ShardListing> ListShard(const std::filesystem::path& shard);

// The metadata of the first intact sample with `key` (SHA-256 not verified).
// NotFound naming the key and file if the shard has no such sample and nothing
// was skipped; DataLoss with the report's summary if samples were skipped
// (the key may have been among them).
absl::StatusOr<SampleMeta> ReadSampleMeta(const std::filesystem::path& shard, std::string_view key);

// The same sample's .json member as stored; SampleMetaToJson of its metadata
// when it has none.
absl::StatusOr<std::string> ReadSampleJson(const std::filesystem::path& shard, std::string_view key);

}  // namespace atelier::dataset
