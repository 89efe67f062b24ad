#include "atelier/trainer/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/html_escape.h"
#include "atelier/common/line_chart.h"
#include "atelier/common/status_macros.h"
#include "atelier/imaging/image.h"

namespace atelier::trainer {
namespace {

std::string ConfusionSvg(const ReportHead& head) {
  const int k = static_cast<int>(head.classes.size());
  const int cell = std::max(14, std::min(40, 480 / std::max(1, k)));
  const int label = 120;
  const int size = label + cell * k + 10;
  int64_t max_count = 1;
  for (const auto& row : head.confusion.counts)
    for (int64_t v : row) max_count = std::max(max_count, v);
  std::string svg = absl::StrFormat("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart'>",
                                    size, size + 20);
  absl::StrAppendFormat(&svg, "<text x='%d' y='12' class='tick'>predicted &#8594;</text>", label);
  for (int p = 0; p < k; ++p) {  // column labels: the predicted class, slanted above its column
    absl::StrAppendFormat(&svg,
                          "<text transform='translate(%d,%d) rotate(-55)' class='tick column-label'>%s</text>",
                          label + p * cell + cell / 2 + 3, label - 4, HtmlEscape(head.classes[p].substr(0, 18)));
  }
  for (int t = 0; t < k; ++t) {
    absl::StrAppendFormat(&svg, "<text x='2' y='%d' class='tick'>%s</text>", label + t * cell + cell / 2 + 4,
                          HtmlEscape(head.classes[t].substr(0, 18)));
    for (int p = 0; p < k; ++p) {
      int64_t v = head.confusion.counts[t][p];
      double a = double(v) / double(max_count);
      absl::StrAppendFormat(&svg,
                            "<rect x='%d' y='%d' width='%d' height='%d' fill='%s' fill-opacity='%.3f' stroke='#ddd'>"
                            "<title>%s &#8594; %s: %d</title></rect>",
                            label + p * cell, label + t * cell, cell, cell, t == p ? "#2ca02c" : "#d62728",
                            0.08 + 0.92 * a, HtmlEscape(head.classes[t]), HtmlEscape(head.classes[p]), v);
      if (cell >= 24) {
        absl::StrAppendFormat(&svg, "<text x='%d' y='%d' class='cell'>%d</text>", label + p * cell + 3,
                              label + t * cell + cell / 2 + 4, v);
      }
    }
  }
  return svg + "</svg>";
}

std::string PrecisionRecallSvg(const ReportHead& head) {
  const int k = static_cast<int>(head.classes.size());
  const int row = 18, label = 120, bar = 300;
  std::string svg = absl::StrFormat("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart'>",
                                    label + bar + 60, row * k + 30);
  absl::StrAppendFormat(&svg,
                        "<text x='%d' y='12' class='tick' fill='#1f77b4'>precision</text>"
                        "<text x='%d' y='12' class='tick' fill='#ff7f0e'>recall</text>",
                        label, label + 80);
  for (int c = 0; c < k; ++c) {
    double p = head.confusion.Precision(c), r = head.confusion.Recall(c);
    int y = 20 + c * row;
    absl::StrAppendFormat(&svg,
                          "<text x='2' y='%d' class='tick'>%s</text>"
                          "<rect x='%d' y='%d' width='%.1f' height='7' fill='#1f77b4'><title>precision %.3f</title></rect>"
                          "<rect x='%d' y='%d' width='%.1f' height='7' fill='#ff7f0e'><title>recall %.3f</title></rect>"
                          "<text x='%d' y='%d' class='tick'>%.2f / %.2f</text>",
                          y + 12, HtmlEscape(head.classes[c].substr(0, 18)), label, y + 2, p * bar, p, label, y + 9,
                          r * bar, r, label + bar + 4, y + 12, p, r);
  }
  return svg + "</svg>";
}

}  // namespace

absl::StatusOr<std::string> RenderReport(const ReportData& data) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>", HtmlEscape(data.title),
      "</title><style>body{font-family:sans-serif;margin:20px}.chart{margin:6px;border:1px solid #eee}"
      ".title{font-size:14px;font-weight:bold}.tick{font-size:11px}.cell{font-size:10px}"
      ".gallery figure{display:inline-block;margin:4px;width:140px;font-size:10px;vertical-align:top}"
      ".gallery img{width:128px;height:128px;image-rendering:pixelated}.wrong{outline:3px solid #d62728}"
      "</style></head><body><h1>",
      HtmlEscape(data.title), "</h1>");
  const int epochs = static_cast<int>(data.history.size());
  absl::StrAppend(&html, "<h2>Training curves</h2>");
  for (const auto& head : data.heads) {
    ChartSeries tl{"train loss", {}}, vl{"val loss", {}, true}, ta{"train acc", {}}, va{"val acc", {}, true};
    for (const auto& r : data.history) {
      auto t = r.train.count(head.name) ? r.train.at(head.name) : HeadEpochMetrics{NAN, NAN};
      tl.values.push_back(t.loss);
      ta.values.push_back(t.accuracy);
      bool v = r.has_val && r.val.count(head.name);
      vl.values.push_back(v ? r.val.at(head.name).loss : NAN);
      va.values.push_back(v ? r.val.at(head.name).accuracy : NAN);
    }
    absl::StrAppend(&html, LineChartSvg(head.name + ": loss", {tl, vl}, epochs),
                    LineChartSvg(head.name + ": accuracy", {ta, va}, epochs));
  }
  for (const auto& head : data.heads) {
    absl::StrAppendFormat(&html, "<h2>%s on the %s split: accuracy %.4f (%d samples)</h2>", HtmlEscape(head.name),
                          HtmlEscape(data.eval_split), head.confusion.Accuracy(), head.confusion.Total());
    absl::StrAppend(&html, "<h3>Confusion matrix (rows: true class)</h3>", ConfusionSvg(head),
                    "<h3>Per-class precision and recall</h3>", PrecisionRecallSvg(head));
  }
  absl::StrAppend(&html, "<h2>Gallery (", HtmlEscape(data.eval_split),
                  " split; misclassified outlined in red)</h2><div class='gallery'>");
  for (const auto& image : data.gallery) {
    imaging::Image rgb;
    rgb.width = rgb.height = image.size;
    rgb.rgb.resize(size_t(image.size) * image.size * 3);
    for (size_t p = 0; p < size_t(image.size) * image.size; ++p) {
      for (int c = 0; c < 3; ++c) rgb.rgb[3 * p + c] = image.pixels[p * image.channels + (image.channels == 3 ? c : 0)];
    }
    ASSIGN_OR_RETURN(std::string png, imaging::EncodePng(rgb));
    absl::StrAppend(&html, "<figure", image.misclassified ? " class='wrong'" : "", "><img src='data:image/png;base64,",
                    absl::Base64Escape(png), "'><figcaption>", HtmlEscape(image.caption), "</figcaption></figure>");
  }
  absl::StrAppend(&html, "</div></body></html>\n");
  return html;
}

}  // namespace atelier::trainer
