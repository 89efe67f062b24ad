#include "atelier/net/throttle_answer.h"

#include <gtest/gtest.h>

namespace atelier::net {
namespace {

FetchResult Answer(int status, std::string body, std::string content_type = "") {
  FetchResult r;
  r.http_status = status;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers["content-type"] = content_type;
  return r;
}

TEST(ThrottleAnswerTest, HtmlInsteadOfJsonAndA403AreBlockPagesWhereJsonWasExpected) {
  EXPECT_TRUE(IsThrottleAnswer(Answer(200, "<!DOCTYPE html><p>busy</p>", "text/html"), Expected::kJson));
  EXPECT_TRUE(IsThrottleAnswer(Answer(200, "  [1, 2]", "application/json"), Expected::kJson));
  EXPECT_TRUE(IsThrottleAnswer(Answer(403, "{\"message\":\"no\"}", "application/json"), Expected::kJson));
  EXPECT_FALSE(IsThrottleAnswer(Answer(200, " {\"objectIDs\": null}", "application/json"), Expected::kJson));
  EXPECT_FALSE(IsThrottleAnswer(Answer(404, "<html>gone</html>", "text/html"), Expected::kJson));
}

TEST(ThrottleAnswerTest, AnHtmlPageWhereAnImageWasExpectedIsABlockPage) {
  EXPECT_TRUE(IsThrottleAnswer(Answer(200, "\xff\xd8\xff", " Text/HTML; charset=utf-8"), Expected::kImage));
  EXPECT_TRUE(IsThrottleAnswer(Answer(200, "\n<html><body>slow down</body></html>"), Expected::kImage));
  EXPECT_FALSE(IsThrottleAnswer(Answer(200, "\xff\xd8\xff\xe0", "image/jpeg"), Expected::kImage));
  // A 403 for an image is a plain failure (http_403), not a block page.
  EXPECT_FALSE(IsThrottleAnswer(Answer(403, "<html>forbidden</html>", "text/html"), Expected::kImage));
}

TEST(ThrottleAnswerTest, TransportErrorsAreNotBlockPages) {
  FetchResult r = Answer(200, "<html></html>", "text/html");
  r.error = FetchError::kTruncated;
  EXPECT_FALSE(IsThrottleAnswer(r, Expected::kImage));
}

}  // namespace
}  // namespace atelier::net
