#include "atelier/coordinator/url_list_ingest.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <fstream>
#include <map>
#include <unordered_set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "atelier/coordinator/csv_reader.h"
#include "atelier/dataset/sample_key.h"

namespace atelier::coordinator {
namespace {

// `url` with its scheme in lower case when it is an http(s) URL (the scheme
// is case-insensitive: HTTP://x is http://x); nullopt otherwise.
std::optional<std::string> NormalizeHttpUrl(absl::string_view url) {
  const size_t colon = url.find("://");
  if (colon == absl::string_view::npos) return std::nullopt;
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, colon));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  if (url.size() <= colon + 3 || url.find_first_of(" \t") != absl::string_view::npos) {
    return std::nullopt;
  }
  return absl::StrCat(scheme, url.substr(colon));
}

// Skips a UTF-8 byte order mark at the start of `in`.
void SkipByteOrderMark(std::istream& in) {
  char bom[3] = {};
  if (in.read(bom, 3) && bom[0] == '\xEF' && bom[1] == '\xBB' && bom[2] == '\xBF') return;
  in.clear();
  in.seekg(0);
}

class Emitter {
 public:
  Emitter(const std::string& source_name, IngestSink& sink, UrlListReport& report)
      : source_name_(source_name), sink_(sink), report_(report) {}

  // Records line `line` (text `text`) of `file` as an item dead with reason
  // bad_url; key "<file name>:<line>".
  absl::Status EmitBadLine(const std::string& file, int64_t line, absl::string_view text,
                           absl::string_view why) {
    if (report_.bad_lines == 0) {
      first_bad_ = absl::StrCat(file, ":", line, ": ", why, ": '", text.substr(0, 100), "'");
    }
    ++report_.bad_lines;
    v1::WorkItem item;
    item.set_key(absl::StrCat(std::filesystem::path(file).filename().string(), ":", line));
    item.set_source(v1::SOURCE_KIND_URLS);
    item.set_url(std::string(text.substr(0, 2000)));
    item.set_source_name(source_name_);
    return sink_.AddDead(std::move(item), "bad_url");
  }

  // InvalidArgument when the list had lines but none was usable.
  absl::Status CheckUsable(const std::string& file) const {
    if (report_.items > 0 || report_.bad_lines == 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(file, ": no usable line: all ",
                                                   report_.bad_lines, " lines are bad (first: ",
                                                   first_bad_, ")"));
  }

  absl::Status Emit(const std::string& url, std::map<std::string, std::string> labels) {
    std::string key = dataset::UrlKey(url);
    if (!seen_.insert(key).second) {
      ++report_.duplicates;
      return absl::OkStatus();
    }
    v1::WorkItem item;
    item.set_key(std::move(key));
    item.set_source(v1::SOURCE_KIND_URLS);
    item.set_url(url);
    item.set_source_name(source_name_);
    for (auto& [k, v] : labels) (*item.mutable_labels())[k] = std::move(v);
    ++report_.items;
    return sink_.Add(std::move(item));
  }

 private:
  const std::string& source_name_;
  IngestSink& sink_;
  UrlListReport& report_;
  std::unordered_set<std::string> seen_;
  std::string first_bad_;
};

}  // namespace

absl::StatusOr<UrlListReport> IngestUrlList(const UrlsSourceSpec& spec,
                                            const std::string& source_name, IngestSink& sink) {
  std::ifstream in(spec.file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read URL list '", spec.file, "'"));
  SkipByteOrderMark(in);
  UrlListReport report;
  Emitter emit(source_name, sink, report);

  if (!spec.file.ends_with(".csv")) {
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::string url(absl::StripAsciiWhitespace(line));
      if (url.empty() || url.starts_with("#")) continue;
      ++report.lines;
      std::optional<std::string> http = NormalizeHttpUrl(url);
      if (!http) {
        RETURN_IF_ERROR(emit.EmitBadLine(spec.file, n, url, "not an http(s) URL"));
        continue;
      }
      RETURN_IF_ERROR(emit.Emit(*http, {}));
    }
    RETURN_IF_ERROR(emit.CheckUsable(spec.file));
    return report;
  }

  CsvReader csv(in);
  std::vector<std::string> header;
  if (!csv.Next(header)) {
    if (!csv.error().ok()) return Annotate(csv.error(), spec.file);
    return absl::InvalidArgumentError(absl::StrCat(spec.file, ": empty CSV (no header row)"));
  }
  for (auto& h : header) h = std::string(absl::StripAsciiWhitespace(h));
  int url_col = -1;
  std::vector<std::pair<int, std::string>> label_cols;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == spec.url_column) url_col = static_cast<int>(i);
  }
  if (url_col < 0) {
    return absl::InvalidArgumentError(absl::StrCat(spec.file, ":1: no '", spec.url_column,
                                                   "' column in the header"));
  }
  if (spec.label_columns.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (static_cast<int>(i) != url_col && !header[i].empty()) {
        label_cols.emplace_back(static_cast<int>(i), header[i]);
      }
    }
  } else {
    for (const auto& name : spec.label_columns) {
      auto it = std::find(header.begin(), header.end(), name);
      if (it == header.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.file, ":1: label column '", name, "' is not in the header"));
      }
      label_cols.emplace_back(static_cast<int>(it - header.begin()), name);
    }
  }
  std::vector<std::string> fields;
  while (csv.Next(fields)) {
    if (fields.size() == 1 && absl::StripAsciiWhitespace(fields[0]).empty()) continue;
    ++report.lines;
    if (fields.size() != header.size()) {
      RETURN_IF_ERROR(emit.EmitBadLine(
          spec.file, csv.line(), absl::StrJoin(fields, ","),
          absl::StrCat(fields.size(), " fields, the header has ", header.size())));
      continue;
    }
    std::string url(absl::StripAsciiWhitespace(fields[url_col]));
    std::optional<std::string> http = NormalizeHttpUrl(url);
    if (!http) {
      RETURN_IF_ERROR(emit.EmitBadLine(spec.file, csv.line(), url, "not an http(s) URL"));
      continue;
    }
    std::map<std::string, std::string> labels;
    for (const auto& [col, name] : label_cols) {
      std::string v(absl::StripAsciiWhitespace(fields[col]));
      if (!v.empty()) labels[name] = std::move(v);
    }
    RETURN_IF_ERROR(emit.Emit(*http, std::move(labels)));
  }
  if (!csv.error().ok()) return Annotate(csv.error(), spec.file);
  RETURN_IF_ERROR(emit.CheckUsable(spec.file));
  return report;
}

}  // namespace atelier::coordinator
