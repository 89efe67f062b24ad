#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/tar_reader.h"
#include "atelier/dataset/tar_writer.h"
#include "atelier/dataset/ustar_header.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::IsOk;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Rewrites the checksum of a header that a test changed on purpose.
void Reseal(std::string& block) {
  const std::string checksum = absl::StrFormat("%06o", UstarChecksum(block));
  block.replace(148, 6, checksum);
}

TEST(TarHeaderTest, EncodesUstarFieldsAndChecksum) {
  ASSERT_OK_AND_ASSIGN(std::string block, EncodeUstarHeader("met-1-0.webp", 1234, 1700000000));
  ASSERT_EQ(block.size(), 512u);
  uint32_t sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  EXPECT_EQ(block.substr(148, 8), absl::StrFormat("%06o", sum) + std::string("\0 ", 2));
  EXPECT_EQ(UstarChecksum(block), sum);
  EXPECT_EQ(block.substr(0, 13), std::string("met-1-0.webp\0", 13));
  EXPECT_EQ(block.substr(100, 8), std::string("0000644\0", 8));
  EXPECT_EQ(block.substr(108, 16), std::string("0000000\0" "0000000\0", 16));
  EXPECT_EQ(block.substr(124, 12), absl::StrFormat("%011o", 1234) + '\0');
  EXPECT_EQ(block.substr(136, 12), absl::StrFormat("%011o", 1700000000) + '\0');
  EXPECT_EQ(block[156], '0');
  EXPECT_EQ(block.substr(257, 8), std::string("ustar\0" "00", 8));
  EXPECT_EQ(block.substr(265, 8), std::string("atelier\0", 8));
  EXPECT_EQ(block.substr(297, 8), std::string("atelier\0", 8));
  ASSERT_OK_AND_ASSIGN(UstarHeader header, DecodeUstarHeader(block));
  EXPECT_EQ(header.name, "met-1-0.webp");
  EXPECT_EQ(header.size, 1234u);
}

TEST(TarHeaderTest, RejectsNamesThatDoNotFit) {
  EXPECT_OK(EncodeUstarHeader(std::string(100, 'n'), 0, 0).status());
  EXPECT_THAT(EncodeUstarHeader(std::string(101, 'n'), 0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..100 bytes")));
  EXPECT_THAT(EncodeUstarHeader("", 0, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeUstarHeader("x", uint64_t{1} << 33, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeUstarHeader("x", 0, -1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TarHeaderTest, DetectsCorruption) {
  ASSERT_OK_AND_ASSIGN(std::string block, EncodeUstarHeader("bam-1.jpg", 10, 0));
  std::string flipped = block;
  flipped[3] ^= 0x20;
  EXPECT_THAT(DecodeUstarHeader(flipped), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));

  std::string bad_size = block;
  bad_size.replace(124, 3, "9x9");
  Reseal(bad_size);
  EXPECT_THAT(DecodeUstarHeader(bad_size),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("size field \"9x900000012\\000\"")));

  std::string bad_magic = block;
  bad_magic.replace(257, 5, "tsuar");
  Reseal(bad_magic);
  EXPECT_THAT(DecodeUstarHeader(bad_magic), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));

  std::string directory = block;
  directory[156] = '5';
  Reseal(directory);
  EXPECT_THAT(DecodeUstarHeader(directory),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("only regular files")));
}

TEST(TarHeaderTest, AcceptsSignedChecksumsAndGnuMagic) {
  ASSERT_OK_AND_ASSIGN(std::string block, EncodeUstarHeader("bam-1.jpg", 10, 0));
  block.replace(257, 8, std::string("ustar  \0", 8));
  block[2] = '\xE9';  // a byte whose signed and unsigned sums differ
  int64_t signed_sum = 0;
  for (size_t i = 0; i < 512; ++i) signed_sum += (i >= 148 && i < 156) ? ' ' : static_cast<signed char>(block[i]);
  block.replace(148, 7, absl::StrFormat("%06o", signed_sum) + ' ');
  ASSERT_OK_AND_ASSIGN(UstarHeader header, DecodeUstarHeader(block));
  EXPECT_EQ(header.size, 10u);
}

TEST(TarWriterTest, PadsEntriesAndEndsWithTwoZeroBlocks) {
  std::string out;
  TarWriter tar([&out](std::string_view bytes) {
    out.append(bytes);
    return absl::OkStatus();
  });
  ASSERT_OK(tar.AddFile("a.json", "{}", 5));
  ASSERT_OK(tar.AddFile("b.png", std::string(512, 'b'), 5));
  ASSERT_OK(tar.AddFile("c.png", "", 5));
  ASSERT_OK(tar.Finish());
  ASSERT_EQ(out.size(), 512u * (2 + 2 + 1 + 2));
  EXPECT_EQ(tar.bytes_written(), out.size());
  EXPECT_EQ(out.substr(512, 512), std::string("{}") + std::string(510, '\0'));
  EXPECT_EQ(out.substr(1536, 512), std::string(512, 'b'));
  EXPECT_EQ(out.substr(2560), std::string(1024, '\0'));
  EXPECT_THAT(tar.Finish(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(tar.AddFile("d.png", "", 5), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(TarWriterTest, StopsAfterASinkFailure) {
  int calls = 0;
  TarWriter tar([&calls](std::string_view) {
    return ++calls == 2 ? absl::ResourceExhaustedError("disk full") : absl::OkStatus();
  });
  EXPECT_THAT(tar.AddFile("a.jpg", "data", 0), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(tar.AddFile("b.jpg", "data", 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("incomplete")));
  EXPECT_THAT(tar.Finish(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(tar.AddFile(std::string(101, 'x'), "", 0), StatusIs(absl::StatusCode::kFailedPrecondition));
}

std::vector<std::pair<std::string, std::string>> Entries() {
  return {{"e0.png", ""}, {"e1.png", "x"}, {"e2.png", std::string(511, 'y')},
          {"e3.png", std::string(512, 'z')}, {"e4.png", std::string(513, 'w')}};
}

TEST(TarReaderTest, ReadsEntriesWithOffsets) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(dir / "a.tar"));
  uint64_t offset = 0;
  for (const auto& [name, data] : Entries()) {
    ASSERT_OK_AND_ASSIGN(std::optional<TarEntry> entry, reader->Next());
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->name, name);
    EXPECT_EQ(entry->size, data.size());
    EXPECT_EQ(entry->data, data);
    EXPECT_EQ(entry->offset_of_header, offset);
    offset += 512 + TarPaddedSize(data.size());
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<TarEntry> end, reader->Next());
    EXPECT_FALSE(end.has_value());
  }
}

TEST(TarReaderTest, EndsCleanlyOnAnEntryBoundaryWithoutEndBlocks) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries(), /*finish=*/false));
  ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(dir / "a.tar"));
  int entries = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(std::optional<TarEntry> entry, reader->Next());
    if (!entry.has_value()) break;
    ++entries;
  }
  EXPECT_EQ(entries, 5);
}

