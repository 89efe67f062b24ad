#include "atelier/cli/role_dispatch.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace atelier::cli {

namespace fs = std::filesystem;

const std::vector<RoleCommand>& RoleCommands() {
  static const std::vector<RoleCommand> commands = {
      {"coordinator", "atelier-coordinator", false, "run the crawl coordinator (gRPC)"},
      {"crawler", "atelier-crawler", false, "run a crawler worker"},
      {"status", "atelier-status", false, "show crawl and training progress from a coordinator"},
      {"pull", "atelier-pull", false, "download a checkpoint from a coordinator (gRPC stream)"},
      {"train", "atelier-trainer", true, "train a multi-head classifier on shards"},
      {"import", "atelier-trainer", true, "turn an image folder or IDX files into shards"},
      {"predict", "atelier-trainer", true, "classify images with a checkpoint"},
      {"evaluate", "atelier-trainer", true, "evaluate a checkpoint on a dataset or folder"},
      {"embed", "atelier-trainer", true, "write a checkpoint's features of images or a dataset as .npy"},
      {"probe", "atelier-trainer", true, "cross-validate a linear probe from features to a metadata field"},
      {"demo", "atelier-demo", false, "crawl and train end to end on a local origin"},
  };
  return commands;
}

const RoleCommand* FindRoleCommand(const std::string& subcommand) {
  for (const auto& c : RoleCommands()) {
    if (c.subcommand == subcommand) return &c;
  }
  return nullptr;
}

std::string SelfDirectory() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

absl::StatusOr<std::string> LocateExecutable(const std::string& executable,
                                             const std::string& self_dir) {
  if (!self_dir.empty()) {
    fs::path candidate = fs::path(self_dir) / executable;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  if (const char* path = std::getenv("PATH")) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      fs::path candidate = fs::path(std::string(dir)) / executable;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return absl::NotFoundError(absl::StrCat(
      executable, " was not found next to atelier (", self_dir.empty() ? "?" : self_dir,
      ") or on PATH; was it built? (the trainer needs LibTorch)"));
}

absl::Status ExecRole(const RoleCommand& role, int argc, char** argv) {
  auto exe = LocateExecutable(role.executable, SelfDirectory());
  if (!exe.ok()) return exe.status();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(exe->c_str()));
  // argv[0] = atelier, argv[1] = subcommand.
  for (int i = role.pass_subcommand ? 1 : 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(exe->c_str(), args.data());
  return absl::InternalError(absl::StrCat("cannot run ", *exe, ": ", std::strerror(errno)));
}

}  // namespace atelier::cli
