#include "atelier/common/port_file.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/common/atomic_file.h"

namespace atelier {
namespace {

bool ValidKey(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

absl::Status WritePortFile(const std::filesystem::path& file,
                           const std::vector<std::pair<std::string, int>>& ports) {
  std::string text;
  for (const auto& [key, port] : ports) {
    if (!ValidKey(key) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("port file ", file.string(), ": bad entry ", key, "=", port));
    }
    absl::StrAppend(&text, key, "=", port, "\n");
  }
  return WriteFileAtomically(*Env::Default(), file, text);
}

absl::StatusOr<std::map<std::string, int>> ReadPortFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return absl::NotFoundError(absl::StrCat("no port file ", file.string()));
    return absl::UnavailableError(absl::StrCat("cannot read ", file.string()));
  }
  std::map<std::string, int> ports;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    int port = 0;
    if (!ValidKey(kv.first) || !absl::SimpleAtoi(kv.second, &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(file.string(), ":", n, ": not KEY=PORT: ", line));
    }
    ports[kv.first] = port;
  }
  return ports;
}

}  // namespace atelier
