// report.html's charts: the confusion matrix labels its columns (predicted
// classes) as well as its rows, and curve legends sit outside the plot area.
#include "atelier/trainer/report.h"

#include <regex>

#include "atelier/common/status_matchers.h"
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
