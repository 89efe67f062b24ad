#include "atelier/crawler/met_object.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "atelier/common/status_matchers.h"

namespace atelier::crawler {
namespace {

using ::testing::ElementsAre;

TEST(MetObjectTest, ImagesFieldsAndDecade) {
  const std::string body = R"({"objectID": 81234, "isPublicDomain": true,
    "primaryImage": "https://images.example/a.jpg",
    "additionalImages": ["https://images.example/b.jpg", "", "https://images.example/a.jpg", "https://images.example/c.jpg"],
    "title": "Evening dress", "objectDate": "ca. 1885", "objectBeginDate": 1883, "culture": "British",
    "country": "", "department": "The Costume Institute", "classification": "Dresses"})";
  ASSERT_OK_AND_ASSIGN(MetObject o, ParseMetObject(body, {"decade", "century"}));
  EXPECT_EQ(o.object_id, 81234);
  EXPECT_THAT(o.image_urls, ElementsAre("https://images.example/a.jpg", "https://images.example/b.jpg",
                                        "https://images.example/c.jpg"));
  EXPECT_EQ(o.extra["title"], "Evening dress");
  EXPECT_EQ(o.extra["objectDate"], "ca. 1885");
  EXPECT_EQ(o.extra["objectBeginDate"], "1883");
  EXPECT_EQ(o.extra["culture"], "British");
  EXPECT_EQ(o.extra["department"], "The Costume Institute");
  EXPECT_EQ(o.extra["classification"], "Dresses");
  EXPECT_EQ(o.extra["isPublicDomain"], "true");
  EXPECT_EQ(o.extra.count("country"), 0u);  // empty fields are left out
  EXPECT_EQ(o.derived_labels["decade"], "1880s");
  EXPECT_EQ(o.derived_labels["century"], "19th century");
}

TEST(MetObjectTest, NoImageAndNoDerivedLabelsUnlessAsked) {
  ASSERT_OK_AND_ASSIGN(MetObject o, ParseMetObject(R"({"objectID": 5, "primaryImage": "", "objectBeginDate": 1901})", {}));
  EXPECT_TRUE(o.image_urls.empty());
  EXPECT_TRUE(o.derived_labels.empty());
}

TEST(MetObjectTest, HtmlAndBrokenJsonAreRejected) {
  EXPECT_THAT(ParseMetObject("<!DOCTYPE html><html><body>blocked</body></html>", {}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMetObject(R"({"objectID": 5, "primaryImage": )", {}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMetObject("[1, 2]", {}), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MetObjectTest, Labels) {
  EXPECT_EQ(DecadeLabel(1880), "1880s");
  EXPECT_EQ(DecadeLabel(1889), "1880s");
  EXPECT_EQ(DecadeLabel(5), "0s");
  EXPECT_EQ(DecadeLabel(-451), "-460s");
  EXPECT_EQ(CenturyLabel(1900), "19th century");
  EXPECT_EQ(CenturyLabel(1901), "20th century");
  EXPECT_EQ(CenturyLabel(2001), "21st century");
  EXPECT_EQ(MetObjectUrl("http://h/api/", 7), "http://h/api/objects/7");
}

// Found by the met_object fuzzer: negating INT64_MIN (objectBeginDate
// -9223372036854775808) overflowed, undefined behaviour.
TEST(MetObjectTest, LabelsOfExtremeYears) {
  EXPECT_EQ(DecadeLabel(INT64_MIN), "-9223372036854775810s");
  EXPECT_EQ(DecadeLabel(INT64_MIN + 1), "-9223372036854775810s");
  EXPECT_EQ(DecadeLabel(INT64_MAX), "9223372036854775800s");
  EXPECT_EQ(DecadeLabel(-1), "-10s");
  EXPECT_EQ(DecadeLabel(-450), "-450s");
  EXPECT_EQ(CenturyLabel(INT64_MIN), "92233720368547759th century BCE");
  EXPECT_EQ(CenturyLabel(-450), "5th century BCE");
  EXPECT_EQ(CenturyLabel(INT64_MAX), "92233720368547759th century");
  ASSERT_OK_AND_ASSIGN(MetObject object,
                       ParseMetObject(R"({"objectID": 3, "objectBeginDate": -9223372036854775808})", {"decade", "century"}));
  EXPECT_EQ(object.derived_labels["decade"], "-9223372036854775810s");
}

// An integer above INT64_MAX is not an int64: it was wrapped to a negative ID
// or year before.
TEST(MetObjectTest, IntegersAboveInt64AreNotIdsOrYears) {
  ASSERT_OK_AND_ASSIGN(MetObject object,
                       ParseMetObject(R"({"objectID": 18446744073709551615, "objectBeginDate": 18446744073709551615})",
                                      {"decade"}));
  EXPECT_EQ(object.object_id, 0);
  EXPECT_TRUE(object.derived_labels.empty());
  EXPECT_EQ(object.extra["objectBeginDate"], "18446744073709551615");
}

}  // namespace
}  // namespace atelier::crawler
