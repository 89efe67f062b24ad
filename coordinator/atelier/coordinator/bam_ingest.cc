#include "atelier/coordinator/bam_ingest.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sample_key.h"

namespace atelier::coordinator {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// The text of column `col`; "" where sqlite3_column_text gives a null pointer
// (NULL, out of memory), which std::string must not be built from.
std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  return text ? reinterpret_cast<const char*>(text) : "";
}

class BamReader {
 public:
  explicit BamReader(std::string path) : path_(std::move(path)) {}

  absl::Status Open() {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) return Error("cannot open");
    return absl::OkStatus();
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("BAM SQLite '", path_, "': ", what, ": ",
                                                   db_ ? sqlite3_errmsg(db_.get()) : "no handle"));
  }

  absl::StatusOr<Stmt> Prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      return Error(absl::StrCat("cannot run query [", sql, "]"));
    }
    return Stmt(raw);
  }

  // Column names of `table`, empty when the table does not exist.
  absl::StatusOr<std::vector<std::string>> Columns(const std::string& table) {
    ASSIGN_OR_RETURN(Stmt stmt, Prepare(absl::StrCat("PRAGMA table_info(\"", table, "\")")));
    std::vector<std::string> cols;
    while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
      cols.push_back(ColumnText(stmt.get(), 1));
    }
    return cols;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Db db_;
};

std::string Quote(const std::string& ident) { return absl::StrCat("\"", ident, "\""); }

bool Truthy(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_NULL: return false;
    case SQLITE_INTEGER: return sqlite3_column_int64(stmt, col) != 0;
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, col) != 0;
    default: {
      const std::string v = absl::AsciiStrToLower(ColumnText(stmt, col));
      return v == "1" || v == "true" || v == "t" || v == "yes";
    }
  }
}

// One label family: its columns (sorted) and where they sit in the result row.
struct Family {
  std::string name;
  std::vector<std::string> attributes;  // full column names, sorted
  int first_col = 0;
};

}  // namespace

