#include "atelier/spec/job_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/spec/yaml_fields.h"

namespace atelier {
namespace {

namespace fs = std::filesystem;

// Met search parameters the Collection API understands (v1 and v1.1).
const std::set<std::string>& MetSearchParams() {
  static const std::set<std::string> params = {
      "q",      "isHighlight", "title",       "tags",     "departmentId", "isOnView",
      "artistOrCulture", "medium", "hasImages", "geoLocation", "dateBegin",  "dateEnd"};
  return params;
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute() || base_dir.empty()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

void ParseBam(YamlFields& f, const std::string& base_dir, BamSourceSpec& bam) {
  f.String("sqlite", bam.sqlite, /*required=*/true);
  bam.sqlite = Resolve(base_dir, bam.sqlite);
  f.StringList("labels", bam.labels, /*required=*/true);
  for (const auto& l : bam.labels) {
    // The published BAM files have media, emotion and content; a SQLite in
    // the same layout may carry other families (scores columns <family>_<class>).
    const bool word = !l.empty() && absl::ascii_islower(l[0]) &&
                      std::all_of(l.begin(), l.end(), [](char c) {
                        return absl::ascii_islower(c) || absl::ascii_isdigit(c);
                      });
    if (!word) {
      f.FailKey("labels", absl::StrCat("BAM label family '", l,
                                       "' must be a lower-case word such as media, emotion, content"));
    }
  }
  if (f.String("label_source", bam.label_source) && bam.label_source != "scores" &&
      bam.label_source != "crowd" && bam.label_source != "automatic") {
    f.FailKey("label_source", absl::StrCat("unknown label source '", bam.label_source,
                                           "' (use scores, crowd, automatic)"));
  }
  f.Double("min_score", bam.min_score);
  f.Bool("include_mature", bam.include_mature);
  if (f.Int("limit", bam.limit)) f.CheckRange("limit", bam.limit, 0, 1e12);
}

void ParseMet(YamlFields& f, MetSourceSpec& met) {
  f.String("api", met.api);
  if (!met.api.starts_with("http://") && !met.api.starts_with("https://")) {
    f.FailKey("api", absl::StrCat("expected an http(s) URL, got '", met.api, "'"));
  }
  while (!met.api.empty() && met.api.back() == '/') met.api.pop_back();
  f.StringList("derive", met.derive);
  for (const auto& d : met.derive) {
    if (d != "decade" && d != "century") {
      f.FailKey("derive", absl::StrCat("unknown derived label '", d, "' (use decade, century)"));
    }
  }
  if (f.Int("max_objects", met.max_objects)) f.CheckRange("max_objects", met.max_objects, 0, 1e9);
  if (f.Double("requests_per_second", met.requests_per_second)) {
    f.CheckRange("requests_per_second", met.requests_per_second, 0.01, 80);
  }
  auto searches = f.Child("searches", /*required=*/true);
  if (!searches) return;
  if (!searches->IsSequence() || searches->size() == 0) {
    f.FailKey("searches", "expected a non-empty list of searches");
    return;
  }
  for (std::size_t i = 0; i < searches->size(); ++i) {
    const YAML::Node node = (*searches)[i];
    YamlFields s(node, absl::StrCat(f.PathOf("searches"), "[", i, "]"), f.errors());
    MetSearchSpec search;
    search.line = node.Mark().line + 1;
    for (const auto& p : MetSearchParams()) {
      if (!s.Has(p)) continue;
      std::string value;
      if (!s.String(p, value)) break;
      search.params[p] = value;
    }
    if (!s.Has("q")) s.FailKey("q", "a Met search needs q (the search text)");
    s.StringMap("label", search.label);
    s.Finish();
    met.searches.push_back(std::move(search));
  }
}

void ParseUrls(YamlFields& f, const std::string& base_dir, UrlsSourceSpec& urls) {
  f.String("file", urls.file, /*required=*/true);
  urls.file = Resolve(base_dir, urls.file);
  f.String("url_column", urls.url_column);
  f.StringList("label_columns", urls.label_columns);
  if (!urls.file.ends_with(".txt") && !urls.file.ends_with(".csv") && f.errors().ok()) {
    f.FailKey("file", absl::StrCat("URL list '", urls.file, "' must end in .txt or .csv"));
  }
}

void ParseSources(const YAML::Node& node, const std::string& base_dir, YamlErrors& errors,
                  std::vector<SourceSpec>& out) {
  if (!node.IsSequence() || node.size() == 0) {
    errors.Fail(node, "sources", "expected a non-empty list of sources (bam, met, urls)");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size() && errors.ok(); ++i) {
    const std::string path = absl::StrCat("sources[", i, "]");
    const YAML::Node entry = node[i];
    if (!entry.IsMap() || entry.size() < 1) {
      errors.Fail(entry, path, "expected one of: bam, met, urls");
      return;
    }
    YamlFields outer(entry, path, errors);
    SourceSpec source;
    outer.String("name", source.name);
    int kinds = 0;
    for (const char* kind : {"bam", "met", "urls"}) {
      auto body = outer.Child(kind);
      if (!body) continue;
      ++kinds;
      YamlFields f(*body, absl::StrCat(path, ".", kind), errors);
      if (std::string(kind) == "bam") {
        BamSourceSpec bam;
        ParseBam(f, base_dir, bam);
        source.source = std::move(bam);
        if (source.name.empty()) source.name = "bam";
      } else if (std::string(kind) == "met") {
        MetSourceSpec met;
        ParseMet(f, met);
        source.source = std::move(met);
        if (source.name.empty()) source.name = "met";
      } else {
        UrlsSourceSpec urls;
        ParseUrls(f, base_dir, urls);
        if (source.name.empty()) {
          source.name = absl::StrCat("urls:", fs::path(urls.file).filename().string());
        }
        source.source = std::move(urls);
      }
      f.Finish();
    }
    outer.Finish();
    if (!errors.ok()) return;
    if (kinds != 1) {
      errors.Fail(entry, path, "each source must be exactly one of: bam, met, urls");
      return;
    }
    if (!names.insert(source.name).second) {
      errors.Fail(entry, path, absl::StrCat("duplicate source name '", source.name,
                                            "' (give each source a distinct name:)"));
      return;
    }
    out.push_back(std::move(source));
  }
}

void ParseCrawl(const YAML::Node& node, YamlErrors& errors, CrawlSpec& crawl) {
  YamlFields f(node, "crawl", errors);
  if (auto resize = f.Child("resize")) {
    YamlFields r(*resize, "crawl.resize", errors);
    std::string mode;
    if (r.String("mode", mode)) {
      if (auto parsed = imaging::ParseResizeMode(mode)) crawl.resize_mode = *parsed;
      else r.FailKey("mode", absl::StrCat("unknown resize mode '", mode,
                                          "' (use keep, shorter_side, longer_side, center_crop)"));
    }
    if (r.Int("size", crawl.resize_size)) r.CheckRange("size", crawl.resize_size, 8, 8192);
    if (r.Int("jpeg_quality", crawl.jpeg_quality)) r.CheckRange("jpeg_quality", crawl.jpeg_quality, 1, 100);
    r.Finish();
  }
  if (auto per_host = f.Child("per_host")) {
    YamlFields p(*per_host, "crawl.per_host", errors);
    if (p.Int("concurrency", crawl.per_host_concurrency)) {
      p.CheckRange("concurrency", crawl.per_host_concurrency, 1, 1024);
    }
    if (p.Double("requests_per_second", crawl.per_host_requests_per_second)) {
      p.CheckRange("requests_per_second", crawl.per_host_requests_per_second, 0.001, 100000);
    }
    p.Finish();
  }
  if (f.Int("retries", crawl.retries)) f.CheckRange("retries", crawl.retries, 0, 100);
  if (f.Double("timeout_s", crawl.timeout_s)) f.CheckRange("timeout_s", crawl.timeout_s, 0.1, 3600);
  if (f.Int("max_bytes", crawl.max_bytes)) f.CheckRange("max_bytes", crawl.max_bytes, 1024, 1e10);
  if (f.Double("lease_ttl_s", crawl.lease_ttl_s)) f.CheckRange("lease_ttl_s", crawl.lease_ttl_s, 1, 86400);
  if (f.Int("max_attempts", crawl.max_attempts)) f.CheckRange("max_attempts", crawl.max_attempts, 1, 1000);
  if (f.Double("seal_interval_s", crawl.seal_interval_s)) {
    f.CheckRange("seal_interval_s", crawl.seal_interval_s, 0.1, 86400);
  }
  if (f.Double("throttle_pause_s", crawl.throttle_pause_s)) {
    f.CheckRange("throttle_pause_s", crawl.throttle_pause_s, 0, 3600);
  }
  f.Bool("allow_private_networks", crawl.allow_private_networks);
  f.StringList("allowed_networks", crawl.allowed_networks);
  if (f.Int("memory_budget_bytes", crawl.memory_budget_bytes)) {
    f.CheckRange("memory_budget_bytes", crawl.memory_budget_bytes, 1 << 20, 1e12);
  }
  if (f.Int("max_image_pixels", crawl.max_image_pixels)) {
    f.CheckRange("max_image_pixels", crawl.max_image_pixels, 1, 1e10);
  }
  f.Finish();
}

}  // namespace

absl::StatusOr<JobSpec> ParseJobSpec(absl::string_view yaml, absl::string_view origin,
                                     const std::string& base_dir) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml, origin));
  YamlErrors errors{std::string(origin)};
  JobSpec spec;
  YamlFields f(root, "", errors);
  f.String("name", spec.name);
  if (f.String("dataset", spec.dataset, /*required=*/true)) {
    if (spec.dataset.empty()) {
      // (fs::absolute("") throws.)
      f.FailKey("dataset", "expected a path, got an empty string");
    } else {
      spec.dataset = Resolve(base_dir, spec.dataset);
      if (!base_dir.empty()) spec.dataset = fs::absolute(spec.dataset).lexically_normal().string();
    }
  }
  if (f.Int("shard_size", spec.shard_size)) f.CheckRange("shard_size", spec.shard_size, 1, 1'000'000);
  if (auto sources = f.Child("sources", /*required=*/true)) {
    ParseSources(*sources, base_dir, errors, spec.sources);
  }
  if (auto crawl = f.Child("crawl")) ParseCrawl(*crawl, errors, spec.crawl);
  f.Finish();
  if (!errors.ok()) return errors.status();
  return spec;
}

absl::StatusOr<JobSpec> LoadJobSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read job spec '", path, "'"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string base_dir = fs::absolute(path).parent_path().string();
  auto spec = ParseJobSpec(buffer.str(), path, base_dir);
  if (spec.ok()) spec->spec_path = fs::absolute(path).string();
  return spec;
}

}  // namespace atelier
