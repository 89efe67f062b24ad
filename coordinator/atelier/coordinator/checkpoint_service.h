// CheckpointServiceImpl: atelier.v1.CheckpointService over a CheckpointCatalog.
// PullCheckpoint streams one file in chunks from an fd opened once, so a file
// pruned or replaced by the trainer during the pull is still sent whole; a
// resumed pull whose expect_sha256 no longer matches the file is refused with
// FAILED_PRECONDITION rather than mixing two files. Thread-safe.
#pragma once

#include "atelier/coordinator/checkpoint_catalog.h"
#include "atelier/v1/checkpoint.grpc.pb.h"

namespace atelier::coordinator {

class CheckpointServiceImpl final : public atelier::v1::CheckpointService::Service {
 public:
  explicit CheckpointServiceImpl(CheckpointCatalog* catalog) : catalog_(catalog) {}

  grpc::Status ListCheckpoints(grpc::ServerContext* context, const atelier::v1::ListCheckpointsRequest* request,
                               atelier::v1::ListCheckpointsResponse* response) override;
  grpc::Status PullCheckpoint(grpc::ServerContext* context, const atelier::v1::PullCheckpointRequest* request,
                              grpc::ServerWriter<atelier::v1::CheckpointChunk>* writer) override;

 private:
  CheckpointCatalog* catalog_;  // not owned
};

}  // namespace atelier::coordinator
