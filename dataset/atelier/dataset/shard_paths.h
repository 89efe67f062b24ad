// Where shards live in a dataset root, and housekeeping of that directory.
//
//   ShardPath(root, 42)       -> root/shards/000042.tar   (at least 6 digits)
//   ShardStatsPath(root, 42)  -> root/shards/000042.stats.json
//   ListShards(root)          -> committed shards (NNNNNN.tar), by index
//   FindShards(data)          -> the shards `data` names (train/evaluate --data):
//       a shard file; a dataset root's shards/NNNNNN.tar; or every *.tar in a
//       directory (e.g. img2dataset's output folder: 00000.tar, ...), by name
//   SegmentPath(root, 42, 7, 3) -> root/segments/000042-7-3.tar: a crawler's
//       sealed segment of shard 42 (lease token 7, seal number 3); outside
//       shards/ so that no reader of shards ever takes it for one
//   RemoveShardSegments(root, 42, keep)
//       removes root/segments/000042-* (segments and their temporaries) except
//       the paths in `keep` (relative to root); returns how many.
//   CleanStaleTemporaries(root, now, min_age)
//       removes NNNNNN.tar.tmp-* and NNNNNN.stats.json.tmp-* files (ShardWriter's
//       temporaries) and segments' temporaries last modified at least `min_age`
//       before `now`, and every segment of a shard that is committed; returns
//       how many.
//   RemoveShardTemporaries(root, 42)
//       removes 000042.tar.tmp-* and 000042.stats.json.tmp-* whatever their age
//       (left by earlier attempts at shard 42); returns how many.
//
// A live writer appends to its temporary as samples arrive, so the default
// min_age (one hour) spares it even when several workers share the root; pass 0
// only when no writer can be running. RemoveShardTemporaries is for the holder
// of the shard's current lease, before it writes the shard: any other writer
// of that shard is a stale one, whose commit would be refused. Functions touch only the file system; they are thread-safe, but
// ListShards reflects a directory that other processes may be changing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/common/env.h"

namespace atelier::dataset {

inline constexpr absl::Duration kStaleTemporaryAge = absl::Hours(1);

std::filesystem::path ShardsDir(const std::filesystem::path& dataset_root);
std::filesystem::path ShardPath(const std::filesystem::path& dataset_root, uint64_t index);
std::filesystem::path ShardStatsPath(const std::filesystem::path& dataset_root, uint64_t index);

std::filesystem::path SegmentsDir(const std::filesystem::path& dataset_root);
std::filesystem::path SegmentPath(const std::filesystem::path& dataset_root, uint64_t shard, uint64_t token,
                                  int seal);

// The index of a committed shard file name ("000042.tar" -> 42); nullopt otherwise.
std::optional<uint64_t> ShardIndexFromFileName(std::string_view file_name);

// Committed shards under root/shards, sorted by index. NotFound naming the
// directory if root/shards does not exist. Every NNNNNN.tar name is listed,
// even one that is not a regular file, so that readers name it rather than
// leave it out without a word.
absl::StatusOr<std::vector<std::filesystem::path>> ListShards(const std::filesystem::path& dataset_root);

// ListShards(data) when data/shards is a directory; [data] when `data` is not
// a directory; else the *.tar entries of `data`, sorted by name. NotFound
// naming `data` if it does not exist or names no shard.
absl::StatusOr<std::vector<std::filesystem::path>> FindShards(const std::filesystem::path& data);

// 0 if root/shards does not exist (nothing to clean). Every file operation
// goes through `env`; `now` is compared with the files' modification times.
absl::StatusOr<int> CleanStaleTemporaries(const std::filesystem::path& dataset_root, absl::Time now,
                                          absl::Duration min_age = kStaleTemporaryAge, Env* env = Env::Default());

// 0 if root/segments does not exist. Errors name the file or the directory.
absl::StatusOr<int> RemoveShardSegments(const std::filesystem::path& dataset_root, uint64_t index,
                                        const std::set<std::string>& keep, Env* env = Env::Default());

// 0 if root/shards does not exist. Errors name the file or the directory.
absl::StatusOr<int> RemoveShardTemporaries(const std::filesystem::path& dataset_root, uint64_t index,
                                           Env* env = Env::Default());

}  // namespace atelier::dataset
