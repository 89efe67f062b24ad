#include "atelier/rpc/rpc_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "atelier/common/listen_address.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace atelier::rpc {

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(const std::string& listen,
                                                            const std::vector<RpcService>& services,
                                                            const RpcServerOptions& options) {
  if (absl::Status valid = ParseListenAddress(listen).status(); !valid.ok()) return valid;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<RpcServer> server(new RpcServer());
  for (const auto& s : services) server->names_.push_back(s.name);
  std::vector<std::string> listed = server->names_;
  listed.push_back(grpc::reflection::v1::ServerReflection::service_full_name());
  listed.push_back("grpc.reflection.v1alpha.ServerReflection");
  listed.push_back("grpc.health.v1.Health");
  server->reflection_v1_ = std::make_unique<ReflectionV1Service>(listed);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &server->port_);
  for (const auto& s : services) builder.RegisterService(s.service);
  builder.RegisterService(server->reflection_v1_.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on '", listen, "'"));
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  if (health == nullptr) return absl::InternalError("gRPC's default health service is missing");
  health->SetServingStatus(true);
  for (const auto& name : server->names_) health->SetServingStatus(name, true);
  return server;
}

void RpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

RpcServer::~RpcServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace atelier::rpc
