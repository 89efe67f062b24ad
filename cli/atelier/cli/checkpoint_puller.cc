#include "atelier/cli/checkpoint_puller.h"

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/status_macros.h"
#include "atelier/rpc/grpc_status.h"
#include "atelier/dataset/sha256.h"
#include "atelier/v1/checkpoint.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace atelier::cli {
namespace fs = std::filesystem;

namespace {

struct PartState {
  std::string run;
  std::string name;
  std::string sha256;
  int64_t size_bytes = 0;
};

std::optional<PartState> ReadPartState(Env& env, const fs::path& path) {
  absl::StatusOr<std::string> text = env.ReadFile(path);
  if (!text.ok()) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("name") || !j.contains("sha256")) return std::nullopt;
  return PartState{j.value("run", ""), j.value("name", ""), j.value("sha256", ""), j.value("size_bytes", int64_t{0})};
}

absl::Status WritePartState(Env& env, const fs::path& path, const PartState& state) {
  return WriteFileAtomically(env, path,
                             nlohmann::json{{"run", state.run}, {"name", state.name}, {"sha256", state.sha256},
                                            {"size_bytes", state.size_bytes}}
                                 .dump());
}

}  // namespace

absl::StatusOr<PullResult> PullCheckpoint(const PullRequest& request,
                                          const std::function<void(int64_t, int64_t)>& progress, Env* env) {
  if (request.output.empty()) return absl::InvalidArgumentError("pull: no output file (-o FILE)");
  const fs::path output = request.output;
  const fs::path part = output.string() + ".part";
  const fs::path part_json = output.string() + ".part.json";
  if (output.has_parent_path()) RETURN_IF_ERROR(env->CreateDirs(output.parent_path()));

  PullResult result;
  std::optional<PartState> state = ReadPartState(*env, part_json);
  absl::StatusOr<uint64_t> part_size = env->GetFileSize(part);
  int64_t have = part_size.ok() ? static_cast<int64_t>(*part_size) : 0;
  if (!state || state->run != request.run || have > state->size_bytes) {
    state.reset();
    have = 0;
    (void)env->RemoveFile(part);
  }

  auto stub = atelier::v1::CheckpointService::NewStub(
      grpc::CreateChannel(request.coordinator, grpc::InsecureChannelCredentials()));
  atelier::v1::PullCheckpointRequest rpc_request;
  rpc_request.set_run(request.run);
  // A resumed pull asks for the file it started on, not whatever `latest`
  // points to now, and refuses a changed file.
  rpc_request.set_which(state ? state->name : request.which);
  rpc_request.set_offset(have);
  rpc_request.set_chunk_bytes(request.chunk_bytes);
  if (state) rpc_request.set_expect_sha256(state->sha256);
  result.resumed_from = have;

  grpc::ClientContext context;
  auto reader = stub->PullCheckpoint(&context, rpc_request);
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env->NewWritableFile(part, OpenMode::kAppend));
  atelier::v1::CheckpointChunk chunk;
  int64_t received = 0;
  bool stopped = false;
  while (reader->Read(&chunk)) {
    if (chunk.has_info()) {
      state = PartState{request.run, chunk.info().name(), chunk.info().sha256(), chunk.info().size_bytes()};
      RETURN_IF_ERROR(WritePartState(*env, part_json, *state));
    }
    if (!state) return absl::DataLossError("pull: the server sent data before the file's info");
    if (chunk.offset() != have) {
      return absl::DataLossError(absl::StrCat("pull: chunk at byte ", chunk.offset(), ", expected ", have));
    }
    absl::Status appended = out->Append(chunk.data());
    if (!appended.ok()) {  // e.g. a full disk: the bytes held so far are resumed from
      context.TryCancel();
      while (reader->Read(&chunk)) {
      }
      reader->Finish();
      return appended;
    }
    have += static_cast<int64_t>(chunk.data().size());
    received += static_cast<int64_t>(chunk.data().size());
    if (progress) progress(have, state->size_bytes);
    if (request.stop_after_bytes > 0 && received >= request.stop_after_bytes) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  // Durable before it can be resumed from or renamed into place.
  RETURN_IF_ERROR(out->Sync());
  RETURN_IF_ERROR(out->Close());
  if (stopped) {
    while (reader->Read(&chunk)) {
    }
    reader->Finish();
    return absl::UnavailableError(absl::StrCat("pull stopped after ", have, " bytes; run again to resume"));
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      // The file changed under a resumed pull: drop the part, the next call starts over.
      (void)env->RemoveFile(part);
      (void)env->RemoveFile(part_json);
    }
    return rpc::FromGrpcStatus(status, absl::StrCat("pull ", request.run, "/", rpc_request.which(), " from ",
                                         request.coordinator));
  }
  if (!state || have != state->size_bytes) {
    return absl::DataLossError(absl::StrCat("pull: stream ended at byte ", have, " of ",
                                            state ? state->size_bytes : -1));
  }
  ASSIGN_OR_RETURN(std::string digest, dataset::Sha256OfFile(part));
  if (digest != state->sha256) {
    (void)env->RemoveFile(part);
    (void)env->RemoveFile(part_json);
    return absl::DataLossError(absl::StrCat("pull: sha256 mismatch for ", state->name, " (got ", digest,
                                            ", expected ", state->sha256, "); the partial file was removed"));
  }
  RETURN_IF_ERROR(PublishFile(*env, part, output));
  (void)env->RemoveFile(part_json);
  result.name = state->name;
  result.sha256 = digest;
  result.size_bytes = have;
  return result;
}

}  // namespace atelier::cli
