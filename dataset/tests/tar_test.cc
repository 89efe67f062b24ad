#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::ElementsAre;
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
  ASSERT_OK_AND_ASSIGN(UstarHeader decoded, DecodeUstarHeader(directory));
  EXPECT_EQ(decoded.type, '5') << "the type is TarReader's to judge";
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

// Every item of the archive up to its end; fails the test on an I/O error.
std::vector<TarItem> ReadItems(const std::filesystem::path& path) {
  std::vector<TarItem> items;
  auto reader = TarReader::Open(path);
  EXPECT_OK(reader.status());
  if (!reader.ok()) return items;
  for (int i = 0; i < 10000; ++i) {
    auto item = (*reader)->Next();
    EXPECT_OK(item.status());
    if (!item.ok() || !item->has_value()) break;
    items.push_back(std::move(**item));
  }
  return items;
}

// "name" for an entry, "!" for a damage that lost bytes of an entry, "~" for one that did not.
std::vector<std::string> Shape(const std::vector<TarItem>& items) {
  std::vector<std::string> shape;
  for (const TarItem& item : items) {
    if (const auto* entry = std::get_if<TarEntry>(&item)) {
      shape.push_back(entry->name);
    } else {
      shape.push_back(std::get<TarDamage>(item).entry_lost ? "!" : "~");
    }
  }
  return shape;
}

TEST(TarReaderTest, ReadsEntriesWithOffsets) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  ASSERT_OK_AND_ASSIGN(auto reader, TarReader::Open(dir / "a.tar"));
  uint64_t offset = 0;
  for (const auto& [name, data] : Entries()) {
    ASSERT_OK_AND_ASSIGN(std::optional<TarItem> item, reader->Next());
    ASSERT_TRUE(item.has_value());
    const TarEntry& entry = std::get<TarEntry>(*item);
    EXPECT_EQ(entry.name, name);
    EXPECT_EQ(entry.size, data.size());
    EXPECT_EQ(entry.data, data);
    EXPECT_EQ(entry.offset_of_header, offset);
    offset += 512 + TarPaddedSize(data.size());
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<TarItem> end, reader->Next());
    EXPECT_FALSE(end.has_value());
  }
}

TEST(TarReaderTest, AnEntryBoundaryWithoutEndBlocksIsTruncatedButLosesNothing) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries(), /*finish=*/false));
  const std::vector<TarItem> items = ReadItems(dir / "a.tar");
  ASSERT_EQ(items.size(), 6u);
  const auto& damage = std::get<TarDamage>(items.back());
  EXPECT_TRUE(damage.truncated);
  EXPECT_FALSE(damage.entry_lost);
  EXPECT_EQ(damage.offset, 5120u);

  WriteFileOrDie(dir / "empty.tar", "");
  EXPECT_TRUE(ReadItems(dir / "empty.tar").empty()) << "a 0-byte file is an empty archive";
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
    const std::vector<TarItem> items = ReadItems(path);
    ASSERT_EQ(items.size(), static_cast<size_t>(cut.intact + 1)) << cut.length;
    for (int i = 0; i < cut.intact; ++i) EXPECT_TRUE(std::holds_alternative<TarEntry>(items[i]));
    const auto& damage = std::get<TarDamage>(items.back());
    EXPECT_TRUE(damage.truncated);
    EXPECT_THAT(damage.message, AllOf(HasSubstr(path.string()), HasSubstr(cut.expected))) << cut.length;
  }
}

