#include "atelier/trainer/probe.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/trainer/labels.h"

namespace atelier::trainer {
namespace {

struct KeptClasses {
  std::vector<std::string> names, dropped;
  std::vector<int64_t> counts;
  std::vector<int> of;  // per sample: index into names, -1 without a target or left out
  int64_t missing = 0;
};

// The target classes with at least min_class_count samples, sorted.
KeptClasses KeepClasses(const std::vector<ProbeSample>& samples, const ProbeOptions& options) {
  KeptClasses kept;
  std::map<std::string, int64_t> counts;
  for (const ProbeSample& s : samples) {
    if (s.target) {
      ++counts[*s.target];
    } else {
      ++kept.missing;
    }
  }
  std::map<std::string, int> index;
  for (const auto& [name, n] : counts) {
    if (n < options.min_class_count) {
      kept.dropped.push_back(name);
      continue;
    }
    index[name] = static_cast<int>(kept.names.size());
    kept.names.push_back(name);
    kept.counts.push_back(n);
  }
  kept.of.assign(samples.size(), -1);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!samples[i].target) continue;
    auto it = index.find(*samples[i].target);
    if (it != index.end()) kept.of[i] = it->second;
  }
  return kept;
}

// Fold of every sample (-1: not used): see probe.h.
std::vector<int> AssignFolds(const std::vector<ProbeSample>& samples, const std::vector<int>& cls, int classes,
                             int folds, uint64_t seed) {
  std::map<std::string, std::vector<int64_t>> members;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (cls[i] >= 0) members[samples[i].group].push_back(static_cast<int64_t>(i));
  }
  std::vector<std::vector<std::pair<double, const std::string*>>> strata(classes);
  for (const auto& [group, rows] : members) {
    std::vector<int> count(classes, 0);
    for (int64_t r : rows) ++count[cls[r]];
    const int stratum = static_cast<int>(std::max_element(count.begin(), count.end()) - count.begin());
    strata[stratum].push_back({KeyUnit(group, seed), &group});
  }
  std::vector<int> fold(samples.size(), -1);
  int next = 0;
  for (auto& stratum : strata) {
    std::sort(stratum.begin(), stratum.end(),
              [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : *a.second < *b.second; });
    for (const auto& [unit, group] : stratum) {
      for (int64_t r : members[*group]) fold[r] = next;
      next = (next + 1) % folds;
    }
  }
  return fold;
}

