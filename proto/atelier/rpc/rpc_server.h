// RpcServer: how every atelier gRPC server is started. It listens on
// HOST:PORT (port 0 picks one; port() says which), registers the given
// services and, beside them,
//   * grpc.health.v1.Health (gRPC's default health service: Check and Watch;
//     Debian's gRPC 1.51 does not implement List, which answers
//     UNIMPLEMENTED): SERVING for "" and for each service's full name, e.g.
//     "atelier.v1.CrawlService"; NOT_SERVING for all once Shutdown() begins;
//   * server reflection, as grpc.reflection.v1alpha (gRPC's plugin) and as
//     grpc.reflection.v1 (ReflectionV1Service); both list the same services.
// Thread-safe; the destructor shuts the server down if Shutdown() was not called.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/rpc/reflection_v1.h"
#include "grpcpp/server.h"

namespace atelier::rpc {

struct RpcService {
  grpc::Service* service;  // not owned; must outlive the server
  std::string name;        // full name, e.g. atelier::v1::CrawlService::service_full_name()
};

struct RpcServerOptions {
  int max_receive_message_bytes = 64 << 20;
};

class RpcServer {
 public:
  // InvalidArgument for a malformed `listen`, Unavailable when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<RpcServer>> Start(const std::string& listen,
                                                          const std::vector<RpcService>& services,
                                                          const RpcServerOptions& options = {});
  ~RpcServer();

  int port() const { return port_; }
  // Marks every service NOT_SERVING, then stops accepting calls and waits up
  // to `grace` for the ones in flight before cancelling them.
  void Shutdown(absl::Duration grace);

 private:
  RpcServer() = default;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> names_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace atelier::rpc
