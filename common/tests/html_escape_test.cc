#include "atelier/common/html_escape.h"

#include "gtest/gtest.h"

namespace atelier {
namespace {

TEST(HtmlEscapeTest, EscapesMarkupAndBothQuotes) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

TEST(HtmlEscapeTest, KeepsOtherTextIncludingUtf8) {
  EXPECT_EQ(HtmlEscape("Robe à la française, 日本"), "Robe à la française, 日本");
  EXPECT_EQ(HtmlEscape(""), "");
}

}  // namespace
}  // namespace atelier
