#include "atelier/coordinator/url_list_ingest.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <unordered_set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/coordinator/csv_reader.h"
#include "atelier/dataset/sample_key.h"

namespace atelier::coordinator {
namespace {

bool IsHttpUrl(absl::string_view url) {
  return (absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) && url.size() > 8 &&
         url.find_first_of(" \t") == absl::string_view::npos;
}

class Emitter {
 public:
  Emitter(const std::string& source_name, IngestSink& sink, UrlListReport& report)
      : source_name_(source_name), sink_(sink), report_(report) {}

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
};

}  // namespace

absl::StatusOr<UrlListReport> IngestUrlList(const UrlsSourceSpec& spec,
                                            const std::string& source_name, IngestSink& sink) {
  std::ifstream in(spec.file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read URL list '", spec.file, "'"));
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
      if (!IsHttpUrl(url)) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.file, ":", n, ": not an http(s) URL: '", url.substr(0, 100), "'"));
      }
      RETURN_IF_ERROR(emit.Emit(url, {}));
    }
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
      return absl::InvalidArgumentError(absl::StrCat(spec.file, ":", csv.line(), ": ",
                                                     fields.size(), " fields, the header has ",
                                                     header.size()));
    }
    std::string url(absl::StripAsciiWhitespace(fields[url_col]));
    if (!IsHttpUrl(url)) {
      return absl::InvalidArgumentError(absl::StrCat(spec.file, ":", csv.line(),
                                                     ": not an http(s) URL: '",
                                                     url.substr(0, 100), "'"));
    }
    std::map<std::string, std::string> labels;
    for (const auto& [col, name] : label_cols) {
      std::string v(absl::StripAsciiWhitespace(fields[col]));
      if (!v.empty()) labels[name] = std::move(v);
    }
    RETURN_IF_ERROR(emit.Emit(url, std::move(labels)));
  }
  if (!csv.error().ok()) return Annotate(csv.error(), spec.file);
  return report;
}

}  // namespace atelier::coordinator
