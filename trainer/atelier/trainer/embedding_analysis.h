// What report.html shows of the model's embedding space (the backbone's
// features of the evaluation samples), computed in C++ without LibTorch:
//
//   Pca2            the 2-D principal-component map: the samples projected on
//                   the two leading eigenvectors of the features' covariance
//                   (power iteration with deflation on the centred matrix, never
//                   forming the D x D covariance), with the share of the
//                   variance each explains;
//   NearestByCosine the k nearest samples of a query by cosine similarity;
//   ClassSimilarity per true class i, the mean predicted probability of class j
//                   over its samples: the seed's "France is predicted as UK a
//                   little" as a matrix whose rows sum to 1.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace atelier::trainer {

struct Projection2 {
  std::vector<std::array<double, 2>> points;  // per sample
  std::array<double, 2> explained = {0, 0};   // fraction of the total variance per axis
};

// `x`: n rows of d values, row-major. Deterministic (fixed start vectors);
// each axis's sign is chosen so that its largest-magnitude loading is positive.
Projection2 Pca2(const std::vector<float>& x, int64_t n, int64_t d);

// The k rows of `x` most similar to row `query` by cosine similarity, most
// similar first, never `query` itself (ties: lower row first).
std::vector<int64_t> NearestByCosine(const std::vector<float>& x, int64_t n, int64_t d, int64_t query, int k);

// `truth[s]`: the true class of sample s (-1: unlabelled, ignored);
// `probabilities[s]`: its predicted probability per class. Rows of classes
// without samples are all 0.
std::vector<std::vector<double>> ClassSimilarity(const std::vector<int>& truth,
                                                 const std::vector<std::vector<double>>& probabilities, int classes);

}  // namespace atelier::trainer
