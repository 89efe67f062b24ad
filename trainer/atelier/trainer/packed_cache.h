// The packed cache: the decoded images of a dataset root at one training
// resolution, kept in one file that later runs memory-map instead of decoding
// every shard again.
//
// File layout (little-endian): the 8 bytes "ATPACK01", a u64 header length H,
// H bytes of JSON header (image_size, channels, count, the dataset
// fingerprint, keys, labels, extra fields, corrupt counts), zero padding up to the next
// multiple of 4096, then count images of image_size x image_size x channels
// bytes, HWC, as in ImageSet; the file ends there.
//
// The fingerprint covers every shard's name, size and modification time plus
// the image size: adding, replacing or re-crawling a shard makes the cache
// stale and it is rebuilt. The cache keeps the channels of the run that built
// it (LoadOptions::channels, auto-detected when 0); a run that asks for the
// other count gets the images converted in memory, exactly as decoding would
// give them. Files are written to a temp
// file and renamed, so a killed build never leaves a half cache under the
// final name; a damaged or stale cache is rebuilt, never trusted.
//
// Thread-safety: free functions without shared state; a mapped ImageSet is
// read-only and may be read from any thread.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/trainer/image_set.h"

namespace atelier::trainer {

// CACHE_DIR/packed-<S>px.atpack for these options.
std::filesystem::path PackedCachePath(const std::filesystem::path& cache_dir, const LoadOptions& options);

// Identifies the shards under root/shards and the image size (hex SHA-256).
absl::StatusOr<std::string> DatasetFingerprint(const std::filesystem::path& root, const LoadOptions& options);

// Writes `set` (pixels in memory) with `fingerprint` to `file`, atomically.
absl::Status WritePackedCache(const ImageSet& set, const std::string& fingerprint, const std::filesystem::path& file);

// Maps `file`. NotFound when there is none, FailedPrecondition when its
// fingerprint differs from `fingerprint` (stale), DataLoss when it is damaged.
absl::StatusOr<ImageSet> MapPackedCache(const std::filesystem::path& file, const std::string& fingerprint);

// What LoadWithPackedCache did.
enum class CacheUse { kMapped, kBuilt };

// Maps the cache for root and options when it is current; otherwise decodes
// the shards (LoadDatasetRoot), writes the cache and maps it.
absl::StatusOr<ImageSet> LoadWithPackedCache(const std::filesystem::path& root, const LoadOptions& options,
                                             const std::filesystem::path& cache_dir, CacheUse* use = nullptr);

}  // namespace atelier::trainer
