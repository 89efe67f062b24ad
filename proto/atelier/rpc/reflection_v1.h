// grpc.reflection.v1.ServerReflection over the process's generated
// descriptor pool: what Debian's gRPC 1.51 serves only as v1alpha (through
// grpc::reflection::InitProtoReflectionServerBuilderPlugin), answered the same
// way for clients that ask for v1 (grpcurl >= 1.9, current grpcio-reflection).
// Thread-safe (the service names are fixed at construction).
#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace atelier::rpc {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the full names list_services answers with.
  explicit ReflectionV1Service(std::vector<std::string> services) : services_(std::move(services)) {}

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace atelier::rpc
