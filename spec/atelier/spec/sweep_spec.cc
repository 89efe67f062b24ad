#include "atelier/spec/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/env.h"
#include "atelier/common/status_macros.h"
#include "atelier/spec/yaml_fields.h"

namespace fs = std::filesystem;

namespace atelier {
namespace {

// Flags the sweep itself sets for every trial: the spec may not.
const std::set<std::string>& ManagedFlags() {
  static const std::set<std::string> flags = {"data", "out", "epochs", "resume", "override", "help", "version"};
  return flags;
}

bool ValidFlagName(const std::string& name) {
  if (name.empty() || name[0] == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

void CheckFlagName(const YAML::Node& at, const std::string& path, const std::string& name, YamlErrors& errors) {
  if (!ValidFlagName(name)) {
    errors.Fail(at, path, "expected an `atelier train` flag name without dashes (a-z, 0-9, '-')");
  } else if (ManagedFlags().count(name)) {
    errors.Fail(at, path, absl::StrCat("--", name, " is set by the sweep for every trial; remove it"));
  }
}

// A pair [lo, hi] of numbers with lo < hi.
bool NumberPair(const YAML::Node& n, const std::string& path, YamlErrors& errors, double& lo, double& hi) {
  if (!n.IsSequence() || n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar() ||
      !absl::SimpleAtod(n[0].Scalar(), &lo) || !absl::SimpleAtod(n[1].Scalar(), &hi) || !std::isfinite(lo) ||
      !std::isfinite(hi)) {
    errors.Fail(n, path, absl::StrCat("expected two numbers [lo, hi], got ", DescribeYaml(n)));
    return false;
  }
  if (!(lo < hi)) {
    errors.Fail(n, path, "expected lo < hi");
    return false;
  }
  return true;
}

void ParseParameter(const std::string& name, const YAML::Node& node, const std::string& path, YamlErrors& errors,
                    SweepParameter& p) {
  p.name = name;
  YamlFields f(node, path, errors);
  if (!errors.ok()) return;
  int kinds = 0;
  for (const char* k : {"choices", "uniform", "log_uniform", "int"}) kinds += f.Has(k) ? 1 : 0;
  if (kinds != 1) {
    errors.Fail(node, path, "expected exactly one of choices, uniform, log_uniform, int");
    return;
  }
  // The kind's value; a null one (`{uniform: }`) is an error, not an empty range.
  auto value = [&](const char* key) -> std::optional<YAML::Node> {
    std::optional<YAML::Node> n = f.Child(key);
    if (!n && errors.ok()) f.FailKey(key, "expected a value, got null");
    return n;
  };
  if (f.Has("choices")) {
    p.kind = SweepParameter::Kind::kChoices;
    if (!value("choices")) return;
    if (f.StringList("choices", p.choices) && p.choices.empty()) f.FailKey("choices", "expected at least one value");
    std::set<std::string> seen;
    for (const auto& c : p.choices) {
      if (!seen.insert(c).second) f.FailKey("choices", absl::StrCat("value '", c, "' is listed twice"));
    }
  } else if (f.Has("uniform")) {
    p.kind = SweepParameter::Kind::kUniform;
    if (auto n = value("uniform")) NumberPair(*n, f.PathOf("uniform"), errors, p.lo, p.hi);
  } else if (f.Has("log_uniform")) {
    p.kind = SweepParameter::Kind::kLogUniform;
    auto n = value("log_uniform");
    if (n && NumberPair(*n, f.PathOf("log_uniform"), errors, p.lo, p.hi) && p.lo <= 0) {
      f.FailKey("log_uniform", "expected lo > 0");
    }
  } else {
    p.kind = SweepParameter::Kind::kInt;
    double lo = 0, hi = 0;
    auto n = value("int");
    if (n && NumberPair(*n, f.PathOf("int"), errors, lo, hi)) {
      // Beyond 2^53 a double holds no exact integer (and beyond int64 the cast is undefined).
      constexpr double kMaxInt = 9007199254740992.0;  // 2^53
      if (lo != std::floor(lo) || hi != std::floor(hi)) {
        f.FailKey("int", "expected two integers [lo, hi]");
      } else if (lo < -kMaxInt || hi > kMaxInt) {
        f.FailKey("int", "expected two integers [lo, hi] of at most 2^53 in magnitude");
      } else {
        p.int_lo = static_cast<int64_t>(lo);
        p.int_hi = static_cast<int64_t>(hi);
      }
    }
  }
  f.Finish();
}

void ParseMetric(YamlFields& f, SweepSpec& spec) {
  std::string metric = spec.metric.name;
  bool given = f.String("metric", metric);
  const size_t colon = metric.find(':');
  spec.metric.name = metric.substr(0, colon);
  spec.metric.head = colon == std::string::npos ? "" : metric.substr(colon + 1);
  if (spec.metric.name != "val_accuracy" && spec.metric.name != "val_loss") {
    f.FailKey("metric", absl::StrCat("expected val_accuracy or val_loss, optionally :HEAD, got '", metric, "'"));
  } else if (given && colon != std::string::npos && spec.metric.head.empty()) {
    f.FailKey("metric", "expected a head name after ':'");
  }
  spec.metric.mode = spec.metric.name == "val_loss" ? MetricMode::kMin : MetricMode::kMax;
  std::string mode;
  if (f.String("mode", mode)) {
    if (mode == "max") {
      spec.metric.mode = MetricMode::kMax;
    } else if (mode == "min") {
      spec.metric.mode = MetricMode::kMin;
    } else {
      f.FailKey("mode", absl::StrCat("expected max or min, got '", mode, "'"));
    }
  }
}

uint64_t GridSize(const std::vector<SweepParameter>& parameters) {
  uint64_t size = 1;
  for (const auto& p : parameters) {
    const uint64_t n = p.kind == SweepParameter::Kind::kChoices ? p.choices.size()
                                                                  : static_cast<uint64_t>(p.int_hi - p.int_lo + 1);
    size = size > (uint64_t{1} << 40) / std::max<uint64_t>(n, 1) ? (uint64_t{1} << 40) : size * n;
  }
  return size;
}

}  // namespace

absl::StatusOr<SweepSpec> ParseSweepSpec(absl::string_view yaml, absl::string_view origin,
                                         const std::string& base_dir) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml, origin));
  YamlErrors errors{std::string(origin)};
  SweepSpec spec;
  spec.origin = std::string(origin);
  YamlFields f(root, "", errors);
  if (f.String("data", spec.data, /*required=*/true) && !base_dir.empty() && fs::path(spec.data).is_relative()) {
    spec.data = (fs::path(base_dir) / spec.data).lexically_normal().string();
  }
  if (f.Int("epochs", spec.epochs, /*required=*/true)) f.CheckRange("epochs", spec.epochs, 1, 100000);
  if (auto train = f.Child("train")) {
    YamlFields t(*train, "train", errors);
    if (errors.ok()) {
      for (const auto& kv : *train) {
        const std::string name = kv.first.Scalar();
        const std::string path = t.PathOf(name);
        CheckFlagName(kv.first, path, name, errors);
        if (!kv.second.IsScalar()) {
          errors.Fail(kv.second, path, absl::StrCat("expected a value, got ", DescribeYaml(kv.second)));
        }
        if (!errors.ok()) break;
        if (kv.second.Scalar() != "false") spec.train_flags.emplace_back(name, kv.second.Scalar());
      }
    }
  }
  if (auto params = f.Child("parameters", /*required=*/true)) {
    YamlFields p(*params, "parameters", errors);
    if (errors.ok() && params->size() == 0) errors.Fail(*params, "parameters", "expected at least one parameter");
    if (errors.ok()) {
      for (const auto& kv : *params) {
        const std::string name = kv.first.Scalar();
        const std::string path = p.PathOf(name);
        CheckFlagName(kv.first, path, name, errors);
        for (const auto& [flag, value] : spec.train_flags) {
          if (flag == name) errors.Fail(kv.first, path, "is also a fixed flag under train; keep one");
        }
        if (!errors.ok()) break;
        ParseParameter(name, kv.second, path, errors, spec.parameters.emplace_back());
        if (!errors.ok()) break;
      }
    }
  }
  std::string sampler = "random";
  if (f.String("sampler", sampler)) {
    if (sampler == "random") {
      spec.sampler = SweepSampler::kRandom;
    } else if (sampler == "grid") {
      spec.sampler = SweepSampler::kGrid;
    } else {
      f.FailKey("sampler", absl::StrCat("expected random or grid, got '", sampler, "'"));
    }
  }
  int64_t seed = 1;
  if (f.Int("seed", seed)) {
    f.CheckRange("seed", static_cast<double>(seed), 0, 9.0e15);
    spec.seed = static_cast<uint64_t>(seed);
  }
  if (f.Int("trials", spec.trials, /*required=*/spec.sampler == SweepSampler::kRandom)) {
    f.CheckRange("trials", spec.trials, 1, 9999);
  }
  if (f.Int("parallel", spec.parallel)) f.CheckRange("parallel", spec.parallel, 1, 256);
  ParseMetric(f, spec);
  if (auto asha = f.Child("asha")) {
    YamlFields a(*asha, "asha", errors);
    AshaSettings settings;
    if (a.Int("min_epochs", settings.min_epochs)) a.CheckRange("min_epochs", settings.min_epochs, 1, spec.epochs);
    if (a.Int("eta", settings.eta)) a.CheckRange("eta", settings.eta, 2, 100);
    a.Finish();
    spec.asha = settings;
  }
  f.Finish();
  const YAML::Node& doc = root;  // const: lookups below must not add keys
  if (errors.ok() && spec.sampler == SweepSampler::kGrid) {
    for (const auto& p : spec.parameters) {
      if (p.kind == SweepParameter::Kind::kUniform || p.kind == SweepParameter::Kind::kLogUniform) {
        errors.Fail(doc["parameters"][p.name], absl::StrCat("parameters.", p.name),
                    "sampler grid needs choices or int ranges (list the values under choices)");
        break;
      }
    }
    const uint64_t size = errors.ok() ? GridSize(spec.parameters) : 0;
    if (errors.ok() && spec.trials == 0) {
      if (size > 9999) {
        errors.Fail(doc["parameters"], "parameters", absl::StrCat("the grid has ", size, " points (at most 9999)"));
      } else {
        spec.trials = static_cast<int>(size);
      }
    } else if (errors.ok() && static_cast<uint64_t>(spec.trials) > size) {
      errors.Fail(doc["trials"], "trials", absl::StrCat("the grid has only ", size, " points"));
    }
  }
  if (!errors.ok()) return errors.status();
  return spec;
}

absl::StatusOr<SweepSpec> LoadSweepSpec(const std::string& path) {
  ASSIGN_OR_RETURN(std::string yaml, Env::Default()->ReadFile(path));
  return ParseSweepSpec(yaml, path, fs::absolute(path).parent_path().string());
}

}  // namespace atelier
