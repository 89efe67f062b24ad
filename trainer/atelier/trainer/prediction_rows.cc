#include "atelier/trainer/prediction_rows.h"

#include <unistd.h>

#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

constexpr auto kJsonDump = nlohmann::json::error_handler_t::replace;

// A file written under a temporary name next to `path` and renamed on Commit();
// removed when abandoned.
class PendingFile {
 public:
  explicit PendingFile(fs::path path)
      : path_(std::move(path)), temp_(absl::StrCat(path_.string(), ".tmp-", getpid())) {}
  ~PendingFile() {
    if (!committed_) {
      out_.close();
      std::error_code ec;
      fs::remove(temp_, ec);
    }
  }
  absl::Status Open() {
    std::error_code ec;
    if (path_.has_parent_path()) fs::create_directories(path_.parent_path(), ec);
    out_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!out_) return absl::PermissionDeniedError(absl::StrCat("cannot write ", temp_.string()));
    return absl::OkStatus();
  }
  std::ofstream& out() { return out_; }
  absl::Status Commit() {
    out_.flush();
    if (!out_) return absl::DataLossError(absl::StrCat("writing ", temp_.string(), " failed"));
    out_.close();
    std::error_code ec;
    fs::rename(temp_, path_, ec);
    if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot rename ", temp_.string(), ": ", ec.message()));
    committed_ = true;
    return absl::OkStatus();
  }
  const fs::path& temp() const { return temp_; }

 private:
  fs::path path_, temp_;
  std::ofstream out_;
  bool committed_ = false;
};

class JsonlWriter : public RowWriter {
 public:
  JsonlWriter(const fs::path& path, LabelSpace space) : file_(path), space_(std::move(space)) {}
  absl::Status Open() { return file_.Open(); }
  absl::Status Write(const PredictionRow& row) override {
    file_.out() << RowToJson(row, space_).dump(-1, ' ', false, kJsonDump) << '\n';
    if (!file_.out()) return absl::DataLossError(absl::StrCat("writing ", file_.temp().string(), " failed"));
    return absl::OkStatus();
  }
  absl::Status Close() override { return file_.Commit(); }

 private:
  PendingFile file_;
  LabelSpace space_;
};

// Rows go to a spool file (one JSON array of cells per line, the metadata as
// an object) until Close() knows every metadata column.
class CsvWriter : public RowWriter {
 public:
  CsvWriter(const fs::path& path, LabelSpace space)
      : file_(path), spool_(fs::path(absl::StrCat(path.string(), ".rows"))), space_(std::move(space)) {}
  absl::Status Open() {
    RETURN_IF_ERROR(spool_.Open());
    return file_.Open();
  }
  absl::Status Write(const PredictionRow& row) override {
    nlohmann::json cells = nlohmann::json::array({row.key, row.url, row.path, row.shard, row.error});
    for (size_t h = 0; h < space_.heads.size(); ++h) {
      const auto& classes = space_.heads[h].classes;
      if (!row.error.empty() || h >= row.heads.size()) {
        for (size_t k = 0; k < classes.size() + 2; ++k) cells.push_back("");
        continue;
      }
      const HeadPrediction& p = row.heads[h];
      cells.push_back(p.predicted >= 0 && p.predicted < int(classes.size()) ? classes[p.predicted] : "");
      cells.push_back(Number(p.probability));
      for (size_t k = 0; k < classes.size(); ++k) cells.push_back(k < p.probabilities.size() ? Number(p.probabilities[k]) : "");
    }
    nlohmann::json meta = nlohmann::json::object();
    for (const char* group : {"labels", "extra"}) {
      auto it = row.meta.find(group);
      if (it == row.meta.end() || !it->is_object()) continue;
      for (auto field = it->begin(); field != it->end(); ++field) {
        std::string column = absl::StrCat(group, ".", field.key());
        meta_columns_.insert(column);
        meta[column] = CellText(field.value());
      }
    }
    spool_.out() << nlohmann::json::array({cells, meta}).dump(-1, ' ', false, kJsonDump) << '\n';
    if (!spool_.out()) return absl::DataLossError(absl::StrCat("writing ", spool_.temp().string(), " failed"));
    return absl::OkStatus();
  }
  absl::Status Close() override {
    spool_.out().flush();
    if (!spool_.out()) return absl::DataLossError(absl::StrCat("writing ", spool_.temp().string(), " failed"));
    std::vector<std::string> header = {"key", "url", "path", "shard", "error"};
    for (const auto& head : space_.heads) {
      header.push_back(head.name);
      header.push_back(head.name + ".probability");
      for (const auto& c : head.classes) header.push_back(absl::StrCat(head.name, ".p.", c));
    }
    header.insert(header.end(), meta_columns_.begin(), meta_columns_.end());
    WriteLine(header);
    std::ifstream in(spool_.temp(), std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) return absl::DataLossError(absl::StrCat(spool_.temp().string(), " is damaged"));
      std::vector<std::string> fields;
      for (const auto& cell : parsed[0]) fields.push_back(cell.get<std::string>());
      const nlohmann::json& meta = parsed[1];
      for (const std::string& column : meta_columns_) {
        auto it = meta.find(column);
        fields.push_back(it == meta.end() ? "" : it->get<std::string>());
      }
      WriteLine(fields);
    }
    return file_.Commit();  // the spool is removed with spool_
  }

 private:
  static std::string Number(double v) { return nlohmann::json(v).dump(); }
  void WriteLine(const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) absl::StrAppend(&line, i ? "," : "", CsvField(fields[i]));
    file_.out() << line << '\n';
  }

  PendingFile file_, spool_;
  LabelSpace space_;
  std::set<std::string> meta_columns_;
};

}  // namespace

