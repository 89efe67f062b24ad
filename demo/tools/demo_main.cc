// atelier-demo (`atelier demo`): the whole system on an embedded default, no
// internet. Fashion-MNIST (Debian's dataset-fashion-mnist) is imported, served
// from a loopback origin as a Met API replica and a BAM-style SQLite, crawled by
// a coordinator and crawler processes, trained on by Gloo trainer ranks, and
// evaluated on the held-out test set. Ctrl-C stops every child process.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/command_line.h"
#include "atelier/common/stop_signal_watcher.h"
#include "atelier/demo/demo_pipeline.h"

namespace {

std::atomic<bool> g_interrupted{false};

}  // namespace

int main(int argc, char** argv) {
  atelier::demo::DemoConfig config;
  CLI::App app{
      "atelier demo: crawl a loopback replica of the Met API and a BAM SQLite built from "
      "Fashion-MNIST, train two Gloo ranks on the shards and evaluate on the held-out test set"};
  atelier::Conventions(app, "demo");
  app.add_option("--work", config.work_dir, "directory for everything the demo writes");
  app.add_option("--images", config.images, "images served by the origin")->check(CLI::Range(1, 1'000'000));
  app.add_option("--crawlers", config.crawlers, "crawler processes")->check(CLI::Range(1, 64));
  app.add_option("--ranks", config.ranks, "trainer ranks (Gloo, one process each)")->check(CLI::Range(1, 64));
  app.add_option("--epochs", config.epochs, "training epochs")->check(CLI::Range(1, 10'000));
  app.add_option("--fashion-mnist", config.fashion_mnist_dir, "Fashion-MNIST IDX (.gz) directory");
  app.add_option("--heldout", config.heldout_images, "held-out test images to evaluate on")
      ->check(CLI::Range(0, 1'000'000));
  if (auto exit = atelier::Parse(app, argc, argv)) return *exit;

  atelier::StopSignalWatcher::BlockStopSignals();  // before any thread starts
  atelier::demo::DemoPipeline pipeline(config);
  // Declared after the pipeline: destroyed (joined) before it.
  atelier::StopSignalWatcher watcher([&pipeline](int) {
    g_interrupted = true;
    std::cerr << "\natelier demo: interrupted, stopping every process...\n";
    pipeline.Interrupt();
  });
  absl::Status status = pipeline.Run();
  if (g_interrupted) return 130;
  if (!status.ok()) {
    std::cerr << "atelier demo: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