// Fits the logistic regression on rows `train` and predicts rows `test`.
std::vector<int> FitAndPredict(const torch::Tensor& x, const torch::Tensor& y, const std::vector<int64_t>& train,
                               const std::vector<int64_t>& test, int classes, const ProbeOptions& options) {
  auto index = [](const std::vector<int64_t>& rows) {
    return torch::tensor(std::vector<int64_t>(rows.begin(), rows.end()), torch::kInt64);
  };
  torch::Tensor xtr = x.index_select(0, index(train));
  torch::Tensor ytr = y.index_select(0, index(train));
  torch::Tensor mean = xtr.mean(0, /*keepdim=*/true);
  torch::Tensor std = xtr.std(0, /*unbiased=*/false, /*keepdim=*/true).clamp_min(1e-8);
  xtr = (xtr - mean) / std;
  torch::Tensor xte = (x.index_select(0, index(test)) - mean) / std;

  const auto f64 = torch::TensorOptions(torch::kFloat64);
  torch::Tensor w = torch::zeros({x.size(1), classes}, f64).requires_grad_(true);
  torch::Tensor b = torch::zeros({classes}, f64).requires_grad_(true);
  torch::optim::LBFGS optimizer({w, b}, torch::optim::LBFGSOptions(1.0)
                                            .max_iter(options.max_iterations)
                                            .line_search_fn("strong_wolfe")
                                            .tolerance_grad(1e-9)
                                            .tolerance_change(1e-12)
                                            .history_size(20));
  auto closure = [&]() -> torch::Tensor {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(torch::addmm(b, xtr, w), ytr) +
                         options.l2 * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  optimizer.step(closure);
  torch::NoGradGuard no_grad;
  torch::Tensor predicted = torch::addmm(b, xte, w).argmax(1).contiguous();
  auto p = predicted.accessor<int64_t, 1>();
  std::vector<int> out(test.size());
  for (size_t i = 0; i < test.size(); ++i) out[i] = static_cast<int>(p[static_cast<int64_t>(i)]);
  return out;
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

std::vector<int> ProbeFolds(const std::vector<ProbeSample>& samples, const ProbeOptions& options) {
  const KeptClasses kept = KeepClasses(samples, options);
  return AssignFolds(samples, kept.of, static_cast<int>(kept.names.size()), options.folds, options.seed);
}

absl::StatusOr<ProbeResult> RunProbe(const NpyMatrix& features, const std::vector<ProbeSample>& samples,
                                     const std::string& field, const ProbeOptions& options) {
  if (features.rows != static_cast<int64_t>(samples.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the features have ", features.rows, " rows but there are ", samples.size(), " row records"));
  }
  if (options.folds < 2) return absl::InvalidArgumentError("--folds must be at least 2");
  ProbeResult result;
  result.field = field;
  const KeptClasses kept = KeepClasses(samples, options);
  result.missing = kept.missing;
  result.dropped_classes = kept.dropped;
  result.classes = kept.names;
  result.class_counts = kept.counts;
  const int classes = static_cast<int>(result.classes.size());
  if (classes < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--target ", field, ": ", classes,
                                                   " class(es) with at least ", options.min_class_count,
                                                   " samples; a probe needs two"));
  }
  const std::vector<int>& cls = kept.of;
  for (int c : cls) result.samples += c >= 0;
  const std::vector<int> fold = AssignFolds(samples, cls, classes, options.folds, options.seed);
  std::vector<std::vector<int64_t>> held(options.folds);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (fold[i] >= 0) held[fold[i]].push_back(static_cast<int64_t>(i));
  }
  for (int f = 0; f < options.folds; ++f) {
    if (held[f].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--target ", field, ": fewer groups with a target than --folds ",
                                                     options.folds, " (a fold would be empty)"));
    }
  }
  torch::Tensor x = torch::from_blob(const_cast<float*>(features.values.data()), {features.rows, features.cols},
                                     torch::kFloat32)
                        .to(torch::kFloat64);
  std::vector<int64_t> y_values(samples.size(), 0);
  for (size_t i = 0; i < samples.size(); ++i) y_values[i] = std::max(cls[i], 0);
  torch::Tensor y = torch::tensor(y_values, torch::kInt64);
  result.confusion = Confusion(classes);
  for (int f = 0; f < options.folds; ++f) {
    std::vector<int64_t> train;
    std::vector<int64_t> majority(classes, 0);
    for (int g = 0; g < options.folds; ++g) {
      if (g == f) continue;
      for (int64_t r : held[g]) {
        train.push_back(r);
        ++majority[cls[r]];
      }
    }
    const int majority_class = static_cast<int>(std::max_element(majority.begin(), majority.end()) - majority.begin());
    const std::vector<int> predicted = FitAndPredict(x, y, train, held[f], classes, options);
    int64_t right = 0, baseline_right = 0;
    for (size_t i = 0; i < held[f].size(); ++i) {
      const int truth = cls[held[f][i]];
      result.confusion.Add(truth, predicted[i]);
      right += predicted[i] == truth;
      baseline_right += majority_class == truth;
    }
    result.fold_accuracy.push_back(double(right) / double(held[f].size()));
    result.fold_baseline.push_back(double(baseline_right) / double(held[f].size()));
  }
  result.accuracy = Mean(result.fold_accuracy);
  double var = 0;
  for (double a : result.fold_accuracy) var += (a - result.accuracy) * (a - result.accuracy);
  result.accuracy_std = std::sqrt(var / double(result.fold_accuracy.size()));
  result.baseline = Mean(result.fold_baseline);
  std::vector<double> recalls;
  for (int c = 0; c < classes; ++c) recalls.push_back(result.confusion.Recall(c));
  result.balanced_accuracy = Mean(recalls);
  return result;
}

nlohmann::json ProbeResult::ToJson() const {
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < classes.size(); ++c) {
    per_class[classes[c]] = {{"samples", class_counts[c]}, {"recall", confusion.Recall(static_cast<int>(c))}};
  }
  return {{"target", field},
          {"samples", samples},
          {"missing", missing},
          {"classes", per_class},
          {"dropped_classes", dropped_classes},
          {"folds", fold_accuracy.size()},
          {"fold_accuracy", fold_accuracy},
          {"accuracy", accuracy},
          {"accuracy_std", accuracy_std},
          {"balanced_accuracy", balanced_accuracy},
          {"majority_baseline", baseline},
          {"confusion", confusion.ToJson(classes)}};
}

std::string ProbeResult::Table() const {
  std::string out = absl::StrFormat(
      "probe %s: %d samples, %d classes, %d-fold grouped cross-validation\n"
      "  accuracy          %.3f ± %.3f\n  balanced accuracy %.3f\n  majority baseline %.3f\n",
      field, samples, classes.size(), fold_accuracy.size(), accuracy, accuracy_std, balanced_accuracy, baseline);
  size_t width = 5;
  for (const auto& c : classes) width = std::max(width, c.size());
  absl::StrAppendFormat(&out, "  %-*s %8s %7s\n", static_cast<int>(width), "class", "samples", "recall");
  for (size_t c = 0; c < classes.size(); ++c) {
    absl::StrAppendFormat(&out, "  %-*s %8d %7.3f\n", static_cast<int>(width), classes[c], class_counts[c],
                          confusion.Recall(static_cast<int>(c)));
  }
  if (missing > 0) absl::StrAppendFormat(&out, "  %d rows without %s (left out)\n", missing, field);
  if (!dropped_classes.empty()) {
    absl::StrAppendFormat(&out, "  %d classes with too few samples left out\n", dropped_classes.size());
  }
  return out;
}

}  // namespace atelier::trainer
