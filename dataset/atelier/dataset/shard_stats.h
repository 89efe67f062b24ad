// ShardStats: what happened while one shard was crawled, saved beside it as
// shards/NNNNNN.stats.json (in the spirit of img2dataset's per-shard stats).
//
// JSON: one object with the field names below; *_by_reason are objects of
// integers, e.g. {"dead_by_reason": {"http_404": 3}}. FromJson accepts absent
// fields (defaults) but not wrong types; unknown fields are ignored. Errors are
// InvalidArgument starting with `origin`; ReadShardStats uses the file path as
// origin and returns NotFound naming it if it does not exist. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace atelier::dataset {

struct ShardStats {
  uint64_t shard_index = 0;
  int64_t items_total = 0, ok = 0, dead = 0, failed = 0;
  int64_t samples = 0;      // samples in the tar (>= ok for Met objects with several images)
  int64_t duration_ms = 0;  // wall time from lease to commit (wall_seconds, in ms)
  std::map<std::string, int64_t> dead_by_reason, errors_by_reason;
  int64_t bytes_downloaded = 0, bytes_written = 0;
  // fetch_seconds: time spent in HTTP requests, summed over requests (so it
  // can exceed wall_seconds when requests overlap).
  double fetch_seconds = 0, wall_seconds = 0;
  int attempt = 0;
  std::string worker_id;

  bool operator==(const ShardStats&) const = default;
};

std::string ShardStatsToJson(const ShardStats& stats);
absl::StatusOr<ShardStats> ShardStatsFromJson(std::string_view json, std::string_view origin);
absl::StatusOr<ShardStats> ReadShardStats(const std::filesystem::path& path);

}  // namespace atelier::dataset
