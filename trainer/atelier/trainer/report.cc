#include "atelier/trainer/report.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/html_escape.h"
#include "atelier/common/line_chart.h"
#include "atelier/common/status_macros.h"
#include "atelier/imaging/image.h"

namespace atelier::trainer {
namespace {

const char* kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

// A class x class matrix: rows the true classes, columns (labelled slanted
// above them) the predicted ones; `cell(t, p, x, y, size)` draws one cell.
std::string ClassMatrixSvg(const std::vector<std::string>& classes, const char* columns_caption,
                           const std::function<std::string(int, int, int, int, int)>& cell_svg) {
  const int k = static_cast<int>(classes.size());
  const int cell = std::max(14, std::min(40, 480 / std::max(1, k)));
  const int label = 120;
  const int size = label + cell * k + 10;
  std::string svg = absl::StrFormat("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart'>",
                                    size, size + 20);
  absl::StrAppendFormat(&svg, "<text x='%d' y='12' class='tick'>%s &#8594;</text>", label, columns_caption);
  for (int p = 0; p < k; ++p) {  // column labels: the predicted class, slanted above its column
    absl::StrAppendFormat(&svg,
                          "<text transform='translate(%d,%d) rotate(-55)' class='tick column-label'>%s</text>",
                          label + p * cell + cell / 2 + 3, label - 4, HtmlEscape(classes[p].substr(0, 18)));
  }
  for (int t = 0; t < k; ++t) {
    absl::StrAppendFormat(&svg, "<text x='2' y='%d' class='tick'>%s</text>", label + t * cell + cell / 2 + 4,
                          HtmlEscape(classes[t].substr(0, 18)));
    for (int p = 0; p < k; ++p) absl::StrAppend(&svg, cell_svg(t, p, label + p * cell, label + t * cell, cell));
  }
  return svg + "</svg>";
}

std::string ConfusionSvg(const ReportHead& head) {
  int64_t max_count = 1;
  for (const auto& row : head.confusion.counts)
    for (int64_t v : row) max_count = std::max(max_count, v);
  return ClassMatrixSvg(head.classes, "predicted", [&](int t, int p, int x, int y, int cell) {
    const int64_t v = head.confusion.counts[t][p];
    const double a = double(v) / double(max_count);
    std::string out = absl::StrFormat(
        "<rect x='%d' y='%d' width='%d' height='%d' fill='%s' fill-opacity='%.3f' stroke='#ddd'>"
        "<title>%s &#8594; %s: %d</title></rect>",
        x, y, cell, cell, t == p ? "#2ca02c" : "#d62728", 0.08 + 0.92 * a, HtmlEscape(head.classes[t]),
        HtmlEscape(head.classes[p]), v);
    if (cell >= 24) absl::StrAppendFormat(&out, "<text x='%d' y='%d' class='cell'>%d</text>", x + 3, y + cell / 2 + 4, v);
    return out;
  });
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

std::string SimilaritySvg(const ReportHead& head) {
  return ClassMatrixSvg(head.classes, "mean predicted probability", [&](int t, int p, int x, int y, int cell) {
    const double v = head.similarity[t][p];
    std::string out = absl::StrFormat(
        "<rect x='%d' y='%d' width='%d' height='%d' fill='#1f77b4' fill-opacity='%.3f' stroke='#ddd' "
        "class='similarity'><title>%s &#8594; %s: %.3f</title></rect>",
        x, y, cell, cell, 0.04 + 0.96 * v, HtmlEscape(head.classes[t]), HtmlEscape(head.classes[p]), v);
    if (cell >= 28) absl::StrAppendFormat(&out, "<text x='%d' y='%d' class='cell'>%.2f</text>", x + 2, y + cell / 2 + 4, v);
    return out;
  });
}

std::string EmbeddingMapSvg(const ReportData& data) {
  const std::vector<std::string> no_classes;
  const std::vector<std::string>& classes = data.heads.empty() ? no_classes : data.heads[0].classes;
  const int legend = 140, w = 520 + legend, h = 440, pad = 20;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto& p : data.map) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  if (x1 - x0 < 1e-12) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  auto sx = [&](double v) { return pad + (v - x0) * (w - legend - 2 * pad) / (x1 - x0); };
  auto sy = [&](double v) { return pad + (y1 - v) * (h - 2 * pad) / (y1 - y0); };
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart embedding-map'>"
      "<text x='4' y='14' class='tick'>PC1 %.0f%% of the variance, PC2 %.0f%%</text>",
      w, h, 100 * data.map_explained[0], 100 * data.map_explained[1]);
  for (const auto& p : data.map) {
    const char* colour = p.cls >= 0 ? kColours[p.cls % 8] : "#bbbbbb";
    absl::StrAppendFormat(&svg, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s' fill-opacity='0.75' class='point'>"
                                "<title>%s</title></circle>",
                          sx(p.x), sy(p.y), colour, HtmlEscape(p.caption));
  }
  for (size_t c = 0; c < classes.size() && c < 24; ++c) {
    absl::StrAppendFormat(&svg, "<text x='%d' y='%d' fill='%s' class='tick legend'>&#9679; %s</text>",
                          w - legend + 4, 30 + 14 * int(c), kColours[c % 8], HtmlEscape(classes[c].substr(0, 20)));
  }
  return svg + "</svg>";
}

absl::StatusOr<std::string> Figure(const ReportImage& image, const char* extra_class = "") {
  imaging::Image rgb;
  rgb.width = rgb.height = image.size;
  rgb.rgb.resize(size_t(image.size) * image.size * 3);
  for (size_t p = 0; p < size_t(image.size) * image.size; ++p) {
    for (int c = 0; c < 3; ++c) rgb.rgb[3 * p + c] = image.pixels[p * image.channels + (image.channels == 3 ? c : 0)];
  }
  ASSIGN_OR_RETURN(std::string png, imaging::EncodePng(rgb));
  std::string classes = image.misclassified ? "wrong" : "";
  if (*extra_class != '\0') absl::StrAppend(&classes, classes.empty() ? "" : " ", extra_class);
  return absl::StrCat("<figure", classes.empty() ? "" : absl::StrCat(" class='", classes, "'"),
                      "><img src='data:image/png;base64,", absl::Base64Escape(png), "'><figcaption>",
                      HtmlEscape(image.caption), "</figcaption></figure>");
}

}  // namespace

