// The loopback origin answers like the real sources the demo replicates.
#include "atelier/demo/origin_server.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace atelier::demo {
namespace {

using ::testing::HasSubstr;

class OriginServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(origin_, OriginServer::Start());
    client_ = std::make_unique<httplib::Client>(origin_->base_url());
  }
  std::unique_ptr<OriginServer> origin_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OriginServerTest, ListensOnLoopback) {
  EXPECT_THAT(origin_->base_url(), HasSubstr("http://127.0.0.1:"));
}

TEST_F(OriginServerTest, ServesRegisteredBodyAnd404Otherwise) {
  origin_->Serve("/images/1.png", "image/png", "PNGBYTES");
  auto ok = client_->Get("/images/1.png");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "PNGBYTES");
  EXPECT_EQ(ok->get_header_value("Content-Type"), "image/png");
  auto missing = client_->Get("/images/2.png");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(origin_->requests(), 2);
}

TEST_F(OriginServerTest, HtmlFirstAnswersThrottlePageThenBody) {
  origin_->Serve("/x", "application/json", "{}", /*html_first=*/2);
  for (int i = 0; i < 2; ++i) {
    auto r = client_->Get("/x");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_THAT(r->body, HasSubstr("<html>"));
  }
  auto r = client_->Get("/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{}");
}

TEST_F(OriginServerTest, MetReplicaSearchAndObjects) {
  origin_->AddMetSearch("dress", {11, 12});
  origin_->AddMetObject(11, R"({"objectID":11,"primaryImage":""})");
  const std::string prefix = origin_->met_api().substr(origin_->base_url().size());
  auto search = client_->Get(prefix + "/search?q=dress&hasImages=true");
  ASSERT_TRUE(search);
  auto body = nlohmann::json::parse(search->body);
  EXPECT_EQ(body["total"], 2);
  EXPECT_EQ(body["objectIDs"], nlohmann::json({11, 12}));
  auto none = client_->Get(prefix + "/search?q=teapot");
  ASSERT_TRUE(none);
  EXPECT_TRUE(nlohmann::json::parse(none->body)["objectIDs"].is_null());
  auto object = client_->Get(prefix + "/objects/11");
  ASSERT_TRUE(object);
  EXPECT_EQ(nlohmann::json::parse(object->body)["objectID"], 11);
  auto unknown = client_->Get(prefix + "/objects/12");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

}  // namespace
}  // namespace atelier::demo
