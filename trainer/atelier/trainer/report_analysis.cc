#include "atelier/trainer/report_analysis.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "atelier/trainer/embedding_analysis.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/torch_file.h"

namespace atelier::trainer {

absl::Status AddEmbeddingSections(Classifier& model, const ImageSet& set, const std::vector<int32_t>& targets,
                                  const std::vector<int64_t>& indices, const EmbeddingReportOptions& options,
                                  ReportData* report) {
  const auto& heads = model->config.labels.heads;
  const int nh = static_cast<int>(heads.size());
  if (indices.empty() || nh == 0 || static_cast<int>(report->heads.size()) != nh) return absl::OkStatus();
  std::vector<int64_t> chosen;
  const int64_t n_all = static_cast<int64_t>(indices.size());
  const int64_t take = std::min(n_all, std::max<int64_t>(options.max_samples, 1));
  for (int64_t i = 0; i < take; ++i) chosen.push_back(indices[static_cast<size_t>(i * n_all / take)]);
  const int64_t n = static_cast<int64_t>(chosen.size());

  std::vector<float> features;
  int64_t dim = 0;
  std::vector<std::vector<std::vector<double>>> probabilities(nh);  // [head][sample][class]
  try {
    constexpr int64_t kBatch = 256;
    for (int64_t start = 0; start < n; start += kBatch) {
      const int64_t b = std::min(kBatch, n - start);
      torch::Tensor raw = torch::empty({b, set.image_size, set.image_size, set.channels}, torch::kUInt8);
      for (int64_t i = 0; i < b; ++i) {
        std::memcpy(raw.data_ptr<uint8_t>() + i * set.image_bytes(), set.image(chosen[start + i]), set.image_bytes());
      }
      torch::Tensor f;
      std::vector<std::vector<HeadPrediction>> predicted = HeadPredictions(ClassifyPrepared(model, raw, nullptr, &f));
      dim = f.size(1);
      features.insert(features.end(), f.data_ptr<float>(), f.data_ptr<float>() + b * dim);
      for (int64_t i = 0; i < b; ++i) {
        for (int h = 0; h < nh; ++h) probabilities[h].push_back(std::move(predicted[i][h].probabilities));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("report embeddings: ", TorchErrorMessage(e)));
  }

  auto truth = [&](int64_t s, int h) { return targets[chosen[s] * nh + h]; };
  auto argmax = [](const std::vector<double>& p) {
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  };
  for (int h = 0; h < nh; ++h) {
    std::vector<int> t(n);
    for (int64_t s = 0; s < n; ++s) t[s] = truth(s, h);
    report->heads[h].similarity =
        ClassSimilarity(t, probabilities[h], static_cast<int>(heads[h].classes.size()));
  }
  auto caption = [&](int64_t s) {
    const int t = truth(s, 0);
    return absl::StrCat(set.keys[chosen[s]], " — ", heads[0].name, ": ", t >= 0 ? heads[0].classes[t] : "?",
                        " → predicted ", heads[0].classes[argmax(probabilities[0][s])]);
  };
  const Projection2 map = Pca2(features, n, dim);
  report->map_explained = map.explained;
  for (int64_t s = 0; s < n; ++s) {
    report->map.push_back({map.points[s][0], map.points[s][1], truth(s, 0), caption(s)});
  }
  auto image = [&](int64_t s, bool marked) {
    const uint8_t* px = set.image(chosen[s]);
    return ReportImage{std::vector<uint8_t>(px, px + set.image_bytes()), set.image_size, set.channels, caption(s),
                       marked};
  };
  const int classes = static_cast<int>(heads[0].classes.size());
  for (int c = 0; c < classes && c < options.max_query_classes; ++c) {
    int64_t query = -1;
    for (int64_t s = 0; s < n && query < 0; ++s) {
      if (truth(s, 0) == c) query = s;
    }
    if (query < 0) continue;
    ReportNeighbours row{image(query, false), {}};
    for (int64_t s : NearestByCosine(features, n, dim, query, options.neighbours)) {
      row.neighbours.push_back(image(s, truth(s, 0) != c));
    }
    report->neighbours.push_back(std::move(row));
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