nlohmann::json RowToJson(const PredictionRow& row, const LabelSpace& space) {
  nlohmann::json out = {{"key", row.key}};
  if (!row.url.empty()) out["url"] = row.url;
  if (!row.path.empty()) out["path"] = row.path;
  if (!row.shard.empty()) out["shard"] = row.shard;
  if (!row.error.empty()) {
    out["error"] = row.error;
  } else {
    nlohmann::json heads = nlohmann::json::object();
    for (size_t h = 0; h < space.heads.size() && h < row.heads.size(); ++h) {
      const auto& classes = space.heads[h].classes;
      const HeadPrediction& p = row.heads[h];
      nlohmann::json probabilities = nlohmann::json::object();
      for (size_t k = 0; k < classes.size() && k < p.probabilities.size(); ++k) probabilities[classes[k]] = p.probabilities[k];
      heads[space.heads[h].name] = {
          {"class", p.predicted >= 0 && p.predicted < int(classes.size()) ? classes[p.predicted] : ""},
          {"probability", p.probability},
          {"probabilities", std::move(probabilities)}};
    }
    out["heads"] = std::move(heads);
  }
  for (const char* group : {"labels", "extra"}) {
    auto it = row.meta.find(group);
    if (it != row.meta.end() && it->is_object()) out[group] = *it;
  }
  return out;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string CellText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump(-1, ' ', false, kJsonDump);
}

absl::Status CheckRowFileExtension(const fs::path& path) {
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  if (ext == ".jsonl" || ext == ".csv") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--out ", path.string(), ": unknown extension '",
                                                 path.extension().string(), "' (use .jsonl or .csv)"));
}

absl::StatusOr<std::unique_ptr<RowWriter>> OpenRowWriter(const fs::path& path, const LabelSpace& space) {
  RETURN_IF_ERROR(CheckRowFileExtension(path));
  if (absl::AsciiStrToLower(path.extension().string()) == ".jsonl") {
    auto writer = std::make_unique<JsonlWriter>(path, space);
    RETURN_IF_ERROR(writer->Open());
    return std::unique_ptr<RowWriter>(std::move(writer));
  }
  auto writer = std::make_unique<CsvWriter>(path, space);
  RETURN_IF_ERROR(writer->Open());
  return std::unique_ptr<RowWriter>(std::move(writer));
}

}  // namespace atelier::trainer
