#include "atelier/trainer/group_summary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "atelier/common/html_escape.h"

namespace atelier::trainer {
namespace {

const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string Colour(size_t k) {
  if (k < 10) return kPalette[k];
  return absl::StrFormat("hsl(%d,55%%,55%%)", static_cast<int>((k * 137) % 360));
}

std::optional<std::string> ValueText(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return CellText(value);
}

// meta at a dotted path (objects only).
const nlohmann::json* AtPath(const nlohmann::json& meta, const std::string& path) {
  const nlohmann::json* at = &meta;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(std::string(part));
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string Percent(int64_t count, int64_t total) {
  return total > 0 ? absl::StrFormat("%.1f%%", 100.0 * double(count) / double(total)) : "-";
}

}  // namespace

std::optional<std::string> GroupValue(const PredictionRow& row, const std::string& field) {
  if (field == "key") return row.key;
  if (field == "url") return row.url.empty() ? std::nullopt : std::optional<std::string>(row.url);
  if (field == "path") return row.path.empty() ? std::nullopt : std::optional<std::string>(row.path);
  if (field == "shard") return row.shard.empty() ? std::nullopt : std::optional<std::string>(row.shard);
  if (field.find('.') != std::string::npos) {
    const nlohmann::json* at = AtPath(row.meta, field);
    return at ? ValueText(*at) : std::nullopt;
  }
  auto labels = row.meta.find("labels");
  if (labels != row.meta.end() && labels->is_object()) {
    auto it = labels->find(field);
    if (it != labels->end()) return ValueText(*it);
  }
  auto it = row.meta.find(field);
  if (it != row.meta.end()) return ValueText(*it);
  return std::nullopt;
}

int64_t GroupSummary::Counts::predicted() const {
  int64_t n = 0;
  for (int64_t v : classes) n += v;
  return n;
}

GroupSummary::GroupSummary(std::vector<std::string> fields, LabelSpace space)
    : fields_(std::move(fields)), space_(std::move(space)) {
  counts_.assign(fields_.size(), std::vector<std::map<std::string, Counts>>(space_.heads.size()));
}

void GroupSummary::Add(const PredictionRow& row) {
  ++rows_;
  for (size_t f = 0; f < fields_.size(); ++f) {
    const std::string group = GroupValue(row, fields_[f]).value_or(kMissingGroup);
    for (size_t h = 0; h < space_.heads.size(); ++h) {
      Counts& c = counts_[f][h][group];
      c.classes.resize(space_.heads[h].classes.size());
      if (!row.error.empty() || h >= row.heads.size()) {
        ++c.errors;
        continue;
      }
      const int k = row.heads[h].predicted;
      if (k >= 0 && k < int(c.classes.size())) {
        ++c.classes[k];
      } else {
        ++c.errors;
      }
    }
  }
}

std::vector<std::pair<std::string, const GroupSummary::Counts*>> GroupSummary::Sorted(size_t field,
                                                                                         size_t head) const {
  std::vector<std::pair<std::string, const Counts*>> out;
  const Counts* missing = nullptr;
  for (const auto& [group, counts] : counts_[field][head]) {
    if (group == kMissingGroup) {
      missing = &counts;
    } else {
      out.push_back({group, &counts});
    }
  }
  if (missing) out.push_back({kMissingGroup, missing});
  return out;
}

std::string GroupSummary::Table() const {
  std::string out;
  for (size_t f = 0; f < fields_.size(); ++f) {
    for (size_t h = 0; h < space_.heads.size(); ++h) {
      const auto& classes = space_.heads[h].classes;
      absl::StrAppend(&out, "predicted ", space_.heads[h].name, " by ", fields_[f], " (", rows_, " rows)\n");
      size_t width = 5;
      for (const auto& [group, c] : Sorted(f, h)) width = std::max(width, std::min<size_t>(group.size(), 40));
      std::string header = absl::StrFormat("  %-*s %8s", static_cast<int>(width), "group", "rows");
      for (const auto& name : classes) absl::StrAppendFormat(&header, " %14s", name.substr(0, 14));
      absl::StrAppend(&out, header, absl::StrFormat(" %8s\n", "errors"));
      for (const auto& [group, c] : Sorted(f, h)) {
        const int64_t n = c->predicted();
        std::string line = absl::StrFormat("  %-*s %8d", static_cast<int>(width), group.substr(0, 40),
                                           n + c->errors);
        for (size_t k = 0; k < classes.size(); ++k) {
          absl::StrAppendFormat(&line, " %14s", absl::StrCat(c->classes[k], " (", Percent(c->classes[k], n), ")"));
        }
        absl::StrAppend(&out, line, absl::StrFormat(" %8d\n", c->errors));
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

std::string GroupSummary::Csv() const {
  std::string out = "field,group,head,class,count,fraction\n";
  for (size_t f = 0; f < fields_.size(); ++f) {
    for (size_t h = 0; h < space_.heads.size(); ++h) {
      const auto& head = space_.heads[h];
      for (const auto& [group, c] : Sorted(f, h)) {
        const int64_t n = c->predicted();
        const std::string prefix =
            absl::StrCat(CsvField(fields_[f]), ",", CsvField(group), ",", CsvField(head.name), ",");
        for (size_t k = 0; k < head.classes.size(); ++k) {
          absl::StrAppend(&out, prefix, CsvField(head.classes[k]), ",", c->classes[k], ",",
                          n > 0 ? absl::StrFormat("%.6f", double(c->classes[k]) / double(n)) : "", "\n");
        }
        if (c->errors > 0) absl::StrAppend(&out, prefix, "(error),", c->errors, ",\n");
      }
    }
  }
  return out;
}

std::string GroupSummary::Html(const std::string& title) const {
  std::string body;
  for (size_t f = 0; f < fields_.size(); ++f) {
    for (size_t h = 0; h < space_.heads.size(); ++h) {
      const auto& classes = space_.heads[h].classes;
      const auto groups = Sorted(f, h);
      absl::StrAppend(&body, "<h2>", HtmlEscape(space_.heads[h].name), " by ", HtmlEscape(fields_[f]), "</h2>");
      // Legend: one swatch per class (and errors).
      std::string legend = "<p class='legend'>";
      for (size_t k = 0; k < classes.size(); ++k) {
        absl::StrAppend(&legend, "<span><svg xmlns='http://www.w3.org/2000/svg' width='12' height='12'><rect width='12' "
                                 "height='12' fill='", Colour(k), "'/></svg> ", HtmlEscape(classes[k]), "</span> ");
      }
      absl::StrAppend(&legend, "<span><svg xmlns='http://www.w3.org/2000/svg' width='12' height='12'><rect width='12' "
                               "height='12' fill='#cccccc'/></svg> errors</span></p>");
      const int label = 200, bar = 460, right = 90, row_h = 24, top = 6;
      const int w = label + bar + right, hgt = top + row_h * static_cast<int>(groups.size()) + 6;
      std::string svg = absl::StrFormat(
          "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' class='chart' role='img'>", w, hgt);
      for (size_t g = 0; g < groups.size(); ++g) {
        const auto& [group, c] = groups[g];
        const int64_t total = c->predicted() + c->errors;
        const int y = top + row_h * static_cast<int>(g);
        absl::StrAppendFormat(&svg, "<text x='4' y='%d' class='tick'>%s</text>", y + 16,
                              HtmlEscape(group.substr(0, 30)));
        double x = label;
        auto segment = [&](int64_t count, const std::string& colour, const std::string& what) {
          if (count <= 0 || total <= 0) return;
          const double width = bar * double(count) / double(total);
          absl::StrAppendFormat(&svg,
                                "<rect x='%.2f' y='%d' width='%.2f' height='%d' fill='%s'><title>%s: %d (%s)</title></rect>",
                                x, y + 3, width, row_h - 6, colour, HtmlEscape(absl::StrCat(group, " / ", what)), count,
                                Percent(count, total));
          x += width;
        };
        for (size_t k = 0; k < classes.size(); ++k) segment(c->classes[k], Colour(k), classes[k]);
        segment(c->errors, "#cccccc", "errors");
        absl::StrAppendFormat(&svg, "<text x='%d' y='%d' class='tick'>n=%d</text>", label + bar + 6, y + 16, total);
      }
      absl::StrAppend(&body, legend, svg, "</svg>");
      // The numbers, as a table.
      absl::StrAppend(&body, "<table><tr><th>group</th><th>rows</th>");
      for (const auto& name : classes) absl::StrAppend(&body, "<th>", HtmlEscape(name), "</th>");
      absl::StrAppend(&body, "<th>errors</th></tr>");
      for (const auto& [group, c] : groups) {
        const int64_t n = c->predicted();
        absl::StrAppend(&body, "<tr><td>", HtmlEscape(group), "</td><td>", n + c->errors, "</td>");
        for (size_t k = 0; k < classes.size(); ++k) {
          absl::StrAppend(&body, "<td>", c->classes[k], " (", Percent(c->classes[k], n), ")</td>");
        }
        absl::StrAppend(&body, "<td>", c->errors, "</td></tr>");
      }
      absl::StrAppend(&body, "</table>");
    }
  }
  return absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>", HtmlEscape(title),
      "</title><style>body{font-family:sans-serif;margin:20px}.chart{margin:6px 0;border:1px solid #eee}"
      ".tick{font-size:12px;fill:#333}.legend span{margin-right:12px;font-size:13px}"
      "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}"
      "td:first-child{text-align:left}</style></head><body><h1>",
      HtmlEscape(title), "</h1><p>", rows_, " rows</p>", body, "</body></html>\n");
}

}  // namespace atelier::trainer
