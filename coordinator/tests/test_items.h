// Helpers shared by the coordinator tests: work items and ShardTables
// pre-filled with shards. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/coordinator/shard_table.h"
#include "gtest/gtest.h"

namespace atelier::coordinator::testing {

inline v1::WorkItem UrlItem(int n, const std::string& source = "urls:list.txt") {
  v1::WorkItem item;
  item.set_key(absl::StrCat("url-", n));
  item.set_source(v1::SOURCE_KIND_URLS);
  item.set_url(absl::StrCat("http://127.0.0.1/img/", n, ".jpg"));
  item.set_source_name(source);
  return item;
}

// Ingests `shards` shards of `per_shard` items (keys url-0, url-1, ...).
inline void FillTable(ShardTable& table, int shards, int per_shard,
                      const std::string& source = "urls:list.txt") {
  ASSERT_TRUE(table.BeginIngest().ok());
  int n = 0;
  for (int s = 0; s < shards; ++s) {
    std::vector<v1::WorkItem> items;
    for (int i = 0; i < per_shard; ++i) items.push_back(UrlItem(n++, source));
    ASSERT_TRUE(table.AddShard(items).ok());
  }
  ASSERT_TRUE(table.FinishIngest("{}").ok());
}

// A CompleteShard request for `lease` where every item gets `outcome`.
inline v1::CompleteShardRequest CompleteAll(const std::string& worker,
                                            const v1::LeaseShardResponse& lease,
                                            v1::ItemOutcome outcome = v1::ITEM_OUTCOME_OK,
                                            const std::string& reason = "") {
  v1::CompleteShardRequest req;
  req.set_worker_id(worker);
  req.set_shard_id(lease.shard_id());
  req.set_fencing_token(lease.fencing_token());
  for (const auto& item : lease.items()) {
    auto* r = req.add_results();
    r->set_key(item.key());
    r->set_outcome(outcome);
    r->set_reason(reason);
    r->set_attempts(1);
    r->set_url(item.url());
  }
  req.mutable_stats()->set_items(lease.items_size());
  return req;
}

}  // namespace atelier::coordinator::testing
