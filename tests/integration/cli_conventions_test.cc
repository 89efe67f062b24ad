// Every atelier command, run through the `atelier` front end as users do,
// follows the conventions of common/atelier/common/command_line.h: --version
// exits 0 naming the command, --help names `atelier <sub>` and shows
// defaults, usage errors exit 2 before any work.
#include <filesystem>
#include <string>
#include <vector>

#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;

testing::CommandResult Atelier(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("atelier").string());
  return RunCommand(args);
}

std::vector<std::string> Commands() {
  std::vector<std::string> commands = {"coordinator", "crawler", "status", "pull", "demo", "preview", "sweep"};
  if (std::filesystem::exists(BinaryPath("atelier-trainer"))) {
    for (const char* sub : {"train", "import", "predict", "evaluate", "embed", "probe"}) commands.push_back(sub);
  }
  return commands;
}

TEST(CliConventions, EveryCommandAnswersVersion) {
  auto top = Atelier({"--version"});
  EXPECT_EQ(top.exit_code, 0) << top.output;
  EXPECT_THAT(top.output, HasSubstr("atelier "));
  for (const std::string& sub : Commands()) {
    auto r = Atelier({sub, "--version"});
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("atelier ")) << sub;
  }
}

TEST(CliConventions, HelpNamesTheSubcommandAndShowsDefaults) {
  for (const std::string& sub : Commands()) {
    auto r = Atelier({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("atelier " + sub)) << sub;
    // The usage line names `atelier <sub>`, never the exec'd atelier-<role>
    // binary (option defaults such as the demo's atelier-demo folder may).
    EXPECT_THAT(r.output, Not(HasSubstr("Usage: atelier-"))) << sub << ": the exec'd binary's name shows";
    EXPECT_THAT(r.output, Not(HasSubstr("/atelier-"))) << sub << ": the exec'd binary's path shows";
  }
  EXPECT_THAT(Atelier({"coordinator", "--help"}).output, HasSubstr("=0.0.0.0:50051"));
  EXPECT_THAT(Atelier({"demo", "--help"}).output, HasSubstr("=3000"));
}

TEST(CliConventions, UsageErrorsExitTwo) {
  EXPECT_EQ(Atelier({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(Atelier({"--bogus"}).exit_code, 2);
  for (const std::string& sub : Commands()) {
    auto r = Atelier({sub, "--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2) << sub << ": " << r.output;
  }
  EXPECT_EQ(Atelier({"coordinator"}).exit_code, 2);  // --spec and --state missing
  EXPECT_EQ(Atelier({"status", "--coordinator", "nowhere"}).exit_code, 2);
  EXPECT_EQ(Atelier({"crawler", "--coordinator", "host:99999", "--state", "s"}).exit_code, 2);
}

TEST(CliConventions, DemoRefusesANegativeImageCount) {
  testing::TempDir dir("demo-args");
  auto r = Atelier({"demo", "--images", "-5", "--work", (dir / "work").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--images"));
  EXPECT_FALSE(std::filesystem::exists(dir / "work"));
}

TEST(CliConventions, CoordinatorChecksAddressesBeforeTheIngest) {
  testing::TempDir dir("coordinator-args");
  testing::WriteFileOrDie(dir / "urls.txt", "http://127.0.0.1:9/a.jpg\n");
  testing::WriteFileOrDie(dir / "job.yaml", "name: j\ndataset: " + (dir / "data").string() +
                                                "\nsources:\n  - urls: {file: urls.txt}\n");
  for (const char* flag : {"--listen", "--metrics-listen"}) {
    auto r = Atelier({"coordinator", "--spec", (dir / "job.yaml").string(), "--state", (dir / "state").string(),
                      flag, "127.0.0.1:70000"});
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("70000")) << flag;
    EXPECT_FALSE(std::filesystem::exists(dir / "state")) << flag << ": the ingest started";
  }
}

}  // namespace
}  // namespace atelier
