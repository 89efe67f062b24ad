// The coordinator's RPC edge on a real port (0: picked by the system), with
// the real services over an in-memory ShardTable: grpc.health.v1 per atelier
// service, INVALID_ARGUMENT for bad arguments before any state changes, and
// checkpoint epochs and best metrics in ListCheckpoints.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/coordinator/checkpoint_catalog.h"
#include "atelier/coordinator/checkpoint_service.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/coordinator/services.h"
#include "atelier/coordinator/training_registry.h"
#include "atelier/coordinator/training_service.h"
#include "atelier/rpc/rpc_server.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/v1/checkpoint.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "test_items.h"

namespace atelier::coordinator {
namespace {

using ::testing::HasSubstr;

class RpcEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(table_, ShardTable::Open(store_, clock_, ShardTableOptions()));
    testing::FillTable(*table_, 1, 2);
    crawl_ = std::make_unique<CrawlServiceImpl>(*table_, v1::CrawlSettings(), "job");
    status_ = std::make_unique<StatusServiceImpl>(*table_, clock_);
    const std::vector<rpc::RpcService> services = {
        {crawl_.get(), v1::CrawlService::service_full_name()},
        {status_.get(), v1::StatusService::service_full_name()},
        {&training_, v1::TrainingService::service_full_name()},
        {&checkpoints_, v1::CheckpointService::service_full_name()}};
    ASSERT_OK_AND_ASSIGN(server_, rpc::RpcServer::Start("127.0.0.1:0", services));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    status_->Shutdown();
    server_->Shutdown(absl::Seconds(1));
  }
  static void Deadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }

  FakeClock clock_;
  kv::MemoryKvStore store_;
  std::unique_ptr<ShardTable> table_;
  atelier::testing::TempDir root_{"rpc-edge"};
  TrainingRegistry registry_{&clock_};
  TrainingServiceImpl training_{&registry_};
  CheckpointCatalog catalog_{root_.path()};
  CheckpointServiceImpl checkpoints_{&catalog_};
  std::unique_ptr<CrawlServiceImpl> crawl_;
  std::unique_ptr<StatusServiceImpl> status_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RpcEdgeTest, HealthIsServingForEveryAtelierServiceByName) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* name : {"atelier.v1.CrawlService", "atelier.v1.StatusService", "atelier.v1.TrainingService",
                           "atelier.v1.CheckpointService"}) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status s = health->Check(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << name;
  }
}

TEST_F(RpcEdgeTest, ReportMetricsWithoutARunIsRefusedAndCreatesNoRun) {
  auto stub = v1::TrainingService::NewStub(channel_);
  grpc::ClientContext ctx;
  Deadline(ctx);
  v1::ReportMetricsRequest request;
  request.set_epoch(1);
  v1::ReportMetricsResponse response;
  grpc::Status s = stub->ReportMetrics(&ctx, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("run"));
  EXPECT_TRUE(registry_.Runs().empty());
}

TEST_F(RpcEdgeTest, StopTrainingIsAnsweredInTheRunsNextReport) {
  auto stub = v1::TrainingService::NewStub(channel_);
  auto report = [&] {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::ReportMetricsRequest request;
    request.set_run("r1");
    v1::ReportMetricsResponse response;
    EXPECT_TRUE(stub->ReportMetrics(&ctx, request, &response).ok());
    return response.stop_requested();
  };
  EXPECT_FALSE(report());
  grpc::ClientContext ctx;
  Deadline(ctx);
  v1::StopTrainingRequest request;
  request.set_run("r1");
  v1::StopTrainingResponse response;
  ASSERT_TRUE(stub->StopTraining(&ctx, request, &response).ok());
  EXPECT_TRUE(response.known_run());
  EXPECT_TRUE(report());
}

