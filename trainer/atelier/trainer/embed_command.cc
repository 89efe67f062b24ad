#include "atelier/trainer/embed_command.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "atelier/common/command_line.h"
#include "atelier/trainer/bulk_predict.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/embeddings.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/progress_line.h"

namespace atelier::trainer {
namespace fs = std::filesystem;

CLI::App* AddEmbedCommand(CLI::App& app, EmbedFlags* f) {
  auto* embed = app.add_subcommand(
      "embed", "write the model's features of images, a folder tree or a dataset as a .npy matrix with its rows");
  embed->add_option("--checkpoint", f->checkpoint, "model.pt, checkpoint file or run directory")->required();
  AddBulkInputFlags(embed, f);
  embed->add_option("--out", f->out, "FEATS.npy (float32 rows x features); rows in FEATS.jsonl")
      ->required()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            absl::Status s = CheckEmbeddingPath(value);
            return s.ok() ? "" : std::string(s.message());
          },
          "FEATS.npy"));
  return embed;
}

int RunEmbedCommand(const EmbedFlags& f) {
  if (f.images.empty() && f.data.empty() && f.folder.empty()) {
    std::fprintf(stderr, "atelier embed: give image files, --data ROOT or --folder DIR\n"
                         "Run with --help for more information.\n");
    return kUsageError;
  }
  auto source = OpenInputSource(f.data, f.folder, std::vector<fs::path>(f.images.begin(), f.images.end()));
  if (!source.ok()) return FailCommand(source.status());
  auto model = LoadModelFile(f.checkpoint);
  if (!model.ok()) return FailCommand(model.status());
  if (f.threads > 0) torch::set_num_threads(f.threads);
  BulkPredictOptions options;
  options.decode_threads = f.decode_threads;
  options.batch_size = f.batch_size;
  ProgressLine progress("embed", f.progress || isatty(STDERR_FILENO), (*source)->total());
  options.on_progress = [&](int64_t done) { progress.Update(done); };
  auto result = WriteEmbeddings(*model, **source, options, f.out);
  if (!result.ok()) return FailCommand(result.status());
  progress.Update(result->rows + result->errors, /*final=*/true);
  std::string done = absl::StrCat("embed: ", result->rows, " rows x ", result->dim, " features in ", f.out, ", rows in ",
                                  EmbeddingRowsPath(f.out).string());
  if (result->errors > 0) {
    absl::StrAppend(&done, "; ", result->errors, " unreadable inputs in ", EmbeddingErrorsPath(f.out).string());
  }
  if (result->report.skipped() > 0 || !result->report.bad_shards.empty()) {
    absl::StrAppend(&done, "; data: ", result->report.Summary());
  }
  std::fprintf(stderr, "%s\n", done.c_str());
  return 0;
}

}  // namespace atelier::trainer