absl::StatusOr<std::string> RenderReport(const ReportData& data) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>", HtmlEscape(data.title),
      "</title><style>body{font-family:sans-serif;margin:20px}.chart{margin:6px;border:1px solid #eee}"
      ".title{font-size:14px;font-weight:bold}.tick{font-size:11px}.cell{font-size:10px}"
      ".gallery figure{display:inline-block;margin:4px;width:140px;font-size:10px;vertical-align:top}"
      ".gallery img{width:128px;height:128px;image-rendering:pixelated}.wrong{outline:3px solid #d62728}"
      ".query{outline:3px solid #1f77b4;margin-right:16px}"
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
    if (!head.similarity.empty()) {
      absl::StrAppend(&html, "<h3>Class similarity (rows: true class; mean predicted probability)</h3>",
                      SimilaritySvg(head));
    }
  }
  if (!data.map.empty()) {
    absl::StrAppend(&html, "<h2>Embedding map (", HtmlEscape(data.eval_split), " split, ", data.map.size(),
                    " samples; features on their first two principal components",
                    data.heads.empty() ? "" : absl::StrCat(", coloured by ", HtmlEscape(data.heads[0].name)), ")</h2>",
                    EmbeddingMapSvg(data));
  }
  if (!data.neighbours.empty()) {
    absl::StrAppend(&html, "<h2>Nearest neighbours in feature space (cosine)</h2>");
    for (const auto& row : data.neighbours) {
      absl::StrAppend(&html, "<div class='gallery neighbours'>");
      ASSIGN_OR_RETURN(std::string query, Figure(row.query, "query"));
      absl::StrAppend(&html, query);
      for (const auto& n : row.neighbours) {
        ASSIGN_OR_RETURN(std::string figure, Figure(n));
        absl::StrAppend(&html, figure);
      }
      absl::StrAppend(&html, "</div>");
    }
  }
  absl::StrAppend(&html, "<h2>Gallery (", HtmlEscape(data.eval_split),
                  " split; misclassified outlined in red)</h2><div class='gallery'>");
  for (const auto& image : data.gallery) {
    ASSIGN_OR_RETURN(std::string figure, Figure(image));
    absl::StrAppend(&html, figure);
  }
  absl::StrAppend(&html, "</div></body></html>\n");
  return html;
}

}  // namespace atelier::trainer
