#include "atelier/dataset/sha256.h"

#include <string>

#include "atelier/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace atelier::dataset {
namespace {

TEST(Sha256Test, FileMatchesBytesAcrossChunks) {
  testing::TempDir dir("sha256");
  std::string bytes(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 13);
  testing::WriteFileOrDie(dir.path() / "f.bin", bytes);
  auto digest = Sha256OfFile(dir.path() / "f.bin");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, Sha256Hex(bytes));
  auto missing = Sha256OfFile(dir.path() / "missing.bin");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.bin"), absl::string_view::npos);
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, StreamingMatchesOneShotAndResets) {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<char>(i * 7));
  Sha256 hash;
  for (size_t pos = 0; pos < bytes.size(); pos += 999) hash.Update(std::string_view(bytes).substr(pos, 999));
  EXPECT_EQ(hash.FinishHex(), Sha256Hex(bytes));
  hash.Update("abc");
  EXPECT_EQ(hash.FinishHex(), Sha256Hex("abc"));
  EXPECT_EQ(hash.FinishHex(), Sha256Hex(""));
}

TEST(Sha256Test, HashesBytesNotCStrings) {
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("a"));
}

}  // namespace
}  // namespace atelier::dataset
