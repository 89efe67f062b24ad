#include "atelier/coordinator/csv_reader.h"

#include <sstream>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::testing::ElementsAre;

TEST(CsvReaderTest, QuotedFieldsCommasQuotesAndLineBreaks) {
  std::istringstream in(
      "\xEF\xBB\xBFurl,country,note\r\n"
      "http://a/1.jpg,UK,plain\r\n"
      "\"http://a/2.jpg?x=1,2\",\"United \"\"Kingdom\"\"\",\"two\nlines\"\n"
      "http://a/3.jpg,,\n"
      "http://a/4.jpg,US,last");
  CsvReader csv(in);
  std::vector<std::string> f;
  ASSERT_TRUE(csv.Next(f));
  EXPECT_THAT(f, ElementsAre("url", "country", "note"));
  ASSERT_TRUE(csv.Next(f));
  EXPECT_THAT(f, ElementsAre("http://a/1.jpg", "UK", "plain"));
  ASSERT_TRUE(csv.Next(f));
  EXPECT_THAT(f, ElementsAre("http://a/2.jpg?x=1,2", "United \"Kingdom\"", "two\nlines"));
  EXPECT_EQ(csv.line(), 3);
  ASSERT_TRUE(csv.Next(f));
  EXPECT_THAT(f, ElementsAre("http://a/3.jpg", "", ""));
  EXPECT_EQ(csv.line(), 5);
  ASSERT_TRUE(csv.Next(f));
  EXPECT_THAT(f, ElementsAre("http://a/4.jpg", "US", "last"));
  EXPECT_FALSE(csv.Next(f));
  EXPECT_OK(csv.error());
}

TEST(CsvReaderTest, UnclosedQuoteIsAnErrorWithItsLine) {
  std::istringstream in("a,b\n\"open,x\n");
  CsvReader csv(in);
  std::vector<std::string> f;
  ASSERT_TRUE(csv.Next(f));
  EXPECT_FALSE(csv.Next(f));
  EXPECT_THAT(csv.error(), atelier::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                      ::testing::HasSubstr("line 2")));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  std::istringstream in("\"a\"b,c\n");
  CsvReader csv(in);
  std::vector<std::string> f;
  EXPECT_FALSE(csv.Next(f));
  EXPECT_FALSE(csv.error().ok());
}

// A leading 0xEF that starts no BOM is data, also when the input ends within
// three bytes (the bytes were compared uninitialised and lost before).
TEST(CsvReaderTest, ShortOrFalseByteOrderMarkIsData) {
  for (const std::string& text : {std::string("\xEF"), std::string("\xEF" "a"), std::string("\xEF\xBB"),
                                 std::string("\xEF" "ab,c\n")}) {
    std::istringstream in(text);
    CsvReader csv(in);
    std::vector<std::string> f;
    ASSERT_TRUE(csv.Next(f)) << text;
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0], text.substr(0, text.find_first_of(",\n"))) << text;
  }
}

}  // namespace
}  // namespace atelier::coordinator
