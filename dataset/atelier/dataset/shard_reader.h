// ShardReader: streams the samples of one WebDataset shard written by ShardWriter
// (or any ustar shard holding exactly `<key>.<jpg|jpeg|png|webp>` and `<key>.json`
// per sample, the two entries adjacent, in either order).
//
//   ASSIGN_OR_RETURN(auto reader, ShardReader::Open(path));
//   while (true) {
//     ASSIGN_OR_RETURN(std::optional<Sample> sample, reader->Next());
//     if (!sample) break;  // clean end of the shard
//   }
//
// Next() returns the next complete sample, std::nullopt at a clean end (see
// TarReader: a zero block, or the file ending exactly on an entry boundary), or
// DataLoss for anything else: truncation, a corrupt header, a sample missing its
// image or JSON, unexpected entries, invalid JSON, a JSON key or image_format that
// disagrees with the entry names, or (with verify_sha256) image bytes whose SHA-256
// is not meta.sha256. Errors name the file, the sample key when known and the byte
// offset. After an error the reader stops: every later Next() returns that same
// error; samples returned before it are intact. Sample.meta.image_format is set to
// the canonical extension ("jpg" for .jpeg). Memory is bounded by one sample.
// Not thread-safe: one reader per thread.
//
// ListShard and ReadSampleMeta are one-pass conveniences on top (`atelier shard`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/dataset/sample.h"
#include "atelier/dataset/tar_reader.h"

namespace atelier::dataset {

struct ShardReaderOptions {
  bool verify_sha256 = true;  // a missing or wrong meta.sha256 is then DataLoss
};

class ShardReader {
 public:
  // NotFound naming the file if it does not exist.
  static absl::StatusOr<std::unique_ptr<ShardReader>> Open(const std::filesystem::path& shard,
                                                           ShardReaderOptions options = {});

  absl::StatusOr<std::optional<Sample>> Next();

  // Byte offset of the first tar header of the sample last returned by Next().
  uint64_t sample_offset() const { return sample_offset_; }
  const std::filesystem::path& path() const { return tar_->path(); }

 private:
  ShardReader(std::unique_ptr<TarReader> tar, ShardReaderOptions options)
      : tar_(std::move(tar)), options_(options) {}

  absl::StatusOr<std::optional<Sample>> ReadSample();

  std::unique_ptr<TarReader> tar_;
  ShardReaderOptions options_;
  uint64_t sample_offset_ = 0;
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
  absl::Status error;                      // ok, or the error that stopped listing
};

// Reads the whole shard, verifying SHA-256s. NotFound if the file is missing;
// otherwise the intact samples plus, for a damaged shard, the error at its tail.
absl::StatusOr<ShardListing> ListShard(const std::filesystem::path& shard);

// The metadata of the first sample with `key` (SHA-256 not verified). NotFound
// naming the key and file if the shard has no such sample; the reader's error if
// the shard is damaged before the key is found.
absl::StatusOr<SampleMeta> ReadSampleMeta(const std::filesystem::path& shard, std::string_view key);

}  // namespace atelier::dataset
