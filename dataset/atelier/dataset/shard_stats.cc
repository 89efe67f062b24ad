#include "atelier/dataset/shard_stats.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/internal/json_fields.h"
#include "nlohmann/json.hpp"

namespace atelier::dataset {

std::string ShardStatsToJson(const ShardStats& stats) {
  nlohmann::ordered_json json;
  json["shard_index"] = stats.shard_index;
  json["items_total"] = stats.items_total;
  json["ok"] = stats.ok;
  json["dead"] = stats.dead;
  json["failed"] = stats.failed;
  json["samples"] = stats.samples;
  json["dead_by_reason"] = stats.dead_by_reason;
  json["errors_by_reason"] = stats.errors_by_reason;
  json["bytes_downloaded"] = stats.bytes_downloaded;
  json["bytes_written"] = stats.bytes_written;
  json["fetch_seconds"] = stats.fetch_seconds;
  json["wall_seconds"] = stats.wall_seconds;
  json["duration_ms"] = stats.duration_ms;
  json["attempt"] = stats.attempt;
  json["worker_id"] = stats.worker_id;
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

absl::StatusOr<ShardStats> ShardStatsFromJson(std::string_view json, std::string_view origin) {
  ASSIGN_OR_RETURN(nlohmann::json object, internal::ParseJsonObject(json, origin));
  ShardStats stats;
  internal::JsonFields fields(object, origin);
  fields.Get("shard_index", stats.shard_index);
  fields.Get("items_total", stats.items_total);
  fields.Get("ok", stats.ok);
  fields.Get("dead", stats.dead);
  fields.Get("failed", stats.failed);
  fields.Get("samples", stats.samples);
  fields.Get("dead_by_reason", stats.dead_by_reason);
  fields.Get("errors_by_reason", stats.errors_by_reason);
  fields.Get("bytes_downloaded", stats.bytes_downloaded);
  fields.Get("bytes_written", stats.bytes_written);
  fields.Get("fetch_seconds", stats.fetch_seconds);
  fields.Get("wall_seconds", stats.wall_seconds);
  fields.Get("duration_ms", stats.duration_ms);
  fields.Get("attempt", stats.attempt);
  fields.Get("worker_id", stats.worker_id);
  RETURN_IF_ERROR(fields.status());
  return stats;
}

absl::StatusOr<ShardStats> ReadShardStats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path.string()));
  return ShardStatsFromJson(text.str(), path.string());
}

}  // namespace atelier::dataset
