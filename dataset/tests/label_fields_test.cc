#include "atelier/dataset/label_fields.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = LabelField::Kind;

TEST(LabelFieldsTest, ParsesHeadsJsonPathsAndMembers) {
  ASSERT_OK_AND_ASSIGN(auto fields, ParseLabelFields("country=country, cls=.CLS,media=labels.media,.txt,extra.era"));
  EXPECT_THAT(fields, ElementsAre(LabelField{"country", Kind::kJsonPath, "country"},
                                  LabelField{"cls", Kind::kMember, "cls"},
                                  LabelField{"media", Kind::kJsonPath, "labels.media"},
                                  LabelField{"txt", Kind::kMember, "txt"},
                                  LabelField{"era", Kind::kJsonPath, "extra.era"}));
  EXPECT_EQ(LabelFieldsToString(fields), "country=country,cls=.cls,media=labels.media,txt=.txt,era=extra.era");
  EXPECT_EQ(*ParseLabelFields(LabelFieldsToString(fields)), fields);
}

TEST(LabelFieldsTest, RefusesBadItemsNamingThem) {
  for (const char* spec : {"", "=x", "a=", "a=.", "a=b..c", "a=x,a=.cls", "a=./x"}) {
    EXPECT_THAT(ParseLabelFields(spec), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--label-field")))
        << spec;
  }
  EXPECT_THAT(ParseLabelFields("a=x,a=.cls"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"a\" given twice")));
}

}  // namespace
}  // namespace atelier::dataset
