// RpcServer on a real port (0: picked by the system): grpc.health.v1 per
// service (Check and Watch), reflection v1 and v1alpha, and the one status
// mapping.
#include "atelier/rpc/rpc_server.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/rpc/grpc_status.h"
#include "atelier/v1/status.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"

namespace atelier::rpc {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;
using ::testing::Contains;
using ::testing::HasSubstr;

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<RpcService> services = {{&status_, v1::StatusService::service_full_name()}};
    ASSERT_OK_AND_ASSIGN(server_, RpcServer::Start("127.0.0.1:0", services));
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials());
  }
  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }
  grpc::Status Check(const std::string& service, HealthCheckResponse* response) {
    auto ctx = Context();
    HealthCheckRequest request;
    request.set_service(service);
    return grpc::health::v1::Health::NewStub(channel_)->Check(ctx.get(), request, response);
  }
  // One reflection request and its answer over `method` (v1 or v1alpha: the
  // two share their messages on the wire).
  ServerReflectionResponse Reflect(const std::string& method, const ServerReflectionRequest& request) {
    auto ctx = Context();
    std::unique_ptr<grpc::ClientReaderWriter<ServerReflectionRequest, ServerReflectionResponse>> stream(
        grpc::internal::ClientReaderWriterFactory<ServerReflectionRequest, ServerReflectionResponse>::Create(
            channel_.get(), grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING),
            ctx.get()));
    ServerReflectionResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->WritesDone());
    EXPECT_TRUE(stream->Read(&response)) << method;
    EXPECT_TRUE(stream->Finish().ok()) << method;
    return response;
  }

  v1::StatusService::Service status_;  // every method UNIMPLEMENTED; only its name matters here
  std::unique_ptr<RpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

constexpr char kV1[] = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
constexpr char kV1Alpha[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

TEST_F(RpcServerTest, HealthIsServingForTheServerAndEachServiceByName) {
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  grpc::Status named = Check("atelier.v1.StatusService", &response);
  ASSERT_TRUE(named.ok()) << named.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("atelier.v1.NoSuchService", &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RpcServerTest, HealthWatchSendsServingThenNotServingOnShutdown) {
  auto ctx = Context();
  HealthCheckRequest request;
  request.set_service("atelier.v1.StatusService");
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  auto watch = stub->Watch(ctx.get(), request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  std::thread stopper([this] { server_->Shutdown(absl::Seconds(5)); });
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  ctx->TryCancel();
  stopper.join();
}

TEST_F(RpcServerTest, ReflectionV1AndV1AlphaListTheSameServices) {
  ServerReflectionRequest request;
  request.set_list_services("");
  for (const char* method : {kV1, kV1Alpha}) {
    ServerReflectionResponse response = Reflect(method, request);
    std::vector<std::string> names;
    for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
    EXPECT_THAT(names, Contains("atelier.v1.StatusService")) << method;
    EXPECT_THAT(names, Contains("grpc.reflection.v1.ServerReflection")) << method;
    EXPECT_THAT(names, Contains("grpc.health.v1.Health")) << method;
  }
}

TEST_F(RpcServerTest, ReflectionV1DescribesASymbolWithItsImports) {
  ServerReflectionRequest request;
  request.set_file_containing_symbol("atelier.v1.StatusService");
  for (const char* method : {kV1, kV1Alpha}) {
    ServerReflectionResponse response = Reflect(method, request);
    std::vector<std::string> files;
    for (const auto& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      files.push_back(file.name());
    }
    ASSERT_FALSE(files.empty()) << method;
    EXPECT_EQ(files.front(), "atelier/v1/status.proto") << method;
    EXPECT_THAT(files, Contains("atelier/v1/common.proto")) << method;
  }
  request.set_file_containing_symbol("atelier.v1.Nothing");
  ServerReflectionResponse missing = Reflect(kV1, request);
  EXPECT_EQ(missing.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(RpcServerStartTest, RefusesAMalformedAddress) {
  EXPECT_THAT(RpcServer::Start("no-port", {}), atelier::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                                        HasSubstr("no-port")));
}

TEST(GrpcStatusTest, MapsCodesAndMessagesBothWays) {
  grpc::Status g = ToGrpcStatus(absl::DataLossError("shard 3 is corrupt"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(g.error_message(), "shard 3 is corrupt");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  absl::Status a = FromGrpcStatus(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale token"), "Heartbeat");
  EXPECT_EQ(a.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.message(), "Heartbeat: stale token");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

}  // namespace
}  // namespace atelier::rpc
