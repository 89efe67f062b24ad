#include "atelier/trainer/npy_file.h"

#include <cstring>
#include <fstream>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlignment = 64;

static_assert(sizeof(float) == 4, "float32");

bool LittleEndian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

std::string NpyHeader(int64_t rows, int64_t cols) {
  std::string dict = absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", rows, ", ", cols, "), }");
  const size_t prefix = kMagicSize + 2 + 2;  // magic, version, u16 length
  size_t total = prefix + dict.size() + 1;   // + "\n"
  const size_t padded = (total + kAlignment - 1) / kAlignment * kAlignment;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  const uint16_t length = static_cast<uint16_t>(dict.size());
  std::string out(kMagic, kMagicSize);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(length >> 8));
  return out + dict;
}

NpyMatrixWriter::NpyMatrixWriter(Env& env, fs::path path, int64_t cols, std::unique_ptr<AtomicFile> scratch)
    : env_(env), path_(std::move(path)), cols_(cols), scratch_(std::move(scratch)) {}

absl::StatusOr<std::unique_ptr<NpyMatrixWriter>> NpyMatrixWriter::Open(Env& env, const fs::path& path, int64_t cols) {
  if (!LittleEndian()) return absl::UnimplementedError("writing .npy needs a little-endian machine");
  if (cols <= 0) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": a matrix needs columns"));
  if (path.has_parent_path()) RETURN_IF_ERROR(env.CreateDirs(path.parent_path()));
  // The scratch file is an AtomicFile that is never committed: removed with it.
  ASSIGN_OR_RETURN(auto scratch, AtomicFile::Create(env, fs::path(absl::StrCat(path.string(), ".rows"))));
  return std::unique_ptr<NpyMatrixWriter>(new NpyMatrixWriter(env, path, cols, std::move(scratch)));
}

absl::Status NpyMatrixWriter::AppendRow(absl::Span<const float> row) {
  if (static_cast<int64_t>(row.size()) != cols_) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_.string(), ": a row of ", row.size(), " values in a matrix of ", cols_, " columns"));
  }
  RETURN_IF_ERROR(scratch_->Append(
      absl::string_view(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float))));
  ++rows_;
  return absl::OkStatus();
}

absl::Status NpyMatrixWriter::Close() {
  RETURN_IF_ERROR(scratch_->Flush());
  ASSIGN_OR_RETURN(auto file, AtomicFile::Create(env_, path_));
  RETURN_IF_ERROR(file->Append(NpyHeader(rows_, cols_)));
  // Copied in chunks (the Env has no sequential reader; the CSV row writer's
  // spool is read back the same way), so memory stays bounded.
  std::ifstream in(scratch_->temporary_path(), std::ios::binary);
  std::string chunk(1 << 20, '\0');
  uint64_t copied = 0;
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    RETURN_IF_ERROR(file->Append(absl::string_view(chunk.data(), got)));
    copied += got;
  }
  if (copied != static_cast<uint64_t>(rows_ * cols_) * sizeof(float)) {
    return absl::DataLossError(absl::StrCat(scratch_->temporary_path().string(), " lost rows"));
  }
  RETURN_IF_ERROR(file->Commit());
  scratch_->Abort();
  return absl::OkStatus();
}

absl::StatusOr<NpyMatrix> ReadNpyMatrix(Env& env, const fs::path& path) {
  if (!LittleEndian()) return absl::UnimplementedError("reading .npy needs a little-endian machine");
  ASSIGN_OR_RETURN(std::string bytes, env.ReadFile(path));
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a 2-D float32/float64 .npy matrix: ", why));
  };
  if (bytes.size() < kMagicSize + 4 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    return bad("no .npy magic");
  }
  const auto u8 = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])); };
  const int major = static_cast<int>(u8(6));
  size_t header_length = 0, offset = 0;
  if (major == 1) {
    header_length = u8(8) | u8(9) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("cut header");
    header_length = u8(8) | u8(9) << 8 | u8(10) << 16 | u8(11) << 24;
    offset = 12;
  } else {
    return bad(absl::StrCat("format version ", major));
  }
  if (bytes.size() < offset + header_length) return bad("cut header");
  const std::string header = bytes.substr(offset, header_length);
  static const std::regex kDescr(R"('descr'\s*:\s*'([<>|=]?)([a-z])(\d+)')");
  static const std::regex kOrder(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex kShape(R"('shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\))");
  std::smatch descr, order, shape;
  if (!std::regex_search(header, descr, kDescr)) return bad("no descr");
  if (!std::regex_search(header, order, kOrder)) return bad("no fortran_order");
  if (!std::regex_search(header, shape, kShape)) return bad("the shape is not (rows, cols)");
  if (order[1] == "True") return bad("Fortran order");
  if (descr[1] == ">" || descr[2] != "f" || (descr[3] != "4" && descr[3] != "8")) {
    return bad(absl::StrCat("dtype ", descr[1].str(), descr[2].str(), descr[3].str()));
  }
  NpyMatrix m;
  if (!absl::SimpleAtoi(shape[1].str(), &m.rows) || !absl::SimpleAtoi(shape[2].str(), &m.cols)) return bad("shape");
  const size_t width = descr[3] == "4" ? 4 : 8;
  const size_t data = offset + header_length;
  const uint64_t count = static_cast<uint64_t>(m.rows) * static_cast<uint64_t>(m.cols);
  if (m.cols > 0 && count / static_cast<uint64_t>(m.cols) != static_cast<uint64_t>(m.rows)) return bad("shape");
  if (bytes.size() - data != count * width) {
    return bad(absl::StrCat(bytes.size() - data, " data bytes for shape (", m.rows, ", ", m.cols, ")"));
  }
  m.values.resize(count);
  if (width == 4) {
    std::memcpy(m.values.data(), bytes.data() + data, count * 4);
  } else {
    for (uint64_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, bytes.data() + data + i * 8, 8);
      m.values[i] = static_cast<float>(v);
    }
  }
  return m;
}

}  // namespace atelier::trainer
