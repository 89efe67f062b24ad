#include "atelier/rpc/reflection_v1.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace atelier::rpc {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;

void SetError(ServerReflectionResponse& response, grpc::StatusCode code, const std::string& message) {
  response.mutable_error_response()->set_error_code(code);
  response.mutable_error_response()->set_error_message(message);
}

// Adds `file`, then the files it imports (transitively), each once per
// response, as gRPC's own reflection does.
void AddFile(const pb::FileDescriptor* file, std::set<std::string>& sent, ServerReflectionResponse& response) {
  if (!sent.insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(response.mutable_file_descriptor_response()->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), sent, response);
}

}  // namespace

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext*, grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    std::set<std::string> sent;
    ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    switch (request.message_request_case()) {
      case ServerReflectionRequest::kFileByFilename:
        if (const auto* file = pool->FindFileByName(request.file_by_filename())) {
          AddFile(file, sent, response);
        } else {
          SetError(response, grpc::StatusCode::NOT_FOUND, absl::StrCat("file '", request.file_by_filename(), "' not found"));
        }
        break;
      case ServerReflectionRequest::kFileContainingSymbol:
        if (const auto* file = pool->FindFileContainingSymbol(request.file_containing_symbol())) {
          AddFile(file, sent, response);
        } else {
          SetError(response, grpc::StatusCode::NOT_FOUND,
                   absl::StrCat("symbol '", request.file_containing_symbol(), "' not found"));
        }
        break;
      case ServerReflectionRequest::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const auto* type = pool->FindMessageTypeByName(ext.containing_type());
        const auto* field = type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ext.extension_number());
        if (field != nullptr) {
          AddFile(field->file(), sent, response);
        } else {
          SetError(response, grpc::StatusCode::NOT_FOUND,
                   absl::StrCat("extension ", ext.extension_number(), " of '", ext.containing_type(), "' not found"));
        }
        break;
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType:
        if (const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type())) {
          std::vector<const pb::FieldDescriptor*> extensions;
          pool->FindAllExtensions(type, &extensions);
          auto* numbers = response.mutable_all_extension_numbers_response();
          numbers->set_base_type_name(type->full_name());
          for (const auto* e : extensions) numbers->add_extension_number(e->number());
        } else {
          SetError(response, grpc::StatusCode::NOT_FOUND,
                   absl::StrCat("type '", request.all_extension_numbers_of_type(), "' not found"));
        }
        break;
      case ServerReflectionRequest::kListServices:
        for (const auto& name : services_) response.mutable_list_services_response()->add_service()->set_name(name);
        break;
      default:
        SetError(response, grpc::StatusCode::UNIMPLEMENTED, "unknown reflection request");
        break;
    }
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace atelier::rpc
