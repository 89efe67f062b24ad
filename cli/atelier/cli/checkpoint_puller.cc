#include "atelier/cli/checkpoint_puller.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/rpc/grpc_status.h"
#include "atelier/common/status_macros.h"
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

std::optional<PartState> ReadPartState(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("name") || !j.contains("sha256")) return std::nullopt;
  return PartState{j.value("run", ""), j.value("name", ""), j.value("sha256", ""), j.value("size_bytes", int64_t{0})};
}

absl::Status WritePartState(const fs::path& path, const PartState& state) {
  std::ofstream out(path, std::ios::trunc);
  out << nlohmann::json{{"run", state.run}, {"name", state.name}, {"sha256", state.sha256},
                        {"size_bytes", state.size_bytes}}
             .dump();
  if (!out) return absl::InternalError(absl::StrCat(path.string(), ": cannot write"));
  return absl::OkStatus();
}

absl::Status FsyncAndRename(const fs::path& from, const fs::path& to) {
  int fd = open(from.c_str(), O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat(from.string(), ": fsync failed"));
  }
  close(fd);
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", from.string(), " -> ", to.string(), ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PullResult> PullCheckpoint(const PullRequest& request,
                                          const std::function<void(int64_t, int64_t)>& progress) {
  if (request.output.empty()) return absl::InvalidArgumentError("pull: no output file (-o FILE)");
  const fs::path output = request.output;
  const fs::path part = output.string() + ".part";
  const fs::path part_json = output.string() + ".part.json";
  if (output.has_parent_path()) fs::create_directories(output.parent_path());

  PullResult result;
  std::optional<PartState> state = ReadPartState(part_json);
  std::error_code ec;
  int64_t have = fs::exists(part) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
  if (!state || state->run != request.run || have > state->size_bytes) {
    state.reset();
    have = 0;
    fs::remove(part, ec);
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
  std::ofstream out(part, std::ios::binary | std::ios::app);
  if (!out) return absl::InternalError(absl::StrCat(part.string(), ": cannot write"));
  atelier::v1::CheckpointChunk chunk;
  int64_t received = 0;
  bool stopped = false;
  while (reader->Read(&chunk)) {
    if (chunk.has_info()) {
      state = PartState{request.run, chunk.info().name(), chunk.info().sha256(), chunk.info().size_bytes()};
      RETURN_IF_ERROR(WritePartState(part_json, *state));
    }
    if (!state) return absl::DataLossError("pull: the server sent data before the file's info");
    if (chunk.offset() != have) {
      return absl::DataLossError(absl::StrCat("pull: chunk at byte ", chunk.offset(), ", expected ", have));
    }
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    have += static_cast<int64_t>(chunk.data().size());
    received += static_cast<int64_t>(chunk.data().size());
    if (progress) progress(have, state->size_bytes);
    if (request.stop_after_bytes > 0 && received >= request.stop_after_bytes) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(part.string(), ": write failed"));
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
      fs::remove(part, ec);
      fs::remove(part_json, ec);
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
    fs::remove(part, ec);
    fs::remove(part_json, ec);
    return absl::DataLossError(absl::StrCat("pull: sha256 mismatch for ", state->name, " (got ", digest,
                                            ", expected ", state->sha256, "); the partial file was removed"));
  }
  RETURN_IF_ERROR(FsyncAndRename(part, output));
  fs::remove(part_json, ec);
  result.name = state->name;
  result.sha256 = digest;
  result.size_bytes = have;
  return result;
}

}  // namespace atelier::cli
