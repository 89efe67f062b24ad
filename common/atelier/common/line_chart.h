// LineChartSvg: one inline SVG line chart of series over epochs, for the
// self-contained HTML pages atelier writes (the trainer's report.html, the
// sweep's sweep.html). Values are one per epoch (index 0 = epoch 1), NaN where
// a series has none; the y range covers every value; the legend sits in its
// own column right of the plot area, so it never covers a curve, and the
// chart grows taller when the legend needs it. Text is HTML-escaped. Pure.
#pragma once

#include <string>
#include <vector>

namespace atelier {

struct ChartSeries {
  std::string name;
  std::vector<double> values;  // one per epoch; NaN = missing
  bool dashed = false;
};

std::string LineChartSvg(const std::string& title, const std::vector<ChartSeries>& series, int epochs);

}  // namespace atelier
