#include "atelier/dataset/shard_paths.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"

namespace fs = std::filesystem;

namespace atelier::dataset {
namespace {

std::string IndexName(uint64_t index) { return absl::StrFormat("%06d", index); }

// True for "<digits>.tar.tmp-*" and "<digits>.stats.json.tmp-*".
bool IsTemporaryName(std::string_view name) {
  const size_t digits = name.find('.');
  if (digits == 0 || digits == std::string_view::npos) return false;
  if (!std::all_of(name.begin(), name.begin() + static_cast<ptrdiff_t>(digits),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
    return false;
  }
  const std::string_view rest = name.substr(digits);
  return rest.starts_with(".tar.tmp-") || rest.starts_with(".stats.json.tmp-");
}

// The shard of a segment file name ("000042-7-3.tar", or its temporary
// "000042-7-3.tar.tmp-..."); nullopt for other names.
std::optional<uint64_t> SegmentShard(std::string_view name) {
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash < 6) return std::nullopt;
  return ShardIndexFromFileName(absl::StrCat(absl::string_view(name.data(), dash), ".tar"));
}

// Removes `path` if it was last modified at or before `cutoff`; true if removed.
absl::StatusOr<bool> RemoveIfOlder(const fs::path& path, absl::Time cutoff, Env& env);
// Removes `path`; false when it was not there.
absl::StatusOr<bool> RemoveIfThere(const fs::path& path, Env& env);
// Removes the segment files of committed shards and segment temporaries last
// modified at or before `cutoff`.
absl::StatusOr<int> CleanSegments(const fs::path& dataset_root, absl::Time cutoff, Env& env);

absl::Status FsError(const std::error_code& error, std::string_view what, const fs::path& path) {
  return absl::ErrnoToStatus(error.value(), absl::StrCat(std::string(what), " ", path.string()));
}

}  // namespace

fs::path ShardsDir(const fs::path& dataset_root) { return dataset_root / "shards"; }

fs::path ShardPath(const fs::path& dataset_root, uint64_t index) {
  return ShardsDir(dataset_root) / (IndexName(index) + ".tar");
}

fs::path SegmentsDir(const fs::path& dataset_root) { return dataset_root / "segments"; }

fs::path SegmentPath(const fs::path& dataset_root, uint64_t shard, uint64_t token, int seal) {
  return SegmentsDir(dataset_root) / absl::StrCat(IndexName(shard), "-", token, "-", seal, ".tar");
}

fs::path ShardStatsPath(const fs::path& dataset_root, uint64_t index) {
  return ShardsDir(dataset_root) / (IndexName(index) + ".stats.json");
}

std::optional<uint64_t> ShardIndexFromFileName(std::string_view file_name) {
  if (!file_name.ends_with(".tar")) return std::nullopt;
  const std::string_view digits = file_name.substr(0, file_name.size() - 4);
  if (digits.size() < 6 || digits.size() > 19) return std::nullopt;
  uint64_t index = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    index = index * 10 + static_cast<uint64_t>(c - '0');
  }
  if (file_name != IndexName(index) + ".tar") return std::nullopt;  // e.g. "0000042.tar"
  return index;
}

absl::StatusOr<std::vector<fs::path>> ListShards(const fs::path& dataset_root) {
  const fs::path dir = ShardsDir(dataset_root);
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) return FsError(error, "cannot list shard directory", dir);
  std::vector<std::pair<uint64_t, fs::path>> shards;
  for (; it != fs::directory_iterator(); it.increment(error)) {
    const std::optional<uint64_t> index = ShardIndexFromFileName(it->path().filename().string());
    if (index.has_value()) shards.emplace_back(*index, it->path());
  }
  if (error) return FsError(error, "cannot list shard directory", dir);
  std::sort(shards.begin(), shards.end());
  std::vector<fs::path> paths;
  paths.reserve(shards.size());
  for (auto& [index, path] : shards) paths.push_back(std::move(path));
  return paths;
}