TEST(TarReaderTest, ReportsTruncationWithFileEntryAndOffset) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  // Headers: e0 at 0, e1 at 512, e2 at 1536, e3 at 2560, e4 at 3584 (data at 4096,
  // 1024 bytes with padding); end-of-archive blocks at 5120.
  struct Cut {
    uint64_t length;
    int intact;
    std::string expected;
  };
  const Cut cuts[] = {{3584 + 100, 4, "truncated tar header at offset 3584"},
                      {4096 + 300, 4, "entry \"e4.png\" (header at offset 3584): truncated"},
                      {4096 + 513, 4, "entry \"e4.png\" (header at offset 3584): truncated"},
                      {5120 + 10, 5, "truncated tar header at offset 5120"}};
  for (const Cut& cut : cuts) {
    const auto path = dir / ("cut-" + std::to_string(cut.length) + ".tar");
    test_data::WriteTruncatedCopy(dir / "a.tar", path, cut.length);
    ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(path));
    for (int i = 0; i < cut.intact; ++i) ASSERT_OK(reader->Next().status());
    auto status = reader->Next().status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                                 AllOf(HasSubstr(path.string()), HasSubstr(cut.expected))))
        << cut.length;
    EXPECT_EQ(reader->Next().status(), status) << "the error is sticky";
  }
}

TEST(TarReaderTest, RejectsBadChecksumAndDataAfterTheEnd) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  std::string bytes = ReadFileOrEmpty(dir / "a.tar");
  std::string corrupt = bytes;
  corrupt[512 + 1] ^= 1;  // e1.png's header
  WriteFileOrDie(dir / "corrupt.tar", corrupt);
  ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(dir / "corrupt.tar"));
  ASSERT_OK(reader->Next().status());
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss,
                                       AllOf(HasSubstr("corrupt.tar: tar header at offset 512"),
                                             HasSubstr("checksum mismatch"))));

  WriteFileOrDie(dir / "trailing.tar", bytes + std::string(100, '\0') + "x");
  ASSERT_OK_AND_ASSIGN(auto trailing, TarReader::Open(dir / "trailing.tar"));
  for (int i = 0; i < 5; ++i) ASSERT_OK(trailing->Next().status());
  EXPECT_THAT(trailing->Next(), StatusIs(absl::StatusCode::kDataLoss,
                                         HasSubstr(absl::StrFormat("non-zero byte at offset %d",
                                                                   bytes.size() + 100))));
}

TEST(TarReaderTest, ZeroedHeaderMidArchiveIsNotAnEnd) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  std::string bytes = ReadFileOrEmpty(dir / "a.tar");
  bytes.replace(1536, 512, std::string(512, '\0'));  // e2.png's header
  WriteFileOrDie(dir / "zeroed.tar", bytes);
  ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(dir / "zeroed.tar"));
  ASSERT_OK(reader->Next().status());
  ASSERT_OK(reader->Next().status());
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("after the end-of-archive")));
}

TEST(TarReaderTest, MissingFileIsNotFound) {
  TempDir dir("tar");
  EXPECT_THAT(TarReader::Open(dir / "none.tar"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.tar")));
}

}  // namespace
}  // namespace atelier::dataset
