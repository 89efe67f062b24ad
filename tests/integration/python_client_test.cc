// The wire contract works outside C++: Python stubs generated from proto/ with
// Debian's protoc and grpc_python_plugin read a real coordinator's status; the
// same coordinator serves it as Prometheus metrics. The coordinator listens
// on port 0 for both and tells the ports through --port-file.
#include <filesystem>
#include <string>

#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::BinaryPath;
using ::atelier::testing::RunCommand;
using ::atelier::testing::SourcePath;
using ::testing::HasSubstr;

constexpr char kClient[] = R"(
import sys, grpc
sys.path.insert(0, sys.argv[1])
from atelier.v1 import status_pb2, status_pb2_grpc, checkpoint_pb2, checkpoint_pb2_grpc
channel = grpc.insecure_channel(sys.argv[2])
grpc.channel_ready_future(channel).result(timeout=30)
status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(status_pb2.GetStatusRequest(), timeout=10)
print("job", status.crawl.job_name)
print("items_total", status.crawl.items_total)
print("shards_total", status.crawl.shards_total)
for update in status_pb2_grpc.StatusServiceStub(channel).WatchStatus(
        status_pb2.WatchStatusRequest(interval_ms=100), timeout=10):
    print("watch items_pending", update.crawl.items_pending)
    break
runs = checkpoint_pb2_grpc.CheckpointServiceStub(channel).ListCheckpoints(
    checkpoint_pb2.ListCheckpointsRequest(), timeout=10)
print("runs", list(runs.runs))
)";

TEST(PythonClient, ReadsCoordinatorStatusThroughGeneratedStubs) {
  testing::TempDir dir("python-client");
  const fs::path gen = dir.path() / "gen";
  fs::create_directories(gen);
  std::vector<std::string> protoc = {"protoc", "-I", SourcePath("proto").string(), "--python_out=" + gen.string(),
                                     "--grpc_out=" + gen.string(),
                                     "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"};
  for (const char* p : {"common", "crawl", "status", "training", "checkpoint"}) {
    protoc.push_back((SourcePath("proto") / "atelier" / "v1" / (std::string(p) + ".proto")).string());
  }
  auto generated = RunCommand(protoc);
  ASSERT_EQ(generated.exit_code, 0) << generated.output;

  std::string urls;
  for (int i = 0; i < 7; ++i) urls += "http://127.0.0.1:9/image-" + std::to_string(i) + ".jpg\n";
  testing::WriteFileOrDie(dir.path() / "urls.txt", urls);
  testing::WriteFileOrDie(dir.path() / "job.yaml",
                          "name: pyjob\ndataset: " + (dir.path() / "data").string() +
                              "\nshard_size: 3\nsources:\n  - urls: {file: urls.txt}\n");
  testing::WriteFileOrDie(dir.path() / "data" / "runs" / "r7" / "model.pt", "weights");
  const fs::path port_file = dir.path() / "coordinator.port";
  testing::ChildProcess coordinator({BinaryPath("atelier-coordinator").string(), "--spec",
                                     (dir.path() / "job.yaml").string(), "--state",
                                     (dir.path() / "state").string(), "--listen", "127.0.0.1:0",
                                     "--metrics-listen", "127.0.0.1:0", "--port-file", port_file.string()},
                                    dir.path() / "coordinator.log");
  auto grpc_port = testing::WaitForPort(coordinator, port_file, "grpc_port", dir.path() / "coordinator.log");
  ASSERT_TRUE(grpc_port.ok()) << grpc_port.status();
  auto metrics_port = testing::WaitForPort(coordinator, port_file, "metrics_port");
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  const std::string address = "127.0.0.1:" + std::to_string(*grpc_port);

  testing::WriteFileOrDie(dir.path() / "client.py", kClient);
  auto client = RunCommand({"/usr/bin/python3", (dir.path() / "client.py").string(), gen.string(), address});
  ASSERT_EQ(client.exit_code, 0) << client.output << testing::ReadFileOrEmpty(dir.path() / "coordinator.log");
  EXPECT_THAT(client.output, HasSubstr("job pyjob"));
  EXPECT_THAT(client.output, HasSubstr("items_total 7"));
  EXPECT_THAT(client.output, HasSubstr("shards_total 3"));
  EXPECT_THAT(client.output, HasSubstr("watch items_pending 7"));
  EXPECT_THAT(client.output, HasSubstr("runs ['r7']"));

  // The same status as Prometheus metrics.
  httplib::Client metrics("127.0.0.1", *metrics_port);
  auto scrape = metrics.Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->status, 200);
  EXPECT_THAT(scrape->body, HasSubstr("atelier_crawl_job_items 7\n"));
  EXPECT_THAT(scrape->body, HasSubstr("atelier_crawl_items{state=\"pending\"} 7\n"));
}

}  // namespace
}  // namespace atelier
