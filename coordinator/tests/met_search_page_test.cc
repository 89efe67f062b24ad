#include "atelier/coordinator/met_search_page.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(MetSearchPageTest, ReadsTotalAndIds) {
  ASSERT_OK_AND_ASSIGN(MetSearchPage page, ParseMetSearchPage(R"({"total": 3, "objectIDs": [5, 7, 9]})"));
  EXPECT_EQ(page.total, 3);
  EXPECT_THAT(page.ids, ElementsAre(5, 7, 9));
}

TEST(MetSearchPageTest, NullOrMissingIdsAreNoResults) {
  ASSERT_OK_AND_ASSIGN(MetSearchPage page, ParseMetSearchPage(R"({"total": 0, "objectIDs": null})"));
  EXPECT_THAT(page.ids, IsEmpty());
  ASSERT_OK_AND_ASSIGN(page, ParseMetSearchPage(R"({"total": "many"})"));
  EXPECT_EQ(page.total, 0);
  EXPECT_THAT(page.ids, IsEmpty());
}

TEST(MetSearchPageTest, RefusesWhatIsNotAnIdList) {
  EXPECT_THAT(ParseMetSearchPage("<html>blocked</html>"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid JSON (20 bytes): <html>")));
  EXPECT_THAT(ParseMetSearchPage("[1, 2]"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid JSON")));
  EXPECT_THAT(ParseMetSearchPage(R"({"objectIDs": "1,2"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("without an objectIDs list")));
  EXPECT_THAT(ParseMetSearchPage(R"({"objectIDs": [1, "2"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than integers")));
  EXPECT_THAT(ParseMetSearchPage(R"({"objectIDs": [1, 2.5]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than integers")));
}

// An ID above int64's range was read as a negative ID (met--1) before.
TEST(MetSearchPageTest, IdAboveInt64IsNotAnInteger) {
  EXPECT_THAT(ParseMetSearchPage(R"({"objectIDs": [18446744073709551615]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other than integers")));
  ASSERT_OK_AND_ASSIGN(MetSearchPage page, ParseMetSearchPage(R"({"objectIDs": [9223372036854775807]})"));
  EXPECT_THAT(page.ids, ElementsAre(INT64_MAX));
}

TEST(MetSearchPageTest, SnippetCutsAt80BytesAndFlattensLines) {
  EXPECT_EQ(BodySnippet("a\nb\rc"), "a b c");
  EXPECT_EQ(BodySnippet(std::string(100, 'x')), std::string(80, 'x') + "...");
}

}  // namespace
}  // namespace atelier::coordinator
