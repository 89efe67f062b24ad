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

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  app.add_option("--work", config.work_dir, "directory for everything the demo writes")
      ->capture_default_str();
  app.add_option("--images", config.images, "images served by the origin")->capture_default_str();
  app.add_option("--crawlers", config.crawlers, "crawler processes")->capture_default_str();
  app.add_option("--ranks", config.ranks, "trainer ranks (Gloo, one process each)")
      ->capture_default_str();
  app.add_option("--epochs", config.epochs, "training epochs")->capture_default_str();
  app.add_option("--fashion-mnist", config.fashion_mnist_dir, "Fashion-MNIST IDX (.gz) directory")
      ->capture_default_str();
  app.add_option("--heldout", config.heldout_images, "held-out test images to evaluate on")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

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
