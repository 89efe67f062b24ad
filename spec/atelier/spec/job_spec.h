// The crawl job spec (YAML), as documented in docs/job-spec.md.
//
// LoadJobSpec parses and validates a spec: unknown keys, wrong types and bad
// values are rejected with a message naming the file, the line, and the key
// path (e.g. "job.yaml:12: crawl.retries: expected an integer, got 'four'").
// Relative paths in the spec are resolved against the spec file's directory.
// The returned JobSpec is a plain value; it owns nothing else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/common/memory_budget.h"
#include "atelier/imaging/resize_mode.h"

namespace atelier {

// BAM: the Behance Artistic Media metadata SQLite.
struct BamSourceSpec {
  std::string sqlite;                       // path to the SQLite file
  std::vector<std::string> labels;          // label families: media, emotion, content (scores columns <family>_<class>)
  std::string label_source = "scores";      // scores | crowd | automatic
  double min_score = -1e30;                 // scores: ignore a row whose best score is below
  bool include_mature = false;              // include rows with mature_content set
  int64_t limit = 0;                        // 0: all rows; else the first N mids
};

// One Met Collection API search; parameters are sent as query parameters.
struct MetSearchSpec {
  std::map<std::string, std::string> params;  // q, dateBegin, geoLocation, ...
  std::map<std::string, std::string> label;   // labels given to every object found
  int line = 0;                               // line in the spec, for messages
};

struct MetSourceSpec {
  std::string api = "https://collectionapi.metmuseum.org/public/collection/v1";
  std::vector<MetSearchSpec> searches;
  std::vector<std::string> derive;   // derived labels: decade, century
  int64_t max_objects = 0;           // 0: all objects found
  double requests_per_second = 1.0;  // ingest's own search rate (the CDN blocks early)
};

// A plain URL list: .txt (one URL a line) or .csv (header row; a url column and
// optional label columns).
struct UrlsSourceSpec {
  std::string file;
  std::string url_column = "url";
  std::vector<std::string> label_columns;  // csv columns that become labels; empty: all others
};

struct SourceSpec {
  std::string name;  // unique; defaults to the kind ("bam", "met", "urls:list.csv")
  std::variant<BamSourceSpec, MetSourceSpec, UrlsSourceSpec> source;
};

struct CrawlSpec {
  imaging::ResizeMode resize_mode = imaging::ResizeMode::kCenterCrop;
  int resize_size = 256;               // pixels; ignored for kKeep
  int jpeg_quality = 90;               // 1..100
  int per_host_concurrency = 16;
  double per_host_requests_per_second = 80;
  int retries = 4;                     // retries after the first attempt
  double timeout_s = 30;
  int64_t max_bytes = 50'000'000;
  double lease_ttl_s = 60;             // shard lease length
  int max_attempts = 3;                // leases of one shard before it is failed
  // How often a crawler seals the items it has fetched of its shard (a
  // segment tar in the dataset root, recorded at the coordinator), so that a
  // shard that moves to another worker is not fetched again from the start.
  double seal_interval_s = 30;
  // Pause of a host after it answered like a throttling CDN (HTML or broken
  // JSON from an API, no Retry-After): the Met's CDN blocks for about a minute.
  double throttle_pause_s = 60;
  // The crawler refuses to connect to loopback, link-local, private,
  // unique-local and unspecified addresses unless this is true or the address
  // is in one of allowed_networks (CIDRs, e.g. "10.1.0.0/16").
  bool allow_private_networks = false;
  std::vector<std::string> allowed_networks;
  // Bytes a crawler may hold in bodies in flight and images being decoded.
  int64_t memory_budget_bytes = kDefaultMemoryBudgetBytes;
  // Decompression-bomb guard: larger declared canvases fail image_too_large.
  int64_t max_image_pixels = 64'000'000;
};

struct JobSpec {
  std::string name = "atelier";
  std::string dataset;                 // dataset root (absolute after loading)
  int64_t shard_size = 1000;           // items per shard
  std::vector<SourceSpec> sources;
  CrawlSpec crawl;
  std::string spec_path;               // file it was loaded from ("" for strings)
};

// Loads and validates the spec file at `path`.
absl::StatusOr<JobSpec> LoadJobSpec(const std::string& path);
// Parses a spec from text; `origin` names it in messages and `base_dir`
// resolves relative paths.
absl::StatusOr<JobSpec> ParseJobSpec(absl::string_view yaml, absl::string_view origin,
                                     const std::string& base_dir);

}  // namespace atelier
