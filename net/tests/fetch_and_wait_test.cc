#include "atelier/net/fetch_and_wait.h"

#include <gtest/gtest.h>

#include "atelier/common/fake_clock.h"
#include "atelier/net/testing/fake_fetcher.h"

namespace atelier::net {
namespace {

using testing::FakeFetcher;
using testing::FakeResponse;

FakeResponse Redirect(const std::string& to) {
  FakeResponse r = testing::Status(302);
  r.result.redirect_url = to;
  return r;
}

TEST(FetchAndWaitTest, FollowsRedirectsToTheFinalAnswer) {
  FakeClock clock;
  FakeFetcher fetcher(clock, testing::AnswersByUrl({{"http://a.test/x", {Redirect("http://b.test/y")}},
                                                    {"http://b.test/y", {testing::Status(200, "hello")}}}));
  fetcher.set_immediate(true);
  FetchRequest request;
  request.url = "http://a.test/x";
  FetchResult result = FetchAndWait(fetcher, request);
  EXPECT_EQ(result.error, FetchError::kNone);
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.body, "hello");
  EXPECT_EQ(fetcher.total_requests(), 2);
}

TEST(FetchAndWaitTest, ARedirectLoopEndsAfterTheLimit) {
  FakeClock clock;
  FakeFetcher fetcher(clock, testing::AnswersByUrl({{"http://a.test/x", {Redirect("http://a.test/x")}}}));
  fetcher.set_immediate(true);
  FetchRequest request;
  request.url = "http://a.test/x";
  FetchResult result = FetchAndWait(fetcher, request, /*max_redirects=*/3);
  EXPECT_EQ(result.error, FetchError::kTooManyRedirects);
  EXPECT_EQ(fetcher.attempts("http://a.test/x"), 4);  // the first request and 3 redirects
}

TEST(FetchAndWaitTest, AFetcherThatNeverAnswersTimesOut) {
  FakeClock clock;
  // Not immediate and nobody calls CompleteDue: the answer never comes.
  FakeFetcher fetcher(clock, testing::AnswersByUrl({}));
  FetchRequest request;
  request.url = "http://a.test/x";
  request.timeout = absl::Milliseconds(10);
  FetchResult result = FetchAndWait(fetcher, request, 5, absl::Milliseconds(10));
  EXPECT_EQ(result.error, FetchError::kTimeout);
  // The late answer must not touch the finished wait.
  EXPECT_EQ(fetcher.CompleteDue(absl::InfiniteFuture()), 1);
}

}  // namespace
}  // namespace atelier::net
