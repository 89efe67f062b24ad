// SHA-256 of byte strings, as lowercase hex, computed with OpenSSL's EVP API.
//
//   Sha256Hex("abc") == "ba7816bf...";
//   Sha256 h; h.Update(part1); h.Update(part2); std::string hex = h.FinishHex();
//
// Sha256Hex is thread-safe. A Sha256 object is not: use one per thread. Aborts the
// process only if OpenSSL cannot allocate its digest context.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct evp_md_ctx_st;

namespace atelier::dataset {

// Lowercase hex (64 characters) of the SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// The same for a whole file, read in 1 MiB chunks. NotFound naming the file if
// it cannot be opened, DataLoss if reading fails part way. Thread-safe.
absl::StatusOr<std::string> Sha256OfFile(const std::filesystem::path& path);

// Streaming SHA-256: Update() any number of times, then FinishHex(), which also
// resets the object so it can hash a new stream. Movable, not copyable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  std::string FinishHex();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

}  // namespace atelier::dataset
