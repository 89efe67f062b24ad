#include "atelier/trainer/command_support.h"

#include <cstdio>

namespace atelier::trainer {

int FailCommand(const absl::Status& status) {
  std::fprintf(stderr, "atelier-trainer: %s\n", status.ToString().c_str());
  return 1;
}

CLI::Option* AddBulkInputFlags(CLI::App* command, BulkInputFlags* f) {
  auto* images = command->add_option("images", f->images, "image files");
  auto* data = command->add_option("--data", f->data, "dataset root, folder of WebDataset .tar files, or one .tar");
  auto* folder = command->add_option("--folder", f->folder,
                                     "folder tree of image files (recursive; files that do not decode are error rows)");
  data->excludes(folder);
  images->excludes(data)->excludes(folder);
  command->add_option("--decode-threads", f->decode_threads, "image decoding threads (0: one per core)")
      ->check(CLI::Range(0, 1024));
  command->add_option("--batch-size", f->batch_size, "images per forward pass")->check(CLI::Range(1, 65536));
  command->add_option("--threads", f->threads, "LibTorch threads (0: LibTorch's default)")->check(CLI::Range(0, 1024));
  command->add_flag("--progress", f->progress, "progress line on stderr even when it is not a terminal");
  return images;
}

}  // namespace atelier::trainer
