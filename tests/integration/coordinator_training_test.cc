// Trainer ranks started without launcher variables find each other through
// the coordinator's rendezvous, train with Gloo and report to it; and Ctrl-C
// on `atelier demo` leaves no process running.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::BinaryPath;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::testing::HasSubstr;

constexpr char kMnist[] = "/usr/share/datasets/fashion-mnist";

// Processes whose command line mentions `needle`.
int ProcessesMentioning(const std::string& needle) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFileOrEmpty(entry.path() / "cmdline");
    for (auto& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(needle) != std::string::npos) ++n;
  }
  return n;
}

TEST(CoordinatorTraining, RanksRendezvousThroughTheCoordinatorAndReport) {
  testing::TempDir dir("coord-train");
  const fs::path data = dir.path() / "data";
  auto import = RunCommand({BinaryPath("atelier").string(), "import", "idx", "--images",
                            std::string(kMnist) + "/t10k-images-idx3-ubyte.gz", "--labels",
                            std::string(kMnist) + "/t10k-labels-idx1-ubyte.gz", "--head", "garment", "--limit", "256",
                            "--data", data.string()});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  testing::WriteFileOrDie(dir.path() / "urls.txt", "http://127.0.0.1:9/x.jpg\n");
  testing::WriteFileOrDie(dir.path() / "job.yaml", "name: t\ndataset: " + data.string() +
                                                       "\nsources:\n  - urls: {file: urls.txt}\n");
  testing::ChildProcess coordinator({BinaryPath("atelier-coordinator").string(), "--spec",
                                     (dir.path() / "job.yaml").string(), "--state", (dir.path() / "state").string(),
                                     "--listen", "127.0.0.1:0", "--port-file", (dir.path() / "ports").string()},
                                    dir.path() / "coordinator.log");
  auto port = testing::WaitForPort(coordinator, dir.path() / "ports", "grpc_port", dir.path() / "coordinator.log");
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  std::vector<std::unique_ptr<testing::ChildProcess>> ranks;
  for (int i = 0; i < 2; ++i) {
    ranks.push_back(std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{BinaryPath("atelier-trainer").string(), "train", "--data", data.string(), "--out",
                                 (data / "runs" / "rv").string(), "--epochs", "1", "--image-size", "28",
                                 "--batch-size", "32", "--coordinator", address, "--world-size", "2",
                                 "--connect-timeout", "120"},
        dir.path() / ("rank" + std::to_string(i) + ".log")));
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(ranks[i]->Wait(std::chrono::minutes(5)), 0)
        << ReadFileOrEmpty(dir.path() / ("rank" + std::to_string(i) + ".log"));
  }
  const std::string logs = ReadFileOrEmpty(dir.path() / "rank0.log") + ReadFileOrEmpty(dir.path() / "rank1.log");
  EXPECT_THAT(logs, HasSubstr("of 2 (coordinator)"));
  auto status = RunCommand({BinaryPath("atelier-status").string(), "--coordinator", address, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  auto json = nlohmann::json::parse(status.output);
  ASSERT_EQ(json["training"].size(), 1u) << status.output;
  EXPECT_EQ(json["training"][0]["run"], "rv");
  EXPECT_EQ(json["training"][0]["world_size"], 2);
  EXPECT_EQ(json["training"][0]["epoch"], 0);
  EXPECT_TRUE(fs::exists(data / "runs" / "rv" / "model.pt"));
}

TEST(DemoInterrupt, CtrlCLeavesNothingRunning) {
  testing::TempDir dir("demo-int");
  const fs::path work = dir.path() / "demo-work";
  testing::ChildProcess demo({BinaryPath("atelier").string(), "demo", "--work", work.string(), "--images", "1200"},
                             dir.path() / "demo.log");
  // Interrupt while the coordinator and crawlers run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (ReadFileOrEmpty(dir.path() / "demo.log").find(" items (ok ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(ProcessesMentioning(work.string()), 1) << ReadFileOrEmpty(dir.path() / "demo.log");
  kill(demo.pid(), SIGINT);
  EXPECT_EQ(demo.Wait(std::chrono::seconds(30)), 130) << ReadFileOrEmpty(dir.path() / "demo.log");
  EXPECT_EQ(ProcessesMentioning(work.string()), 0);
}

}  // namespace
}  // namespace atelier
