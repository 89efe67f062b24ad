// `atelier pull` against a real CheckpointService on 127.0.0.1: whole pulls,
// interrupted and resumed pulls while training writes new checkpoints, a file
// that changes under a resumed pull, and bad names.
#include <filesystem>
#include <random>
#include <string>

#include "atelier/cli/checkpoint_puller.h"
#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/coordinator/checkpoint_catalog.h"
#include "atelier/coordinator/checkpoint_service.h"
#include "atelier/dataset/sha256.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class CheckpointPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ckpt_dir_ = root_.path() / "runs" / "r1" / "checkpoints";
    WriteCheckpoint(10, RandomBytes(3'000'000, 1), /*best=*/true);
    catalog_ = std::make_unique<coordinator::CheckpointCatalog>(root_.path());
    service_ = std::make_unique<coordinator::CheckpointServiceImpl>(catalog_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(); }

  void WriteCheckpoint(int step, const std::string& bytes, bool best) {
    const std::string name = "ckpt-" + std::to_string(step) + ".pt";
    WriteFileOrDie(ckpt_dir_ / name, bytes);
    WriteFileOrDie(ckpt_dir_ / "latest", name + "\n");
    if (best) WriteFileOrDie(ckpt_dir_ / "best", name + "\n");
  }

  cli::PullRequest Request(const std::string& which, const fs::path& out) {
    cli::PullRequest r;
    r.coordinator = address_;
    r.run = "r1";
    r.which = which;
    r.output = out.string();
    r.chunk_bytes = 256 * 1024;
    return r;
  }

  testing::TempDir root_{"ckpt-root"};
  testing::TempDir out_{"ckpt-out"};
  fs::path ckpt_dir_;
  std::unique_ptr<coordinator::CheckpointCatalog> catalog_;
  std::unique_ptr<coordinator::CheckpointServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(CheckpointPullTest, ListsRunsWithPointersAndDigests) {
  WriteCheckpoint(20, RandomBytes(1000, 2), /*best=*/false);
  WriteFileOrDie(ckpt_dir_ / "ckpt-30.pt.tmp-123", "half written");
  ASSERT_OK_AND_ASSIGN(auto files, catalog_->List("r1", /*with_sha256=*/true));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].name, "ckpt-10.pt");
  EXPECT_TRUE(files[0].is_best);
  EXPECT_FALSE(files[0].is_latest);
  EXPECT_EQ(files[1].name, "ckpt-20.pt");
  EXPECT_TRUE(files[1].is_latest);
  EXPECT_EQ(files[1].sha256, dataset::Sha256Hex(RandomBytes(1000, 2)));
  EXPECT_EQ(files[0].relative_path, "runs/r1/checkpoints/ckpt-10.pt");
}

TEST_F(CheckpointPullTest, PullsWholeFileAndVerifiesIt) {
  const fs::path out = out_.path() / "best.pt";
  ASSERT_OK_AND_ASSIGN(auto result, cli::PullCheckpoint(Request("best", out)));
  EXPECT_EQ(result.name, "ckpt-10.pt");
  EXPECT_EQ(result.resumed_from, 0);
  EXPECT_EQ(ReadFileOrEmpty(out), ReadFileOrEmpty(ckpt_dir_ / "ckpt-10.pt"));
  EXPECT_EQ(result.sha256, dataset::Sha256Hex(ReadFileOrEmpty(out)));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  EXPECT_FALSE(fs::exists(out.string() + ".part.json"));
}

TEST_F(CheckpointPullTest, InterruptedPullResumesTheSameFileWhileTrainingGoesOn) {
  const fs::path out = out_.path() / "latest.pt";
  auto request = Request("latest", out);
  request.stop_after_bytes = 1'000'000;
  EXPECT_THAT(cli::PullCheckpoint(request), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("resume")));
  EXPECT_FALSE(fs::exists(out));
  const auto partial = fs::file_size(out.string() + ".part");
  EXPECT_GE(partial, 1'000'000u);
  EXPECT_LT(partial, 3'000'000u);

  // Training writes a newer checkpoint; `latest` now points elsewhere.
  WriteCheckpoint(20, RandomBytes(500'000, 3), /*best=*/false);

  request.stop_after_bytes = 0;
  ASSERT_OK_AND_ASSIGN(auto result, cli::PullCheckpoint(request));
  EXPECT_EQ(result.name, "ckpt-10.pt");
  EXPECT_EQ(result.resumed_from, static_cast<int64_t>(partial));
  EXPECT_EQ(dataset::Sha256Hex(ReadFileOrEmpty(out)), dataset::Sha256Hex(RandomBytes(3'000'000, 1)));

  // A fresh pull of latest gets the new one.
  ASSERT_OK_AND_ASSIGN(auto next, cli::PullCheckpoint(Request("latest", out_.path() / "next.pt")));
  EXPECT_EQ(next.name, "ckpt-20.pt");
}

TEST_F(CheckpointPullTest, FileChangedUnderResumedPullStartsOver) {
  WriteFileOrDie(root_.path() / "runs" / "r1" / "model.pt", RandomBytes(2'000'000, 4));
  const fs::path out = out_.path() / "model.pt";
  auto request = Request("model.pt", out);
  request.stop_after_bytes = 500'000;
  EXPECT_FALSE(cli::PullCheckpoint(request).ok());
  // The final weights are rewritten (a longer run finished).
  WriteFileOrDie(root_.path() / "runs" / "r1" / "model.pt", RandomBytes(2'100'000, 5));
  request.stop_after_bytes = 0;
  EXPECT_THAT(cli::PullCheckpoint(request), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("changed")));
  EXPECT_FALSE(fs::exists(out));
  ASSERT_OK_AND_ASSIGN(auto result, cli::PullCheckpoint(request));
  EXPECT_EQ(result.resumed_from, 0);
  EXPECT_EQ(ReadFileOrEmpty(out), RandomBytes(2'100'000, 5));
}

// A disk that fills up during the pull: RESOURCE_EXHAUSTED naming the part
// file, no file at the final name; once there is space the pull resumes at the
// bytes already held and the checkpoint verifies.
TEST_F(CheckpointPullTest, AFullDiskStopsThePullWhichResumesOnceThereIsSpace) {
  const fs::path out = out_.path() / "best.pt";
  testing::FaultEnv env;
  env.FailAppendsAfter(1'000'000, ENOSPC, ".part");
  EXPECT_THAT(cli::PullCheckpoint(Request("best", out), {}, &env),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(out.string() + ".part")));
  EXPECT_FALSE(fs::exists(out));
  env.Heal();
  ASSERT_OK_AND_ASSIGN(auto result, cli::PullCheckpoint(Request("best", out), {}, &env));
  EXPECT_GT(result.resumed_from, 0);
  EXPECT_EQ(ReadFileOrEmpty(out), ReadFileOrEmpty(ckpt_dir_ / "ckpt-10.pt"));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  EXPECT_FALSE(fs::exists(out.string() + ".part.json"));
}

TEST_F(CheckpointPullTest, UnknownAndUnsafeNamesAreRefused) {
  EXPECT_THAT(cli::PullCheckpoint(Request("step-99", out_.path() / "x.pt")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("step-99")));
  auto request = Request("best", out_.path() / "y.pt");
  request.run = "..";
  EXPECT_THAT(cli::PullCheckpoint(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.run = "nope";
  EXPECT_THAT(cli::PullCheckpoint(request), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_FALSE(fs::exists(out_.path() / "x.pt"));
}

}  // namespace
}  // namespace atelier
