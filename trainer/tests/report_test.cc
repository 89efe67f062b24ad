// report.html's charts: the confusion matrix labels its columns (predicted
// classes) as well as its rows, and curve legends sit outside the plot area.
#include "atelier/trainer/report.h"

#include <cmath>
#include <regex>

#include "atelier/common/status_matchers.h"
#include "atelier/trainer/embedding_analysis.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

ReportData ThreeClassReport() {
  ReportData data;
  data.title = "t";
  data.eval_split = "val";
  ReportHead head;
  head.name = "animal";
  head.classes = {"cat", "dog", "owl"};
  head.confusion = Confusion(3);
  head.confusion.Add(0, 0);
  head.confusion.Add(1, 2);
  data.heads.push_back(head);
  for (int e = 1; e <= 4; ++e) {  // accuracy rising to 1.0 in the last epoch, top right
    EpochRecord r;
    r.epoch = e;
    r.train["animal"] = {1.0 / e, e / 4.0};
    data.history.push_back(r);
  }
  return data;
}

TEST(ReportTest, ConfusionMatrixLabelsEveryPredictedClassColumn) {
  ASSERT_OK_AND_ASSIGN(std::string html, RenderReport(ThreeClassReport()));
  for (const char* name : {"cat", "dog", "owl"}) {
    EXPECT_THAT(html, ::testing::HasSubstr(std::string("column-label'>") + name + "</text>")) << name;
  }
}

TEST(ReportTest, LegendsStayRightOfEveryCurvePoint) {
  ASSERT_OK_AND_ASSIGN(std::string html, RenderReport(ThreeClassReport()));
  const std::regex chart("<svg[^>]*class='chart'>.*?</svg>");
  const std::regex points("points='([^']*)'");
  const std::regex legend("<text x='(\\d+)'[^>]*class='tick legend'>");
  int charts = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), chart); it != std::sregex_iterator(); ++it) {
    const std::string svg = it->str();
    double max_x = 0;
    for (auto p = std::sregex_iterator(svg.begin(), svg.end(), points); p != std::sregex_iterator(); ++p) {
      const std::string list = (*p)[1];
      const std::regex xy("([0-9.]+),[0-9.]+");
      for (auto q = std::sregex_iterator(list.begin(), list.end(), xy); q != std::sregex_iterator(); ++q) {
        max_x = std::max(max_x, std::stod((*q)[1]));
      }
    }
    for (auto l = std::sregex_iterator(svg.begin(), svg.end(), legend); l != std::sregex_iterator(); ++l) {
      ++charts;
      EXPECT_GT(std::stod((*l)[1]), max_x) << svg;
    }
  }
  EXPECT_GE(charts, 4);  // loss and accuracy charts, two series each
}

}  // namespace
}  // namespace atelier::trainer

namespace atelier::trainer {
namespace {

int64_t Count(const std::string& text, const std::string& needle) {
  int64_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(ReportTest, EmbeddingSectionsShowEveryPointTheSimilarityAndTheNeighbours) {
  ReportData data = ThreeClassReport();
  data.heads[0].similarity = {{0.7, 0.2, 0.1}, {0.25, 0.75, 0}, {0, 0, 0}};
  for (int i = 0; i < 9; ++i) data.map.push_back({double(i), double(i % 3), i % 3, "k<" + std::to_string(i)});
  data.map_explained = {0.6, 0.25};
  ReportImage image{std::vector<uint8_t>(4 * 4 * 3, 100), 4, 3, "q", false};
  data.neighbours.push_back({image, {image, image}});
  data.neighbours[0].neighbours[1].misclassified = true;
  ASSERT_OK_AND_ASSIGN(std::string html, RenderReport(data));
  EXPECT_EQ(Count(html, "class='point'"), 9);
  EXPECT_THAT(html, ::testing::HasSubstr("k&lt;3"));  // captions are escaped
  EXPECT_THAT(html, ::testing::HasSubstr("PC1 60% of the variance, PC2 25%"));
  EXPECT_EQ(Count(html, "class='similarity'"), 9);
  EXPECT_THAT(html, ::testing::HasSubstr("<title>dog &#8594; cat: 0.250</title>"));
  EXPECT_EQ(Count(html, "class='query'"), 1);
  EXPECT_EQ(Count(html, "<figure class='wrong'"), 1);
}

TEST(ReportTest, EmptyEmbeddingSectionsAreLeftOut) {
  ASSERT_OK_AND_ASSIGN(std::string html, RenderReport(ThreeClassReport()));
  EXPECT_EQ(Count(html, "embedding-map"), 0);
  EXPECT_EQ(Count(html, "class='similarity'"), 0);
  EXPECT_EQ(Count(html, "Nearest neighbours"), 0);
}

TEST(EmbeddingAnalysisTest, PcaFindsTheAxesOfLargestVariance) {
  // 3-D points spread mostly along (1, 1, 0), less along (0, 0, 1), barely along (1, -1, 0).
  std::vector<float> x;
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    const double a = (i % 20) - 9.5, b = ((i / 20) % 10) - 4.5, c = (i % 3) - 1.0;
    x.push_back(static_cast<float>(a + 0.05 * c + 5));
    x.push_back(static_cast<float>(a - 0.05 * c - 2));
    x.push_back(static_cast<float>(b));
  }
  const Projection2 p = Pca2(x, n, 3);
  ASSERT_EQ(p.points.size(), size_t(n));
  double var_a = 0, var_b = 0;
  for (int i = 0; i < n; ++i) {
    const double a = (i % 20) - 9.5, b = ((i / 20) % 10) - 4.5;
    // PC1 is (a, a, 0) / |.| = a * sqrt(2); PC2 is b (up to the tiny third axis).
    EXPECT_NEAR(p.points[i][0], a * std::sqrt(2.0), 0.05) << i;
    EXPECT_NEAR(p.points[i][1], b, 0.05) << i;
    var_a += 2 * a * a;
    var_b += b * b;
  }
  EXPECT_NEAR(p.explained[0], var_a / (var_a + var_b), 0.01);
  EXPECT_NEAR(p.explained[0] + p.explained[1], 1.0, 0.01);
}

TEST(EmbeddingAnalysisTest, NearestByCosineRanksByAngleAndSkipsTheQuery) {
  const std::vector<float> x = {1, 0,  10, 1,  0, 1,  -1, 0,  1, 0.5f};
  EXPECT_EQ(NearestByCosine(x, 5, 2, 0, 3), (std::vector<int64_t>{1, 4, 2}));
  EXPECT_EQ(NearestByCosine(x, 5, 2, 0, 10).size(), 4u);
}

TEST(EmbeddingAnalysisTest, ClassSimilarityIsTheMeanPredictedProbabilityPerTrueClass) {
  const std::vector<int> truth = {0, 0, 1, -1};
  const std::vector<std::vector<double>> p = {{0.8, 0.2, 0}, {0.6, 0.4, 0}, {0.1, 0.3, 0.6}, {0, 0, 1}};
  const auto s = ClassSimilarity(truth, p, 3);
  EXPECT_NEAR(s[0][0], 0.7, 1e-12);
  EXPECT_NEAR(s[0][1], 0.3, 1e-12);
  EXPECT_NEAR(s[1][2], 0.6, 1e-12);
  EXPECT_EQ(s[2], (std::vector<double>{0, 0, 0}));  // no samples
}

}  // namespace
}  // namespace atelier::trainer