TEST(TarReaderTest, ResynchronisesOnTheNextValidHeaderAfterABadChecksum) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  std::string bytes = ReadFileOrEmpty(dir / "a.tar");
  std::string corrupt = bytes;
  corrupt[512 + 1] ^= 1;  // e1.png's header
  WriteFileOrDie(dir / "corrupt.tar", corrupt);
  const std::vector<TarItem> items = ReadItems(dir / "corrupt.tar");
  EXPECT_THAT(Shape(items), ElementsAre("e0.png", "!", "e2.png", "e3.png", "e4.png"));
  const auto& damage = std::get<TarDamage>(items[1]);
  EXPECT_EQ(damage.offset, 512u);
  EXPECT_EQ(damage.resume_offset, 1536u);
  EXPECT_FALSE(damage.truncated);
  EXPECT_THAT(damage.message, AllOf(HasSubstr("corrupt.tar: tar header at offset 512"),
                                    HasSubstr("checksum mismatch"), HasSubstr("offset 1536")));
  EXPECT_EQ(std::get<TarEntry>(items[4]).data, Entries()[4].second);

  WriteFileOrDie(dir / "trailing.tar", bytes + std::string(100, '\0') + "x");
  const std::vector<TarItem> trailing = ReadItems(dir / "trailing.tar");
  EXPECT_THAT(Shape(trailing), ElementsAre("e0.png", "e1.png", "e2.png", "e3.png", "e4.png", "!"));
  EXPECT_THAT(std::get<TarDamage>(trailing.back()).message,
              HasSubstr(absl::StrFormat("non-zero byte at offset %d", bytes.size() + 100)));
}

TEST(TarReaderTest, ZeroedHeaderMidArchiveIsNotAnEnd) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  std::string bytes = ReadFileOrEmpty(dir / "a.tar");
  bytes.replace(1536, 512, std::string(512, '\0'));  // e2.png's header
  WriteFileOrDie(dir / "zeroed.tar", bytes);
  EXPECT_THAT(Shape(ReadItems(dir / "zeroed.tar")), ElementsAre("e0.png", "e1.png", "!", "e3.png", "e4.png"));
}

TEST(TarReaderTest, ConcatenatedArchivesReadOnWithoutLoss) {
  TempDir dir("tar");
  ASSERT_OK(test_data::WriteTar(dir / "a.tar", Entries()));
  const std::string bytes = ReadFileOrEmpty(dir / "a.tar");
  WriteFileOrDie(dir / "twice.tar", bytes + bytes);
  EXPECT_THAT(Shape(ReadItems(dir / "twice.tar")),
              ElementsAre("e0.png", "e1.png", "e2.png", "e3.png", "e4.png", "~", "e0.png", "e1.png", "e2.png",
                          "e3.png", "e4.png"));
}

TEST(TarReaderTest, AppliesPaxPathAndSizeAndSkipsDirectories) {
  TempDir dir("tar");
  auto header = [](std::string_view name, uint64_t size, char type) {
    std::string block = *EncodeUstarHeader(name, size, 0);
    block[156] = type;
    Reseal(block);
    return block;
  };
  auto padded = [](std::string data) {
    data.resize(TarPaddedSize(data.size()), '\0');
    return data;
  };
  const std::string long_name = std::string(150, 'k') + ".jpg";
  auto record = [](absl::string_view key, absl::string_view value) {
    const size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
    size_t length = body + 1;
    while (std::to_string(length).size() + body != length) ++length;
    return absl::StrCat(length, " ", key, "=", value, "\n");
  };
  const std::string records = record("path", long_name) + record("size", "3");
  std::string archive = header("images", 0, '5') + header("PaxHeader", records.size(), 'x') +
                        padded(records) + header("short.jpg", 0, '0') + padded("abc") +
                        header("g", 0, 'g') + header("plain.json", 2, '0') + padded("{}") + std::string(1024, '\0');
  WriteFileOrDie(dir / "pax.tar", archive);
  const std::vector<TarItem> items = ReadItems(dir / "pax.tar");
  EXPECT_THAT(Shape(items), ElementsAre(long_name, "plain.json"));
  EXPECT_EQ(std::get<TarEntry>(items[0]).data, "abc");
}

TEST(TarReaderTest, MissingFileIsNotFound) {
  TempDir dir("tar");
  EXPECT_THAT(TarReader::Open(dir / "none.tar"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.tar")));
}

}  // namespace
}  // namespace atelier::dataset
