#include "atelier/common/line_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/html_escape.h"

namespace atelier {
namespace {

const char* kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

}  // namespace

std::string LineChartSvg(const std::string& title, const std::vector<ChartSeries>& series, int epochs) {
  const int legend = 110;
  const int left = 50, right = 10 + legend, top = 28, bottom = 30;
  const int w = 460 + legend, h = std::max(260, top + 14 * (static_cast<int>(series.size()) + 1) + bottom);
  double lo = 1e300, hi = -1e300;
  for (const auto& s : series)
    for (double v : s.values)
      if (!std::isnan(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  auto x = [&](int e) { return left + (epochs <= 1 ? 0.0 : double(e) * (w - left - right) / (epochs - 1)); };
  auto y = [&](double v) { return top + (hi - v) * (h - top - bottom) / (hi - lo); };
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart'>"
      "<text x='%d' y='18' class='title'>%s</text>"
      "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#888'/><line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#888'/>"
      "<text x='4' y='%.1f' class='tick'>%.3g</text><text x='4' y='%.1f' class='tick'>%.3g</text>"
      "<text x='%d' y='%d' class='tick'>epoch 1</text><text x='%d' y='%d' class='tick'>%d</text>",
      w, h, left, HtmlEscape(title), left, top, left, h - bottom, left, h - bottom, w - right, h - bottom, y(hi) + 4,
      hi, y(lo), lo, left, h - 10, w - right - 20, h - 10, epochs);
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    std::string points;
    for (size_t e = 0; e < s.values.size(); ++e) {
      if (!std::isnan(s.values[e])) absl::StrAppendFormat(&points, "%.1f,%.1f ", x(int(e)), y(s.values[e]));
    }
    const char* colour = kColours[i % 8];
    absl::StrAppendFormat(&svg, "<polyline fill='none' stroke='%s' stroke-width='2' %s points='%s'/>", colour,
                          s.dashed ? "stroke-dasharray='5,3'" : "", points);
    absl::StrAppendFormat(&svg, "<text x='%d' y='%d' fill='%s' class='tick legend'>%s</text>", w - legend + 4,
                          top + 14 * int(i + 1), colour, HtmlEscape(s.name));
  }
  return svg + "</svg>";
}

}  // namespace atelier
