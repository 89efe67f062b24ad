#include "atelier/common/command_line.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  std::optional<int> exit;
  std::string out, err;
};

Parsed ParseArgs(CLI::App& app, std::vector<const char*> args) {
  args.insert(args.begin(), "/build/bin/atelier-demo");
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  Parsed p;
  p.exit = Parse(app, static_cast<int>(args.size()), args.data());
  p.out = ::testing::internal::GetCapturedStdout();
  p.err = ::testing::internal::GetCapturedStderr();
  return p;
}

class CommandLineTest : public ::testing::Test {
 protected:
  CommandLineTest() {
    Conventions(app_, "demo");
    app_.add_option("--images", images_, "images per class")->check(CLI::PositiveNumber);
    app_.add_option("--listen", listen_, "address to serve on")->check(ListenAddress());
    app_.add_option("--out", out_, "output directory")->required();
  }
  CLI::App app_{"atelier demo: test"};
  int images_ = 8;
  std::string listen_ = "127.0.0.1:0";
  std::string out_;
};

TEST_F(CommandLineTest, VersionNamesTheCommandAndExitsZero) {
  Parsed p = ParseArgs(app_, {"--version"});
  EXPECT_EQ(p.exit, 0);
  EXPECT_THAT(p.out, HasSubstr(std::string("atelier demo ") + Version()));
}

TEST_F(CommandLineTest, HelpNamesAtelierSubcommandAndShowsDefaults) {
  Parsed p = ParseArgs(app_, {"--help"});
  EXPECT_EQ(p.exit, 0);
  EXPECT_THAT(p.out, HasSubstr("Usage: atelier demo"));
  EXPECT_THAT(p.out, ::testing::Not(HasSubstr("/build/bin")));
  EXPECT_THAT(p.out, HasSubstr("=8"));
  EXPECT_THAT(p.out, HasSubstr("=127.0.0.1:0"));
}

TEST_F(CommandLineTest, UsageErrorsExitTwo) {
  EXPECT_EQ(ParseArgs(app_, {}).exit, kUsageError);                                   // missing --out
  EXPECT_EQ(ParseArgs(app_, {"--out", "o", "--bogus"}).exit, kUsageError);            // unknown flag
  EXPECT_EQ(ParseArgs(app_, {"--out", "o", "--images", "-5"}).exit, kUsageError);     // out of range
  Parsed bad_listen = ParseArgs(app_, {"--out", "o", "--listen", "nowhere"});
  EXPECT_EQ(bad_listen.exit, kUsageError);
  EXPECT_THAT(bad_listen.err, HasSubstr("nowhere"));
  EXPECT_EQ(ParseArgs(app_, {"--out", "o", "--images", "3"}).exit, std::nullopt);
  EXPECT_EQ(images_, 3);
}

TEST(CommandLineConventionsTest, AnOptionWithoutDescriptionIsRefused) {
  CLI::App app{"x"};
  Conventions(app, "x");
  int n = 0;
  app.add_option("--n", n);
  ::testing::internal::CaptureStderr();
  const char* argv[] = {"x"};
  EXPECT_EQ(Parse(app, 1, argv), 70);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("--n"));
}

}  // namespace
}  // namespace atelier
