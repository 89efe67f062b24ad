// YamlFields: typed, validating access to one YAML mapping, for config loaders.
//
// Every accessor records the key as known; Finish() then rejects any key that
// was never asked for. All errors name the origin (file), the 1-based line and
// the dotted key path: "job.yaml:7: crawl.retries: expected an integer, got 'x'".
// The first error is kept; later calls are no-ops returning defaults.
//
// Not thread-safe; a YamlFields lives for one parse.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace atelier {

class YamlErrors {
 public:
  explicit YamlErrors(std::string origin) : origin_(std::move(origin)) {}
  void Fail(const YAML::Node& at, const std::string& path, const std::string& message);
  void FailAtLine(int line, const std::string& path, const std::string& message);
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  absl::Status status_;
};

class YamlFields {
 public:
  // `node` must be a map (else an error is recorded); `path` is its dotted path
  // ("" for the document root).
  YamlFields(const YAML::Node& node, std::string path, YamlErrors& errors);

  bool Has(const std::string& key) const;
  // Each returns true when the key is present and valid, leaving `out` alone
  // when it is absent. `required` records an error when absent.
  bool String(const std::string& key, std::string& out, bool required = false);
  bool Int(const std::string& key, int64_t& out, bool required = false);
  bool Int(const std::string& key, int& out, bool required = false);
  bool Double(const std::string& key, double& out, bool required = false);
  bool Bool(const std::string& key, bool& out, bool required = false);
  bool StringList(const std::string& key, std::vector<std::string>& out, bool required = false);
  bool StringMap(const std::string& key, std::map<std::string, std::string>& out,
                 bool required = false);
  // Raw child access for nested maps/sequences; marks the key known.
  std::optional<YAML::Node> Child(const std::string& key, bool required = false);

  // Range checks on a value that was read; record an error at the key's line.
  void CheckRange(const std::string& key, double value, double lo, double hi);
  void FailKey(const std::string& key, const std::string& message);

  // Records an error for every key that no accessor asked for.
  void Finish(const std::vector<std::string>& extra_allowed = {});

  std::string PathOf(const std::string& key) const;
  const YAML::Node& node() const { return node_; }
  YamlErrors& errors() { return errors_; }

 private:
  std::optional<YAML::Node> Get(const std::string& key, bool required);

  YAML::Node node_;
  std::string path_;
  YamlErrors& errors_;
  std::set<std::string> known_;
};

// The document in `yaml`; a syntax error is InvalidArgument
// "<origin>:<line>: invalid YAML: ...".
absl::StatusOr<YAML::Node> LoadYamlDocument(absl::string_view yaml, absl::string_view origin);

// Scalar to text for messages ("'four'", "a map", "a list").
std::string DescribeYaml(const YAML::Node& node);

}  // namespace atelier
