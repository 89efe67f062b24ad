#include "atelier/trainer/prediction_rows.h"

#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

constexpr auto kJsonDump = nlohmann::json::error_handler_t::replace;

// A file a writer streams lines into: an AtomicFile (a temporary beside
// `path`, renamed on Commit(); removed when abandoned). Open() first.
class PendingFile {
 public:
  explicit PendingFile(fs::path path) : path_(std::move(path)) {}
  absl::Status Open() {
    Env& env = *Env::Default();
    if (path_.has_parent_path()) RETURN_IF_ERROR(env.CreateDirs(path_.parent_path()));
    ASSIGN_OR_RETURN(file_, AtomicFile::Create(env, path_));
    return absl::OkStatus();
  }
  absl::Status AppendLine(absl::string_view line) { return file_->Append(absl::StrCat(line, "\n")); }
  // Makes what was appended readable from temp().
  absl::Status Flush() { return file_->Flush(); }
  absl::Status Commit() { return file_->Commit(); }
  const fs::path& temp() const { return file_->temporary_path(); }

 private:
  const fs::path path_;
  std::unique_ptr<AtomicFile> file_;
};

class JsonlWriter : public RowWriter {
 public:
  JsonlWriter(const fs::path& path, LabelSpace space) : file_(path), space_(std::move(space)) {}
  absl::Status Open() { return file_.Open(); }
  absl::Status Write(const PredictionRow& row) override {
    return file_.AppendLine(RowToJson(row, space_).dump(-1, ' ', false, kJsonDump));
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
    return spool_.AppendLine(nlohmann::json::array({cells, meta}).dump(-1, ' ', false, kJsonDump));
  }
  absl::Status Close() override {
    RETURN_IF_ERROR(spool_.Flush());
    std::vector<std::string> header = {"key", "url", "path", "shard", "error"};
    for (const auto& head : space_.heads) {
      header.push_back(head.name);
      header.push_back(head.name + ".probability");
      for (const auto& c : head.classes) header.push_back(absl::StrCat(head.name, ".p.", c));
    }
    header.insert(header.end(), meta_columns_.begin(), meta_columns_.end());
    RETURN_IF_ERROR(WriteLine(header));
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
      RETURN_IF_ERROR(WriteLine(fields));
    }
    return file_.Commit();  // the spool is removed with spool_
  }

 private:
  static std::string Number(double v) { return nlohmann::json(v).dump(); }
  absl::Status WriteLine(const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) absl::StrAppend(&line, i ? "," : "", CsvField(fields[i]));
    return file_.AppendLine(line);
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