absl::StatusOr<BamIngestReport> IngestBam(const BamSourceSpec& spec,
                                          const std::string& source_name, IngestSink& sink) {
  BamReader reader(spec.sqlite);
  RETURN_IF_ERROR(reader.Open());
  ASSIGN_OR_RETURN(auto module_cols, reader.Columns("modules"));
  auto has = [](const std::vector<std::string>& cols, const std::string& c) {
    return std::find(cols.begin(), cols.end(), c) != cols.end();
  };
  if (!has(module_cols, "mid") || !has(module_cols, "src")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "BAM SQLite '", spec.sqlite, "': table modules with columns mid and src is missing"));
  }
  const bool has_mature = has(module_cols, "mature_content");
  const bool has_project = has(module_cols, "project_id");

  const bool wide = spec.label_source != "crowd";
  const std::string label_table = spec.label_source == "automatic" ? "automatic_labels" : "scores";
  std::vector<Family> families;
  std::string select = absl::StrCat("SELECT m.mid, m.src, ", has_mature ? "m.mature_content" : "0", ", ",
                                    has_project ? "m.project_id" : "NULL");
  if (wide) {
    ASSIGN_OR_RETURN(auto label_cols, reader.Columns(label_table));
    if (!has(label_cols, "mid")) {
      return absl::InvalidArgumentError(absl::StrCat("BAM SQLite '", spec.sqlite, "': table ",
                                                     label_table, " (with a mid column) is missing"));
    }
    int col = 4;
    for (const auto& fam : spec.labels) {
      Family f{fam, {}, col};
      for (const auto& c : label_cols) {
        if (c.starts_with(fam + "_")) f.attributes.push_back(c);
      }
      std::sort(f.attributes.begin(), f.attributes.end());
      if (f.attributes.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("BAM SQLite '", spec.sqlite, "': table ",
                                                       label_table, " has no ", fam, "_* columns"));
      }
      for (const auto& a : f.attributes) absl::StrAppend(&select, ", l.", Quote(a));
      col += static_cast<int>(f.attributes.size());
      families.push_back(std::move(f));
    }
    absl::StrAppend(&select, " FROM modules m LEFT JOIN ", label_table, " l ON l.mid = m.mid");
  } else {
    ASSIGN_OR_RETURN(auto crowd_cols, reader.Columns("crowd_labels"));
    if (!has(crowd_cols, "mid") || !has(crowd_cols, "attribute") || !has(crowd_cols, "label")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "BAM SQLite '", spec.sqlite, "': table crowd_labels(mid, attribute, label) is missing"));
    }
    for (const auto& fam : spec.labels) families.push_back({fam, {}, 0});
    absl::StrAppend(&select, " FROM modules m");
  }
  absl::StrAppend(&select, " ORDER BY m.mid");
  if (spec.limit > 0) absl::StrAppend(&select, " LIMIT ", spec.limit);
  ASSIGN_OR_RETURN(Stmt rows, reader.Prepare(select));

  // Crowd labels are merged in mid order from a second cursor.
  Stmt crowd;
  bool crowd_row = false;
  if (!wide) {
    ASSIGN_OR_RETURN(crowd, reader.Prepare("SELECT mid, attribute FROM crowd_labels WHERE "
                                           "label = 'positive' ORDER BY mid, attribute"));
    crowd_row = sqlite3_step(crowd.get()) == SQLITE_ROW;
  }

  BamIngestReport report;
  int rc;
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    ++report.rows;
    sqlite3_stmt* r = rows.get();
    const int64_t mid = sqlite3_column_int64(r, 0);
    const std::string src = ColumnText(r, 1);
    const bool mature = Truthy(r, 2);
    // NULL (or no column): no project.
    std::optional<std::string> project;
    if (sqlite3_column_type(r, 3) != SQLITE_NULL) project = ColumnText(r, 3);

    std::map<std::string, std::string> labels;
    if (wide) {
      for (const auto& f : families) {
        std::optional<double> best;
        std::string best_attr;
        for (size_t i = 0; i < f.attributes.size(); ++i) {
          const int col = f.first_col + static_cast<int>(i);
          double v;
          if (spec.label_source == "automatic") {
            if (sqlite3_column_type(r, col) != SQLITE_TEXT) continue;
            const std::string t = absl::AsciiStrToLower(ColumnText(r, col));
            if (t != "positive") continue;
            v = 1;
          } else {
            if (sqlite3_column_type(r, col) == SQLITE_NULL) continue;
            v = sqlite3_column_double(r, col);
          }
          if (!best || v > *best) {
            best = v;
            best_attr = f.attributes[i];
          }
        }
        if (best && (spec.label_source != "scores" || *best >= spec.min_score)) {
          labels[f.name] = best_attr.substr(f.name.size() + 1);
        }
      }
    } else {
      while (crowd_row && sqlite3_column_int64(crowd.get(), 0) < mid) {
        crowd_row = sqlite3_step(crowd.get()) == SQLITE_ROW;
      }
      while (crowd_row && sqlite3_column_int64(crowd.get(), 0) == mid) {
        const std::string attr = ColumnText(crowd.get(), 1);
        for (const auto& f : families) {
          // Attributes arrive sorted, so the first positive one of a family wins ties.
          if (attr.starts_with(f.name + "_") && !labels.contains(f.name)) {
            labels[f.name] = attr.substr(f.name.size() + 1);
          }
        }
        crowd_row = sqlite3_step(crowd.get()) == SQLITE_ROW;
      }
    }

    if (mature && !spec.include_mature) {
      ++report.skipped_mature;
      continue;
    }
    if (labels.empty()) {
      ++report.skipped_unlabelled;
      continue;
    }
    v1::WorkItem item;
    item.set_key(dataset::BamKey(mid));
    item.set_source(v1::SOURCE_KIND_BAM);
    item.set_url(src);
    item.set_source_name(source_name);
    for (auto& [k, v] : labels) (*item.mutable_labels())[k] = v;
    if (project) (*item.mutable_extra())["project_id"] = *project;
    if (src.empty() || src.starts_with(kBamDeadPrefix)) {
      ++report.dead;
      RETURN_IF_ERROR(sink.AddDead(std::move(item), src.empty() ? "no_url" : "mir_cdn_rendition"));
    } else {
      ++report.items;
      RETURN_IF_ERROR(sink.Add(std::move(item)));
    }
  }
  if (rc != SQLITE_DONE) return reader.Error("reading modules");
  return report;
}

}  // namespace atelier::coordinator
