#include "atelier/cli/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/cli/sweep_driver.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/csv_field.h"
#include "atelier/common/html_escape.h"
#include "atelier/common/line_chart.h"
#include "atelier/common/status_macros.h"

namespace atelier::cli {
namespace {

std::string MetricText(const TrialRecord& t) { return t.metric() ? absl::StrCat(*t.metric()) : ""; }

// Rows of cells: the header, then one per trial.
std::vector<std::vector<std::string>> Rows(const SweepState& state, const SweepSpec& spec) {
  std::vector<std::string> header = {"trial"};
  for (const auto& p : spec.parameters) header.push_back(p.name);
  for (const char* h : {"epochs", "metric", "state"}) header.push_back(h);
  header[header.size() - 2] = spec.metric.Describe();
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& t : state.trials) {
    std::vector<std::string> row = {absl::StrCat(t.id)};
    for (const auto& [name, value] : t.params) row.push_back(value);
    row.push_back(absl::StrCat(t.epochs()));
    row.push_back(MetricText(t));
    row.push_back(TrialStateName(t.state));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::optional<int> BestTrial(const SweepState& state, const SweepSpec& spec) {
  std::optional<int> best;
  for (bool completed_only : {true, false}) {
    for (const auto& t : state.trials) {
      if (!t.metric() || (completed_only && t.state != TrialState::kCompleted)) continue;
      const double v = *t.metric();
      const double b = best ? *state.trials[*best].metric() : 0;
      if (!best || (spec.metric.mode == MetricMode::kMax ? v > b : v < b)) best = t.id;
    }
    if (best) return best;
  }
  return best;
}

std::string TrialTable(const SweepState& state, const SweepSpec& spec) {
  const auto rows = Rows(state, spec);
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&out, c ? "  " : "", row[c], c + 1 < row.size() ? std::string(width[c] - row[c].size(), ' ') : "");
    }
    out += "\n";
  }
  return out;
}

std::string TrialsCsv(const SweepState& state, const SweepSpec& spec) {
  std::vector<std::string> header = {"trial"};
  for (const auto& p : spec.parameters) header.push_back(p.name);
  for (const std::string& h : {std::string("state"), std::string("epochs"), spec.metric.Describe(),
                               std::string("exit_code"), std::string("message")}) {
    header.push_back(h);
  }
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) absl::StrAppend(&out, i ? "," : "", CsvField(cells[i]));
    out += "\n";
  };
  line(header);
  for (const auto& t : state.trials) {
    std::vector<std::string> cells = {absl::StrCat(t.id)};
    for (const auto& [name, value] : t.params) cells.push_back(value);
    cells.push_back(TrialStateName(t.state));
    cells.push_back(absl::StrCat(t.epochs()));
    cells.push_back(MetricText(t));
    cells.push_back(t.exit_code >= 0 ? absl::StrCat(t.exit_code) : "");
    cells.push_back(t.message);
    line(cells);
  }
  return out;
}

std::string ShellQuote(const std::string& word) {
  const bool safe = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
  });
  if (safe) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string BestTrainCommand(const SweepSpec& spec, const TrialRecord& trial, const std::string& out) {
  std::vector<std::string> words = {"atelier", "train"};
  for (const auto& a : TrainArguments(spec, trial.params, out)) words.push_back(ShellQuote(a));
  return absl::StrJoin(words, " ");
}

std::string SweepPage(const SweepState& state, const SweepSpec& spec) {
  std::vector<ChartSeries> series;
  for (const auto& t : state.trials) {
    ChartSeries s{absl::StrCat("trial ", t.id), std::vector<double>(spec.epochs, std::nan("")),
                  t.state == TrialState::kStopped};
    for (const auto& [epoch, value] : t.history) {
      if (epoch >= 1 && epoch <= spec.epochs) s.values[epoch - 1] = value;
    }
    series.push_back(std::move(s));
  }
  const auto best = BestTrial(state, spec);
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>atelier sweep: ",
      HtmlEscape(spec.origin), "</title><style>body{font-family:sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
      ".tick{font-size:11px}.title{font-size:13px;font-weight:bold}tr.best{background:#eef6ee}</style></head><body>",
      "<h1>atelier sweep</h1><p>Spec <code>", HtmlEscape(spec.origin), "</code>: ", state.trials.size(),
      " trials, ", spec.epochs, " epochs each at most, metric <code>", HtmlEscape(spec.metric.Describe()), "</code> (",
      spec.metric.mode == MetricMode::kMax ? "higher" : "lower", " is better)",
      spec.asha ? absl::StrCat(", ASHA from epoch ", spec.asha->min_epochs, " with eta ", spec.asha->eta) : "",
      ". Dashed: stopped early.</p>",
      LineChartSvg(absl::StrCat(spec.metric.Describe(), " against epochs (budget)"), series, spec.epochs));
  if (best) {
    absl::StrAppend(&html, "<h2>Best: trial ", *best, "</h2><pre>",
                    HtmlEscape(BestTrainCommand(spec, state.trials[*best], "best-run")), "</pre>");
  }
  const auto rows = Rows(state, spec);
  absl::StrAppend(&html, "<h2>Trials</h2><table><tr>");
  for (const auto& h : rows[0]) absl::StrAppend(&html, "<th>", HtmlEscape(h), "</th>");
  absl::StrAppend(&html, "</tr>");
  for (size_t r = 1; r < rows.size(); ++r) {
    const bool is_best = best && static_cast<size_t>(*best) + 1 == r;
    absl::StrAppend(&html, is_best ? "<tr class='best'>" : "<tr>");
    for (const auto& cell : rows[r]) absl::StrAppend(&html, "<td>", HtmlEscape(cell), "</td>");
    absl::StrAppend(&html, "</tr>");
  }
  return html + "</table></body></html>\n";
}

absl::Status WriteSweepReport(Env& env, const std::filesystem::path& dir, const SweepState& state,
                              const SweepSpec& spec) {
  RETURN_IF_ERROR(env.CreateDirs(dir));
  RETURN_IF_ERROR(WriteFileAtomically(env, dir / kTrialsCsvName, TrialsCsv(state, spec)));
  return WriteFileAtomically(env, dir / kSweepPageName, SweepPage(state, spec));
}

}  // namespace atelier::cli
