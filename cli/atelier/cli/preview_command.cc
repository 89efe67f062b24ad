// `atelier preview --data ROOT [--head H] [--label-field SPEC] [--per-class N] [--out DIR] [--seed S]`:
// writes DIR/preview.html and DIR/contact_sheet.png (preview.h) and prints
// where they are with a one-line summary. Exit 0 when both are written, 1 on
// a bad --data or a write error (the message names the path), 2 on a usage error.
#include <iostream>
#include <memory>

#include "atelier/cli/commands.h"
#include "atelier/cli/preview.h"
#include "atelier/common/command_line.h"
#include "atelier/dataset/label_fields.h"

namespace atelier::cli {
namespace {

struct PreviewFlags {
  PreviewOptions options;
  std::string data;
  std::string label_field;
  std::string out = "preview";
};

int RunPreview(const PreviewFlags& flags) {
  PreviewOptions options = flags.options;
  options.data = flags.data;
  if (!flags.label_field.empty()) {
    auto fields = dataset::ParseLabelFields(flags.label_field);
    if (!fields.ok()) {
      std::cerr << "atelier preview: --label-field: " << fields.status().message()
                << "\nRun with --help for more information.\n";
      return kUsageError;
    }
    options.label_fields = std::move(*fields);
  }
  auto data = WritePreview(options, flags.out);
  if (!data.ok()) {
    std::cerr << "atelier preview: " << data.status().message() << "\n";
    return 1;
  }
  const std::filesystem::path out(flags.out);
  std::cout << (out / kPreviewPageName).string() << "\n" << (out / kContactSheetName).string() << "\n";
  std::cerr << data->shards.size() << " shards, " << data->samples << " samples, " << data->undecodable
            << " undecodable, " << data->report.skipped() << " skipped by the reader, " << data->heads.size()
            << " heads\n";
  return 0;
}

}  // namespace

void AddPreviewCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "preview", "look at a dataset before training: class counts and sample images per head (HTML + contact sheet)");
  auto flags = std::make_shared<PreviewFlags>();
  cmd->add_option("--data", flags->data,
                  "dataset root (ROOT/shards/NNNNNN.tar, committed shards only), a folder of *.tar, or one .tar")
      ->required();
  cmd->add_option("--head", flags->options.head, "only this head (default: every head)");
  cmd->add_option("--label-field", flags->label_field,
                  "labels from HEAD=SOURCE,... as train reads them: SOURCE .EXT is a member (.cls, .txt), else a "
                  "dotted JSON path (style, labels.media); default: the JSON's \"labels\" and .cls");
  cmd->add_option("--per-class", flags->options.per_class, "images shown per class (chosen at random by --seed)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--out", flags->out, "folder for preview.html and contact_sheet.png (created if missing)");
  cmd->add_option("--seed", flags->options.seed, "seed of the random choice of images (same seed, same images)");
  cmd->callback([flags, &exit_code] { exit_code = RunPreview(*flags); });
}

}  // namespace atelier::cli