TEST_F(RpcEdgeTest, StatusCommandStopsARun) {
  auto result = atelier::testing::RunCommand({atelier::testing::BinaryPath("atelier-status").string(),
                                              "--coordinator", absl::StrCat("127.0.0.1:", server_->port()),
                                              "--stop-run", "r9", "--timeout-s", "20"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(registry_.StopRequested("r9"));
}

TEST_F(RpcEdgeTest, NegativePageSizeIsRefused) {
  auto stub = v1::StatusService::NewStub(channel_);
  for (bool dead : {true, false}) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    grpc::Status s;
    if (dead) {
      v1::ListDeadLinksRequest request;
      request.mutable_page()->set_page_size(-1);
      v1::ListDeadLinksResponse response;
      s = stub->ListDeadLinks(&ctx, request, &response);
    } else {
      v1::ListFailedItemsRequest request;
      request.mutable_page()->set_page_size(-1);
      v1::ListFailedItemsResponse response;
      s = stub->ListFailedItems(&ctx, request, &response);
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << dead;
    EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  }
}

TEST_F(RpcEdgeTest, LeaseCallsWithoutWorkerOrTokenAreRefusedAndChangeNothing) {
  auto stub = v1::CrawlService::NewStub(channel_);
  const uint64_t seq = table_->change_seq();
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::LeaseShardResponse response;
    EXPECT_EQ(stub->LeaseShard(&ctx, v1::LeaseShardRequest(), &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::CompleteShardRequest request;
    request.set_worker_id("w-1");  // token 0
    v1::CompleteShardResponse response;
    grpc::Status s = stub->CompleteShard(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("fencing_token"));
  }
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::ReportProgressRequest request;
    request.set_worker_id("w-1");
    request.set_fencing_token(1);
    request.set_bytes_downloaded(-5);
    v1::ReportProgressResponse response;
    EXPECT_EQ(stub->ReportProgress(&ctx, request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::SealSegmentRequest request;
    request.set_worker_id("w-1");  // token 0
    v1::SealSegmentResponse response;
    grpc::Status s = stub->SealSegment(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("fencing_token"));
  }
  EXPECT_EQ(table_->change_seq(), seq);
  EXPECT_EQ(table_->Status().shards_leased(), 0);
}

TEST_F(RpcEdgeTest, PullAndJoinRefuseBadArguments) {
  {
    auto stub = v1::CheckpointService::NewStub(channel_);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::PullCheckpointRequest request;
    request.set_run("r1");
    request.set_offset(-1);
    auto reader = stub->PullCheckpoint(&ctx, request);
    v1::CheckpointChunk chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    auto stub = v1::TrainingService::NewStub(channel_);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::JoinTrainingRequest request;
    request.set_run("r1");
    request.set_hostname("h");
    request.set_world_size(0);
    v1::JoinTrainingResponse response;
    grpc::Status s = stub->JoinTraining(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("world_size"));
  }
}

TEST_F(RpcEdgeTest, ListCheckpointsReportsEpochAndBestMetric) {
  const auto run = root_.path() / "runs" / "r1";
  for (const char* name : {"ckpt-10.pt", "ckpt-20.pt", "ckpt-25.pt"}) {
    atelier::testing::WriteFileOrDie(run / "checkpoints" / name, "weights");
  }
  atelier::testing::WriteFileOrDie(run / "checkpoints" / "best", "ckpt-20.pt\n");
  atelier::testing::WriteFileOrDie(run / "checkpoints" / "latest", "ckpt-25.pt\n");
  atelier::testing::WriteFileOrDie(run / "model.pt", "final");
  atelier::testing::WriteFileOrDie(
      run / "metrics.jsonl",
      R"({"epoch":1,"step":10,"train_loss":0.9,"val":{"a":{"accuracy":0.5},"b":{"accuracy":0.7}}})"
      "\n"
      R"({"epoch":2,"step":20,"train_loss":0.5,"val":{"a":{"accuracy":0.8},"b":{"accuracy":0.6}}})"
      "\n");
  auto stub = v1::CheckpointService::NewStub(channel_);
  grpc::ClientContext ctx;
  Deadline(ctx);
  v1::ListCheckpointsRequest request;
  request.set_run("r1");
  v1::ListCheckpointsResponse response;
  ASSERT_TRUE(stub->ListCheckpoints(&ctx, request, &response).ok());
  std::map<std::string, v1::CheckpointInfo> by_name;
  for (const auto& info : response.checkpoints()) by_name[info.name()] = info;
  ASSERT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name["ckpt-10.pt"].epoch(), 1);
  EXPECT_EQ(by_name["ckpt-20.pt"].epoch(), 2);
  EXPECT_TRUE(by_name["ckpt-20.pt"].is_best());
  EXPECT_DOUBLE_EQ(by_name["ckpt-20.pt"].best_metric(), 0.7);
  EXPECT_EQ(by_name["ckpt-25.pt"].epoch(), 2);  // in the middle of the third epoch
  EXPECT_EQ(by_name["ckpt-25.pt"].best_metric(), 0);
  EXPECT_EQ(by_name["model.pt"].epoch(), 2);
}

}  // namespace
}  // namespace atelier::coordinator
