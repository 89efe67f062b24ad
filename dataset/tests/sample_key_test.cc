#include "atelier/dataset/sample_key.h"

#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::IsOk;
using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(SampleKeyTest, BuildsKeysOfEachSource) {
  EXPECT_EQ(BamKey(12345), "bam-12345");
  EXPECT_EQ(MetKey(436535, 0), "met-436535-0");
  EXPECT_EQ(MetKey(1, 12), "met-1-12");
  const std::string url = "https://example.org/a.jpg?x=1";
  EXPECT_EQ(UrlKey(url), "url-" + Sha256Hex(url).substr(0, 16));
  EXPECT_THAT(UrlKey(url), MatchesRegex("url-[0-9a-f]{16}"));
  EXPECT_NE(UrlKey(url), UrlKey(url + "2"));
  for (const std::string& key : {BamKey(1), MetKey(2, 3), UrlKey(url)}) EXPECT_OK(ValidateKey(key));
}

TEST(SampleKeyTest, AcceptsValidKeys) {
  for (const std::string key : {"a", "bam-1", "met-436535-0", "A_z-09", "url-0123456789abcdef"}) {
    EXPECT_THAT(ValidateKey(key), IsOk()) << key;
  }
  EXPECT_OK(ValidateKey(std::string(200, 'k')));
}

TEST(SampleKeyTest, RejectsInvalidKeysNamingThem) {
  EXPECT_THAT(ValidateKey(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ValidateKey(std::string(201, 'k')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("201 characters")));
  for (const std::string key : {"bam-1.jpg", "a.b", ".", "met/1", "../x", "a\\b", "with space",
                                "tab\tkey", "caf\xC3\xA9", "a:b", "x+y"}) {
    EXPECT_THAT(ValidateKey(key), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("invalid sample key")))
        << key;
  }
  EXPECT_THAT(ValidateKey("bam-1.jpg"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("\"bam-1.jpg\": character '.' at position 5")));
  EXPECT_THAT(ValidateKey(std::string("a\0b", 3)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a\\000b")));
}

}  // namespace
}  // namespace atelier::dataset
