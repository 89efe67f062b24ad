#include "atelier/trainer/embeddings.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/env.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/npy_file.h"
#include "atelier/trainer/prediction_rows.h"

namespace atelier::trainer {
namespace fs = std::filesystem;

namespace {

fs::path WithSuffix(const fs::path& npy, const char* suffix) {
  fs::path out = npy;
  out.replace_extension();
  return fs::path(absl::StrCat(out.string(), suffix));
}

// The predict row plus the sample JSON's other top-level fields (img2dataset
// columns, width, source...), so that `probe --target` finds any field.
std::string RowLine(const PredictionRow& row, const LabelSpace& space) {
  nlohmann::json out = RowToJson(row, space);
  for (auto it = row.meta.begin(); it != row.meta.end(); ++it) {
    if (!out.contains(it.key())) out[it.key()] = it.value();
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

fs::path EmbeddingRowsPath(const fs::path& npy) { return WithSuffix(npy, ".jsonl"); }
fs::path EmbeddingErrorsPath(const fs::path& npy) { return WithSuffix(npy, ".errors.jsonl"); }

absl::Status CheckEmbeddingPath(const fs::path& npy) {
  if (npy.extension() != ".npy" || npy.stem().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--out ", npy.string(), ": the features file must end in .npy"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EmbedResult> WriteEmbeddings(Classifier& model, InputSource& source, BulkPredictOptions options,
                                            const fs::path& npy) {
  RETURN_IF_ERROR(CheckEmbeddingPath(npy));
  Env& env = *Env::Default();
  const LabelSpace& space = model->config.labels;
  EmbedResult result;
  result.dim = model->backbone->feature_dim();
  ASSIGN_OR_RETURN(auto matrix, NpyMatrixWriter::Open(env, npy, result.dim));
  ASSIGN_OR_RETURN(auto rows, AtomicFile::Create(env, EmbeddingRowsPath(npy)));
  std::unique_ptr<RowWriter> errors;  // opened at the first error row
  options.features = true;
  auto sink = [&](const BulkInput& input) -> absl::Status {
    const PredictionRow& row = input.row;
    if (!row.error.empty()) {
      if (!errors) {
        ASSIGN_OR_RETURN(errors, OpenRowWriter(EmbeddingErrorsPath(npy), space));
      }
      ++result.errors;
      return errors->Write(row);
    }
    RETURN_IF_ERROR(matrix->AppendRow(row.features));
    ++result.rows;
    return rows->Append(RowLine(row, space));
  };
  RETURN_IF_ERROR(PredictAll(model, source, options, sink).status());
  RETURN_IF_ERROR(matrix->Close());
  RETURN_IF_ERROR(rows->Commit());
  if (errors) {
    RETURN_IF_ERROR(errors->Close());
  } else if (env.FileExists(EmbeddingErrorsPath(npy))) {
    RETURN_IF_ERROR(env.RemoveFile(EmbeddingErrorsPath(npy)));  // an earlier run's, now wrong
  }
  result.report = source.report();
  return result;
}

}  // namespace atelier::trainer
