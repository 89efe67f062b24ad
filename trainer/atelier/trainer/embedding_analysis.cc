#include "atelier/trainer/embedding_analysis.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace atelier::trainer {
namespace {

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void Normalise(std::vector<double>& v) {
  const double norm = std::sqrt(Dot(v, v));
  if (norm > 0) {
    for (double& x : v) x /= norm;
  }
}

}  // namespace

Projection2 Pca2(const std::vector<float>& x, int64_t n, int64_t d) {
  Projection2 out;
  out.points.assign(n, {0, 0});
  if (n < 2 || d < 1) return out;
  std::vector<double> mean(d, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mean[j] += x[i * d + j];
  for (double& m : mean) m /= double(n);
  std::vector<double> c(size_t(n) * d);  // centred
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      c[i * d + j] = x[i * d + j] - mean[j];
      total += c[i * d + j] * c[i * d + j];
    }
  // Covariance (times n) applied to v: C^T (C v).
  auto apply = [&](const std::vector<double>& v) {
    std::vector<double> cv(n, 0), out_v(d, 0);
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += c[i * d + j] * v[j];
      cv[i] = s;
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) out_v[j] += c[i * d + j] * cv[i];
    return out_v;
  };
  std::vector<std::vector<double>> axes;
  for (int axis = 0; axis < 2 && axis < d; ++axis) {
    std::vector<double> v(d);
    for (int64_t j = 0; j < d; ++j) v[j] = 1.0 + 0.01 * double((j * 7919 + axis * 104729) % 101);
    Normalise(v);
    double eigen = 0;
    for (int iteration = 0; iteration < 500; ++iteration) {
      std::vector<double> w = apply(v);
      for (const auto& a : axes) {  // deflation: stay orthogonal to the axes found
        const double p = Dot(w, a);
        for (int64_t j = 0; j < d; ++j) w[j] -= p * a[j];
      }
      const double norm = std::sqrt(Dot(w, w));
      if (norm == 0) break;
      for (double& value : w) value /= norm;
      const double change = 1 - std::abs(Dot(w, v));
      v = std::move(w);
      eigen = norm;
      if (change < 1e-12) break;
    }
    const auto largest = std::max_element(v.begin(), v.end(), [](double a, double b) { return std::abs(a) < std::abs(b); });
    if (*largest < 0) {
      for (double& value : v) value = -value;
    }
    out.explained[axis] = total > 0 ? eigen / total : 0;
    axes.push_back(std::move(v));
  }
  for (int64_t i = 0; i < n; ++i) {
    for (size_t a = 0; a < axes.size(); ++a) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += c[i * d + j] * axes[a][j];
      out.points[i][a] = s;
    }
  }
  return out;
}

std::vector<int64_t> NearestByCosine(const std::vector<float>& x, int64_t n, int64_t d, int64_t query, int k) {
  auto norm = [&](int64_t r) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += double(x[r * d + j]) * x[r * d + j];
    return std::sqrt(s);
  };
  const double qn = norm(query);
  std::vector<std::pair<double, int64_t>> scored;
  for (int64_t r = 0; r < n; ++r) {
    if (r == query) continue;
    double dot = 0;
    for (int64_t j = 0; j < d; ++j) dot += double(x[query * d + j]) * x[r * d + j];
    const double denominator = qn * norm(r);
    scored.push_back({denominator > 0 ? dot / denominator : -2.0, r});
  }
  const size_t take = std::min<size_t>(scored.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(take), scored.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<int64_t> out;
  for (size_t i = 0; i < take; ++i) out.push_back(scored[i].second);
  return out;
}

std::vector<std::vector<double>> ClassSimilarity(const std::vector<int>& truth,
                                                 const std::vector<std::vector<double>>& probabilities, int classes) {
  std::vector<std::vector<double>> sum(classes, std::vector<double>(classes, 0));
  std::vector<int64_t> count(classes, 0);
  for (size_t s = 0; s < truth.size() && s < probabilities.size(); ++s) {
    const int t = truth[s];
    if (t < 0 || t >= classes) continue;
    ++count[t];
    for (int j = 0; j < classes && j < static_cast<int>(probabilities[s].size()); ++j) sum[t][j] += probabilities[s][j];
  }
  for (int t = 0; t < classes; ++t) {
    if (count[t] == 0) continue;
    for (double& v : sum[t]) v /= double(count[t]);
  }
  return sum;
}

}  // namespace atelier::trainer
