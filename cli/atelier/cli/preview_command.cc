// `atelier preview --data ROOT [--head H] [--per-class N] [--out DIR] [--seed S]`:
// writes DIR/preview.html and DIR/contact_sheet.png (preview.h) and prints
// where they are with a one-line summary. Exit 0 when both are written, 1 on
// a bad --data or a write error (the message names the path), 2 on a usage error.
#include <iostream>
#include <memory>

#include "atelier/cli/commands.h"
#include "atelier/cli/preview.h"

namespace atelier::cli {
namespace {

struct PreviewFlags {
  PreviewOptions options;
  std::string data;
  std::string out = "preview";
};

int RunPreview(const PreviewFlags& flags) {
  PreviewOptions options = flags.options;
  options.data = flags.data;
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
  cmd->add_option("--per-class", flags->options.per_class, "images shown per class (chosen at random by --seed)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--out", flags->out, "folder for preview.html and contact_sheet.png (created if missing)");
  cmd->add_option("--seed", flags->options.seed, "seed of the random choice of images (same seed, same images)");
  cmd->callback([flags, &exit_code] { exit_code = RunPreview(*flags); });
}

}  // namespace atelier::cli
