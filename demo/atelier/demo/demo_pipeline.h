// DemoPipeline: the steps of `atelier demo`, each one a real atelier process
// (import, coordinator, crawlers, trainer ranks reporting to the coordinator,
// pull over gRPC, evaluate, predict) started from the directory of the
// running executable. Run() blocks until the demo
// ends; Interrupt() (any thread) stops every child and makes Run() return.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/common/process_set.h"

namespace atelier::demo {

struct DemoConfig {
  std::string work_dir = "atelier-demo";
  int images = 3000;
  int heldout_images = 1000;
  int crawlers = 2;
  int ranks = 2;
  int epochs = 8;
  std::string fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";
};

class DemoPipeline {
 public:
  explicit DemoPipeline(DemoConfig config);
  absl::Status Run();
  void Interrupt();

 private:
  absl::Status PrepareWorkDir();
  absl::Status ImportFashionMnist();
  absl::Status Crawl();
  // The gRPC port `server` (the coordinator) reports in `port_file`, waiting
  // up to 5 minutes; an error when it exits first or the demo is interrupted.
  absl::StatusOr<int> WaitForPortFile(const std::filesystem::path& port_file, pid_t server);
  absl::Status Train();
  absl::Status EvaluateAndPredict();
  void PrintSummary() const;

  // Runs one atelier executable to completion; its output goes to the terminal
  // when `log` is empty. Fails naming the step and the log on a non-zero exit.
  absl::Status RunStep(const std::string& step, const std::vector<std::string>& argv,
                       const std::filesystem::path& log = {});
  std::string Executable(const std::string& name) const;
  // The training run's directory, under the dataset root so that the
  // coordinator serves its checkpoints.
  std::filesystem::path RunDir() const;

  DemoConfig config_;
  std::filesystem::path work_;
  std::filesystem::path bin_dir_;
  ProcessSet processes_;
  std::string coordinator_address_;  // running from Crawl() to the end
  pid_t coordinator_pid_ = -1;
  std::atomic<bool> interrupted_{false};
};

}  // namespace atelier::demo
