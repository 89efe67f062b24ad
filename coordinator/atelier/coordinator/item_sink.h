// IngestSink: where ingest sends work items (the URL list, BAM and Met
// ingests). ShardingSink (ingest_sink.h) stores them in the ShardTable;
// CollectingSink keeps everything (tests and the ingest fuzzers).
//
// Not thread-safe: one ingest thread owns a sink.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atelier/v1/common.pb.h"

namespace atelier::coordinator {

class IngestSink {
 public:
  virtual ~IngestSink() = default;
  // An item to crawl.
  virtual absl::Status Add(v1::WorkItem item) = 0;
  // An item known dead before any fetch (never crawled), with its reason.
  virtual absl::Status AddDead(v1::WorkItem item, const std::string& reason) = 0;
};

class CollectingSink final : public IngestSink {
 public:
  absl::Status Add(v1::WorkItem item) override {
    items.push_back(std::move(item));
    return absl::OkStatus();
  }
  absl::Status AddDead(v1::WorkItem item, const std::string& reason) override {
    dead.emplace_back(std::move(item), reason);
    return absl::OkStatus();
  }
  std::vector<v1::WorkItem> items;
  std::vector<std::pair<v1::WorkItem, std::string>> dead;
};

}  // namespace atelier::coordinator
