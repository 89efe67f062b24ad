#include "atelier/coordinator/checkpoint_service.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/coordinator/rpc_validation.h"
#include "atelier/rpc/grpc_status.h"

namespace atelier::coordinator {
namespace {

constexpr int kDefaultChunk = 1 << 20;
constexpr int kMaxChunk = 4 << 20;

using rpc::ToGrpcStatus;

void FillInfo(const CheckpointFile& f, atelier::v1::CheckpointInfo* info) {
  info->set_run(f.run);
  info->set_name(f.name);
  info->set_path(f.relative_path);
  info->set_size_bytes(f.size_bytes);
  info->set_sha256(f.sha256);
  info->set_step(f.step);
  info->set_modified_ms(f.modified_ms);
  info->set_is_latest(f.is_latest);
  info->set_is_best(f.is_best);
  info->set_epoch(f.epoch);
  info->set_best_metric(f.best_metric);
}

}  // namespace

grpc::Status CheckpointServiceImpl::ListCheckpoints(grpc::ServerContext*,
                                                    const atelier::v1::ListCheckpointsRequest* request,
                                                    atelier::v1::ListCheckpointsResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto runs = catalog_->Runs();
  if (!runs.ok()) return ToGrpcStatus(runs.status());
  for (const auto& run : *runs) {
    if (request->run().empty() || request->run() == run) response->add_runs(run);
  }
  auto files = catalog_->List(request->run(), /*with_sha256=*/true);
  if (!files.ok()) return ToGrpcStatus(files.status());
  for (const auto& f : *files) FillInfo(f, response->add_checkpoints());
  return grpc::Status::OK;
}

grpc::Status CheckpointServiceImpl::PullCheckpoint(grpc::ServerContext* context,
                                                   const atelier::v1::PullCheckpointRequest* request,
                                                   grpc::ServerWriter<atelier::v1::CheckpointChunk>* writer) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return ToGrpcStatus(valid);
  auto file = catalog_->Resolve(request->run(), request->which().empty() ? "latest" : request->which());
  if (!file.ok()) return ToGrpcStatus(file.status());
  if (!request->expect_sha256().empty() && request->expect_sha256() != file->sha256) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("checkpoint '", request->which(), "' of run '", request->run(),
                                     "' changed since the pull began (sha256 ", file->sha256, ", expected ",
                                     request->expect_sha256(), "); pull it again from the start"));
  }
  if (request->offset() < 0 || request->offset() > file->size_bytes) {
    return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                        absl::StrCat("offset ", request->offset(), " is outside ", file->name, " (",
                                     file->size_bytes, " bytes)"));
  }
  std::ifstream in(file->path, std::ios::binary);
  if (!in) return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat(file->relative_path, ": cannot open"));
  in.seekg(request->offset());
  const int chunk_bytes = request->chunk_bytes() <= 0 ? kDefaultChunk : std::min(request->chunk_bytes(), kMaxChunk);
  std::string buffer(static_cast<size_t>(chunk_bytes), '\0');
  int64_t offset = request->offset();
  bool first = true;
  while (offset < file->size_bytes || first) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "pull cancelled");
    const int64_t want = std::min<int64_t>(chunk_bytes, file->size_bytes - offset);
    in.read(buffer.data(), want);
    if (in.gcount() != want) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS,
                          absl::StrCat(file->relative_path, ": short read at byte ", offset));
    }
    atelier::v1::CheckpointChunk chunk;
    if (first) FillInfo(*file, chunk.mutable_info());
    chunk.set_offset(offset);
    chunk.set_data(buffer.data(), static_cast<size_t>(want));
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    offset += want;
    first = false;
  }
  return grpc::Status::OK;
}

}  // namespace atelier::coordinator
