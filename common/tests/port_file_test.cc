#include "atelier/common/port_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class PortFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / absl::StrCat("port-file-test-", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PortFileTest, WritesKeyEqualsPortLinesAndReadsThemBack) {
  const fs::path file = dir_ / "ports";
  ASSERT_OK(WritePortFile(file, {{"grpc_port", 40123}, {"metrics_port", 9090}}));
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "grpc_port=40123\nmetrics_port=9090\n");
  ASSERT_OK_AND_ASSIGN(auto ports, ReadPortFile(file));
  EXPECT_THAT(ports, ElementsAre(Pair("grpc_port", 40123), Pair("metrics_port", 9090)));
  // Replaced whole; no temporary file is left beside it.
  ASSERT_OK(WritePortFile(file, {{"grpc_port", 1}}));
  ASSERT_OK_AND_ASSIGN(ports, ReadPortFile(file));
  EXPECT_THAT(ports, ElementsAre(Pair("grpc_port", 1)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(PortFileTest, MissingFileIsNotFoundAndGarbageNamesTheLine) {
  EXPECT_THAT(ReadPortFile(dir_ / "none"), StatusIs(absl::StatusCode::kNotFound));
  std::ofstream(dir_ / "bad") << "grpc_port=7070\nserving on 7071\n";
  EXPECT_THAT(ReadPortFile(dir_ / "bad"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad:2: not KEY=PORT: serving on 7071")));
  std::ofstream(dir_ / "range") << "grpc_port=65536\n";
  EXPECT_THAT(ReadPortFile(dir_ / "range"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(PortFileTest, RefusesBadEntriesAndUnwritableDirectories) {
  EXPECT_THAT(WritePortFile(dir_ / "p", {{"Grpc Port", 7070}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WritePortFile(dir_ / "p", {{"grpc_port", 0}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(fs::exists(dir_ / "p"));
  EXPECT_THAT(WritePortFile(dir_ / "no" / "such" / "p", {{"grpc_port", 7070}}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no/such/p.tmp-")));
}

}  // namespace
}  // namespace atelier
