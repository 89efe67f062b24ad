#include "atelier/trainer/import_command.h"

#include <cstdio>

#include "atelier/trainer/command_support.h"

namespace atelier::trainer {

CLI::App* AddImportCommand(CLI::App& app, ImportFlags* flags) {
  auto* import = app.add_subcommand("import", "turn an image folder or IDX files into shards");
  import->require_subcommand(1);
  flags->folder = import->add_subcommand("folder", "DIR/<class>/<images>");
  flags->folder->add_option("dir", flags->dir, "folder of class subfolders")->required();
  auto* idx = import->add_subcommand("idx", "IDX images + labels (MNIST family; .gz allowed)");
  idx->add_option("--images", flags->images, "IDX image file")->required();
  idx->add_option("--labels", flags->labels, "IDX label file")->required();
  idx->add_option("--class-names", flags->class_names, "class names by label value (comma-separated)")
      ->delimiter(',');
  idx->add_option("--key-prefix", flags->key_prefix, "sample keys are PREFIX-NNNNNN");
  idx->add_option("--limit", flags->options.limit, "import only the first N images (0: all)");
  for (CLI::App* cmd : {flags->folder, idx}) {
    cmd->add_option("--head", flags->options.head, "label (head) name")->required();
    cmd->add_option("--data", flags->data_root, "dataset root to write shards into")->required();
    cmd->add_option("--shard-size", flags->options.samples_per_shard, "samples per shard");
  }
  return import;
}

int RunImportCommand(ImportFlags flags) {
  flags.options.data_root = flags.data_root;
  const bool folder = flags.folder != nullptr && flags.folder->parsed();
  absl::StatusOr<ImportResult> result =
      folder ? ImportFolder(flags.dir, flags.options)
             : ImportIdx(flags.images, flags.labels, flags.class_names, flags.key_prefix, flags.options);
  if (!result.ok()) return FailCommand(result.status());
  std::printf("imported %lld samples into %d shard(s) under %s (%lld skipped); head '%s' with %zu classes\n",
              static_cast<long long>(result->imported), result->shards, flags.options.data_root.c_str(),
              static_cast<long long>(result->skipped), flags.options.head.c_str(), result->classes.size());
  return 0;
}

}  // namespace atelier::trainer
