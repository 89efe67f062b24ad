#include "atelier/spec/yaml_fields.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace atelier {

void YamlErrors::Fail(const YAML::Node& at, const std::string& path, const std::string& message) {
  FailAtLine(at.IsDefined() ? at.Mark().line + 1 : 0, path, message);
}

void YamlErrors::FailAtLine(int line, const std::string& path, const std::string& message) {
  if (!status_.ok()) return;
  std::string where = line > 0 ? absl::StrCat(origin_, ":", line) : origin_;
  status_ = absl::InvalidArgumentError(
      path.empty() ? absl::StrCat(where, ": ", message) : absl::StrCat(where, ": ", path, ": ", message));
}

absl::StatusOr<YAML::Node> LoadYamlDocument(absl::string_view yaml, absl::string_view origin) {
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
}

std::string DescribeYaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return absl::StrCat("'", node.Scalar(), "'");
}

namespace {

// Records an error for a key that appears twice in the map `node` (YAML
// forbids it; yaml-cpp keeps both and lookups see only the first).
void CheckDuplicateKeys(const YAML::Node& node, const std::string& path, YamlErrors& errors) {
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string& key = kv.first.Scalar();
    const int line = kv.first.Mark().line + 1;
    auto [it, inserted] = first_line.emplace(key, line);
    if (!inserted) {
      errors.FailAtLine(line, path.empty() ? key : absl::StrCat(path, ".", key),
                        absl::StrCat("duplicate key (first at line ", it->second, ")"));
      return;
    }
  }
}

}  // namespace

YamlFields::YamlFields(const YAML::Node& node, std::string path, YamlErrors& errors)
    : node_(node), path_(std::move(path)), errors_(errors) {
  if (!node_.IsMap()) {
    errors_.Fail(node_, path_.empty() ? "document" : path_,
                 absl::StrCat("expected a map of keys, got ", DescribeYaml(node_)));
    return;
  }
  CheckDuplicateKeys(node_, path_, errors_);
}

std::string YamlFields::PathOf(const std::string& key) const {
  return path_.empty() ? key : absl::StrCat(path_, ".", key);
}

bool YamlFields::Has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined();
}

std::optional<YAML::Node> YamlFields::Get(const std::string& key, bool required) {
  known_.insert(key);
  if (!errors_.ok() || !node_.IsMap()) return std::nullopt;
  YAML::Node child = node_[key];
  if (!child.IsDefined() || child.IsNull()) {
    if (required) errors_.Fail(node_, PathOf(key), "required key is missing");
    return std::nullopt;
  }
  return child;
}

std::optional<YAML::Node> YamlFields::Child(const std::string& key, bool required) {
  return Get(key, required);
}

bool YamlFields::String(const std::string& key, std::string& out, bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  if (!n->IsScalar()) {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected a string, got ", DescribeYaml(*n)));
    return false;
  }
  out = n->Scalar();
  return true;
}

bool YamlFields::Int(const std::string& key, int64_t& out, bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  int64_t v;
  if (!n->IsScalar() || !absl::SimpleAtoi(n->Scalar(), &v)) {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected an integer, got ", DescribeYaml(*n)));
    return false;
  }
  out = v;
  return true;
}

bool YamlFields::Int(const std::string& key, int& out, bool required) {
  int64_t v = out;
  if (!Int(key, v, required)) return false;
  if (v < INT32_MIN || v > INT32_MAX) {
    errors_.Fail(node_[key], PathOf(key), absl::StrCat("integer ", v, " is out of range"));
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool YamlFields::Double(const std::string& key, double& out, bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  double v;
  if (!n->IsScalar() || !absl::SimpleAtod(n->Scalar(), &v) || !std::isfinite(v)) {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected a number, got ", DescribeYaml(*n)));
    return false;
  }
  out = v;
  return true;
}

bool YamlFields::Bool(const std::string& key, bool& out, bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  const std::string s = n->IsScalar() ? n->Scalar() : "";
  if (s == "true" || s == "True" || s == "yes") {
    out = true;
  } else if (s == "false" || s == "False" || s == "no") {
    out = false;
  } else {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected true or false, got ", DescribeYaml(*n)));
    return false;
  }
  return true;
}

bool YamlFields::StringList(const std::string& key, std::vector<std::string>& out, bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  std::vector<std::string> values;
  if (n->IsScalar()) {
    values.push_back(n->Scalar());
  } else if (n->IsSequence()) {
    for (std::size_t i = 0; i < n->size(); ++i) {
      const YAML::Node item = (*n)[i];
      if (!item.IsScalar()) {
        errors_.Fail(item, absl::StrCat(PathOf(key), "[", i, "]"),
                     absl::StrCat("expected a string, got ", DescribeYaml(item)));
        return false;
      }
      values.push_back(item.Scalar());
    }
  } else {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected a list of strings, got ", DescribeYaml(*n)));
    return false;
  }
  out = std::move(values);
  return true;
}

bool YamlFields::StringMap(const std::string& key, std::map<std::string, std::string>& out,
                           bool required) {
  auto n = Get(key, required);
  if (!n) return false;
  if (!n->IsMap()) {
    errors_.Fail(*n, PathOf(key), absl::StrCat("expected a map, got ", DescribeYaml(*n)));
    return false;
  }
  CheckDuplicateKeys(*n, PathOf(key), errors_);
  if (!errors_.ok()) return false;
  std::map<std::string, std::string> values;
  for (const auto& kv : *n) {
    const std::string k = kv.first.Scalar();
    if (!kv.second.IsScalar()) {
      errors_.Fail(kv.second, absl::StrCat(PathOf(key), ".", k),
                   absl::StrCat("expected a string, got ", DescribeYaml(kv.second)));
      return false;
    }
    values[k] = kv.second.Scalar();
  }
  out = std::move(values);
  return true;
}

void YamlFields::CheckRange(const std::string& key, double value, double lo, double hi) {
  if (!errors_.ok() || (value >= lo && value <= hi)) return;
  FailKey(key, absl::StrCat("value ", value, " is out of range [", lo, ", ", hi, "]"));
}

void YamlFields::FailKey(const std::string& key, const std::string& message) {
  YAML::Node n = node_.IsMap() ? node_[key] : node_;
  errors_.Fail(n.IsDefined() ? n : node_, PathOf(key), message);
}

void YamlFields::Finish(const std::vector<std::string>& extra_allowed) {
  if (!errors_.ok() || !node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string k = kv.first.Scalar();
    if (known_.count(k)) continue;
    if (std::find(extra_allowed.begin(), extra_allowed.end(), k) != extra_allowed.end()) continue;
    std::vector<std::string> allowed(known_.begin(), known_.end());
    allowed.insert(allowed.end(), extra_allowed.begin(), extra_allowed.end());
    errors_.Fail(kv.first, PathOf(k),
                 absl::StrCat("unknown key (allowed here: ", absl::StrJoin(allowed, ", "), ")"));
    return;
  }
}

}  // namespace atelier
