// Test data for the dataset suites: image payloads with real magic bytes,
// deterministic samples with every metadata field set, and small tar helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/sample.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/dataset/shard_writer.h"

namespace atelier::dataset::test_data {

// `size` bytes (at least the format's magic) starting with the format's magic
// bytes, then filler derived from `seed`.
std::string FakeImage(ImageFormat format, size_t size, uint32_t seed);

// Sample number `i` of a deterministic mix: formats rotate, image sizes include
// exact multiples of 512 and their neighbours, keys are bam/met/url keys, and
// every SampleMeta field is set (sha256 and image_format only on some samples,
// as callers may leave them to the writer).
Sample MakeSample(int i);

// `sample.meta` as a reader returns it: sha256 and image_format filled in.
SampleMeta ExpectedMeta(const Sample& sample);

// Writes MakeSample(0..count-1) into shard `index` of `root` and commits it.
absl::StatusOr<CommittedShard> WriteTestShard(const std::filesystem::path& root, uint64_t index,
                                              int count);

// Writes a tar of (name, bytes) entries with TarWriter, with or without the
// end-of-archive blocks. For shards no ShardWriter would produce.
absl::Status WriteTar(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::string>>& entries,
                      bool finish = true);

// Copies the first `length` bytes of `from` to `to`.
void WriteTruncatedCopy(const std::filesystem::path& from, const std::filesystem::path& to,
                        uint64_t length);

struct ShardRead {
  std::vector<Sample> samples;
  ReadReport report;
  absl::Status status;  // ShardReader's error (open or I/O), else OK
};

// Every sample ShardReader gives for `shard`, and its report.
ShardRead ReadShard(const std::filesystem::path& shard, ShardReaderOptions options = {});

// Names of the entries of `dir`, sorted; empty if it does not exist.
std::vector<std::string> FileNames(const std::filesystem::path& dir);

}  // namespace atelier::dataset::test_data
