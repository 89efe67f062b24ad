#include "atelier/coordinator/dataset_check.h"

#include <set>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "spdlog/spdlog.h"

namespace atelier::coordinator {

namespace fs = std::filesystem;

absl::StatusOr<std::vector<std::string>> CheckAgainstDataset(ShardTable& table,
                                                             const fs::path& dataset_root) {
  std::vector<std::string> problems;
  std::set<uint64_t> recorded;
  RETURN_IF_ERROR(table.ScanDone([&](const v1::CompleteShardRequest& done) {
    recorded.insert(done.shard_id());
    const fs::path tar = done.shard_path().empty() ? dataset::ShardPath(dataset_root, done.shard_id())
                                                   : dataset_root / done.shard_path();
    std::error_code ec;
    if (!fs::exists(tar, ec)) {
      problems.push_back(absl::StrCat("shard ", done.shard_id(), ": '", tar.string(),
                                      "' is missing (accepted sha256 ", done.shard_sha256(), ")"));
      return true;
    }
    auto sha = dataset::Sha256OfFile(tar);
    if (!sha.ok()) {
      problems.push_back(absl::StrCat("shard ", done.shard_id(), ": ", sha.status().message()));
    } else if (*sha != done.shard_sha256()) {
      problems.push_back(absl::StrCat("shard ", done.shard_id(), ": '", tar.string(),
                                      "' has sha256 ", *sha, ", the accepted one is ",
                                      done.shard_sha256().empty() ? std::string("(none)")
                                                                  : done.shard_sha256()));
    }
    return true;
  }));
  const auto shards = table.Shards();
  for (size_t id = 0; id < shards.size(); ++id) {
    if (shards[id].state == ShardState::kDone && !recorded.contains(id)) {
      problems.push_back(absl::StrCat("shard ", id, ": done but its accepted result is missing"));
    }
  }
  return problems;
}

namespace {

// The keys of the samples in `tar`, every sample's sha256 verified.
absl::StatusOr<std::vector<std::string>> SampleKeys(const fs::path& tar) {
  ASSIGN_OR_RETURN(auto reader, dataset::ShardReader::Open(tar));
  std::vector<std::string> keys;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<dataset::Sample> sample, reader->Next());
    if (!sample) return keys;
    keys.push_back(sample->meta.key);
  }
}

// True when sample `key` belongs to item `item_key` (Met samples are
// "<item key>-<n>").
bool SampleOf(const std::string& key, const std::string& item_key) {
  return key == item_key || (absl::StartsWith(key, item_key) && key.size() > item_key.size() &&
                             key[item_key.size()] == '-');
}

}  // namespace

absl::StatusOr<RecoverReport> RecoverFromDataset(ShardTable& table, const fs::path& dataset_root) {
  RecoverReport report;
  const auto shards = table.Shards();
  for (size_t id = 0; id < shards.size(); ++id) {
    if (shards[id].state == ShardState::kDone) continue;
    const fs::path tar = dataset::ShardPath(dataset_root, id);
    std::error_code ec;
    if (!fs::exists(tar, ec)) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> keys, SampleKeys(tar),
                     _.prefix("recovering from the dataset"));
    ASSIGN_OR_RETURN(std::string sha, dataset::Sha256OfFile(tar));
    ASSIGN_OR_RETURN(std::vector<v1::WorkItem> items, table.ItemsOf(id));
    v1::CompleteShardRequest record;
    record.set_worker_id("recovered-from-dataset");
    record.set_shard_id(id);
    record.set_shard_path(fs::relative(tar, dataset_root).string());
    record.set_shard_sha256(sha);
    for (const auto& item : items) {
      auto* r = record.add_results();
      r->set_key(item.key());
      r->set_url(item.url());
      int samples = 0;
      for (const auto& k : keys) samples += SampleOf(k, item.key()) ? 1 : 0;
      if (samples > 0) {
        r->set_outcome(v1::ITEM_OUTCOME_OK);
        r->set_samples_written(samples);
        ++report.items_ok;
      } else {
        r->set_outcome(v1::ITEM_OUTCOME_FAILED);
        r->set_reason("not_in_recovered_shard");
        ++report.items_missing;
      }
    }
    record.mutable_stats()->set_items(static_cast<int64_t>(items.size()));
    RETURN_IF_ERROR(table.CompleteFromDataset(record));
    ++report.shards;
  }
  spdlog::info("recovered {} shards from '{}': {} items found, {} not in their tars (failed, "
               "not_in_recovered_shard)",
               report.shards, dataset_root.string(), report.items_ok, report.items_missing);
  return report;
}

}  // namespace atelier::coordinator