absl::StatusOr<std::vector<fs::path>> FindShards(const fs::path& data) {
  std::error_code error;
  const fs::file_status status = fs::status(data, error);
  if (!fs::exists(status)) return absl::NotFoundError(absl::StrCat(data.string(), " does not exist"));
  if (!fs::is_directory(status)) return std::vector<fs::path>{data};
  if (fs::is_directory(ShardsDir(data), error)) {
    ASSIGN_OR_RETURN(std::vector<fs::path> shards, ListShards(data));
    if (shards.empty()) return absl::NotFoundError(absl::StrCat("no shards under ", ShardsDir(data).string()));
    return shards;
  }
  std::vector<fs::path> shards;
  fs::directory_iterator it(data, error);
  if (error) return FsError(error, "cannot list", data);
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (it->path().extension() == ".tar") shards.push_back(it->path());
  }
  if (error) return FsError(error, "cannot list", data);
  if (shards.empty()) {
    return absl::NotFoundError(absl::StrCat(data.string(), " holds neither shards/ nor *.tar files"));
  }
  std::sort(shards.begin(), shards.end());
  return shards;
}

absl::StatusOr<int> CleanStaleTemporaries(const fs::path& dataset_root, absl::Time now, absl::Duration min_age,
                                          Env* env) {
  const fs::path dir = ShardsDir(dataset_root);
  absl::StatusOr<std::vector<std::string>> names = env->GetChildren(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  int removed = 0;
  for (const std::string& name : *names) {
    if (!IsTemporaryName(name)) continue;
    ASSIGN_OR_RETURN(bool gone, RemoveIfOlder(dir / name, now - min_age, *env));
    removed += gone ? 1 : 0;
  }
  ASSIGN_OR_RETURN(int segments, CleanSegments(dataset_root, now - min_age, *env));
  return removed + segments;
}

namespace {

absl::StatusOr<bool> RemoveIfOlder(const fs::path& path, absl::Time cutoff, Env& env) {
  absl::StatusOr<absl::Time> modified = env.GetModificationTime(path);
  if (absl::IsNotFound(modified.status())) return false;  // someone else removed it
  if (!modified.ok()) return modified.status();
  if (*modified > cutoff) return false;
  return RemoveIfThere(path, env);
}

absl::StatusOr<bool> RemoveIfThere(const fs::path& path, Env& env) {
  absl::Status status = env.RemoveFile(path);
  if (absl::IsNotFound(status)) return false;
  if (!status.ok()) return status;
  return true;
}

absl::StatusOr<int> CleanSegments(const fs::path& dataset_root, absl::Time cutoff, Env& env) {
  const fs::path dir = SegmentsDir(dataset_root);
  absl::StatusOr<std::vector<std::string>> names = env.GetChildren(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  int removed = 0;
  for (const std::string& name : *names) {
    const std::optional<uint64_t> shard = SegmentShard(name);
    if (!shard.has_value()) continue;
    absl::StatusOr<bool> gone = false;
    if (env.FileExists(ShardPath(dataset_root, *shard))) {
      gone = RemoveIfThere(dir / name, env);  // the committed shard holds its samples now
    } else if (name.find(".tar.tmp-") != std::string::npos) {
      gone = RemoveIfOlder(dir / name, cutoff, env);
    }
    if (!gone.ok()) return gone.status();
    removed += *gone ? 1 : 0;
  }
  return removed;
}

}  // namespace

absl::StatusOr<int> RemoveShardSegments(const fs::path& dataset_root, uint64_t index, const std::set<std::string>& keep,
                                        Env* env) {
  const fs::path dir = SegmentsDir(dataset_root);
  absl::StatusOr<std::vector<std::string>> names = env->GetChildren(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  int removed = 0;
  for (const std::string& name : *names) {
    if (SegmentShard(name) != index) continue;
    if (keep.contains((fs::path("segments") / name).string())) continue;
    absl::Status status = env->RemoveFile(dir / name);
    if (absl::IsNotFound(status)) continue;  // someone else removed it
    if (!status.ok()) return status;
    ++removed;
  }
  return removed;
}

absl::StatusOr<int> RemoveShardTemporaries(const fs::path& dataset_root, uint64_t index, Env* env) {
  const fs::path dir = ShardsDir(dataset_root);
  absl::StatusOr<std::vector<std::string>> names = env->GetChildren(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  const std::string tar_prefix = IndexName(index) + ".tar.tmp-";
  const std::string stats_prefix = IndexName(index) + ".stats.json.tmp-";
  int removed = 0;
  for (const std::string& name : *names) {
    if (!name.starts_with(tar_prefix) && !name.starts_with(stats_prefix)) continue;
    absl::Status status = env->RemoveFile(dir / name);
    if (absl::IsNotFound(status)) continue;  // someone else removed it
    if (!status.ok()) return status;
    ++removed;
  }
  return removed;
}

}  // namespace atelier::dataset
