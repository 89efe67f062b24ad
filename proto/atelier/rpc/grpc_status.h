// The one mapping between absl::Status and grpc::Status, used at every RPC
// edge: servers return ToGrpcStatus(...) of their absl errors, clients turn a
// failed call into an absl::Status with FromGrpcStatus(...). Both keep the
// code (the two enums share their numbering) and the message.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace atelier::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);

// `context` (e.g. "LeaseShard to host:port"), when not empty, prefixes the
// message as "<context>: <message>".
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view context = "");

}  // namespace atelier::rpc
