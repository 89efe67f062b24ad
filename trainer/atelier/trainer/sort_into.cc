#include "atelier/trainer/sort_into.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxName = 200;

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// Writes everything or fails.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Creates `target` exclusively with the bytes of `source` (a file) or `bytes`.
// Returns EEXIST as false with *exists set.
absl::Status CreateExclusive(const fs::path& target, const fs::path& source, const std::string& bytes, bool* exists) {
  *exists = false;
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      *exists = true;
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", target.string(), ": ", std::strerror(errno)));
  }
  bool ok = true;
  if (source.empty()) {
    ok = WriteAll(fd, bytes.data(), bytes.size());
  } else {
    int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      ::close(fd);
      ::unlink(target.c_str());
      return absl::NotFoundError(absl::StrCat("cannot read ", source.string(), ": ", std::strerror(errno)));
    }
    char buffer[1 << 16];
    while (ok) {
      ssize_t n = ::read(in, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ok = false;
      if (n <= 0) break;
      ok = WriteAll(fd, buffer, static_cast<size_t>(n));
    }
    ::close(in);
  }
  if (::close(fd) != 0) ok = false;
  if (!ok) {
    ::unlink(target.c_str());
    return absl::DataLossError(absl::StrCat("writing ", target.string(), " failed"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string SafeFileName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (c == '/' || c == '\\' || u < 0x20 || u == 0x7F) ? '_' : c;
  }
  if (out.empty()) return "_";
  if (out[0] == '.') out.insert(out.begin(), '_');
  if (out.size() > kMaxName) {
    const size_t dot = out.rfind('.');
    std::string ext = dot != std::string::npos && dot > 0 && out.size() - dot <= 16 ? out.substr(dot) : "";
    out = CutUtf8(out.substr(0, out.size() - ext.size()), kMaxName - ext.size()) + ext;
  }
  return out;
}

absl::Status Sorter::PlaceOne(const fs::path& folder, const std::string& name, const fs::path& source,
                              const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", folder.string(), ": ", ec.message()));
  const size_t dot = name.rfind('.');
  const bool has_ext = dot != std::string::npos && dot > 0;
  const std::string stem = has_ext ? name.substr(0, dot) : name, ext = has_ext ? name.substr(dot) : "";
  for (int i = 0;; ++i) {
    const fs::path target = folder / (i == 0 ? name : absl::StrCat(stem, "-", i, ext));
    if (options_.link && !source.empty() && !fell_back_) {
      fs::create_hard_link(source, target, ec);
      if (!ec) {
        ++placed_;
        return absl::OkStatus();
      }
      if (ec == std::errc::file_exists) continue;
      if (ec != std::errc::cross_device_link) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot link ", source.string(), " to ", target.string(), ": ", ec.message()));
      }
      fell_back_ = true;
      spdlog::warn("--sort-into {}: {} is on another file system than the inputs; copying instead of linking",
                   options_.dir.string(), options_.dir.string());
    }
    bool exists = false;
    RETURN_IF_ERROR(CreateExclusive(target, source, bytes, &exists));
    if (exists) continue;
    ++placed_;
    return absl::OkStatus();
  }
}

absl::Status Sorter::Place(const PredictionRow& row, const fs::path& source, const std::string& bytes,
                           const std::string& extension) {
  if (!row.error.empty()) return absl::OkStatus();
  const std::string name =
      SafeFileName(source.empty() ? absl::StrCat(row.key, extension.empty() ? "" : ".", extension)
                                  : source.filename().string());
  for (size_t h = 0; h < space_.heads.size() && h < row.heads.size(); ++h) {
    const HeadPrediction& p = row.heads[h];
    const auto& classes = space_.heads[h].classes;
    std::string folder = p.probability < options_.threshold || p.predicted < 0 || p.predicted >= int(classes.size())
                             ? std::string(kUnsureFolder)
                             : SafeFileName(classes[p.predicted]);
    RETURN_IF_ERROR(PlaceOne(options_.dir / SafeFileName(space_.heads[h].name) / folder, name, source, bytes));
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
