#include "atelier/coordinator/training_service.h"

#include "atelier/coordinator/rpc_validation.h"
#include "atelier/rpc/grpc_status.h"

namespace atelier::coordinator {

grpc::Status TrainingServiceImpl::JoinTraining(grpc::ServerContext*, const atelier::v1::JoinTrainingRequest* request,
                                               atelier::v1::JoinTrainingResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return rpc::ToGrpcStatus(valid);
  JoinRequest join;
  join.run = request->run();
  join.world_size = request->world_size();
  join.hostname = request->hostname();
  join.store_port = request->store_port();
  join.member_id = request->member_id();
  join.timeout = absl::Milliseconds(request->timeout_ms() > 0 ? request->timeout_ms() : 600000);
  auto result = registry_->Join(join);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  response->set_rank(result->rank);
  response->set_world_size(result->world_size);
  response->set_master_addr(result->master_addr);
  response->set_master_port(result->master_port);
  response->set_generation(result->generation);
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::PublishRendezvous(grpc::ServerContext*, const atelier::v1::PublishRendezvousRequest*,
                                                    atelier::v1::PublishRendezvousResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "PublishRendezvous: the NCCL unique id is exchanged through rank 0's c10d store");
}

grpc::Status TrainingServiceImpl::ReportMetrics(grpc::ServerContext*, const atelier::v1::ReportMetricsRequest* request,
                                                atelier::v1::ReportMetricsResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return rpc::ToGrpcStatus(valid);
  registry_->ReportMetrics(*request);
  response->set_stop_requested(registry_->StopRequested(request->run()));
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::StopTraining(grpc::ServerContext*, const atelier::v1::StopTrainingRequest* request,
                                               atelier::v1::StopTrainingResponse* response) {
  if (absl::Status valid = Validate(*request); !valid.ok()) return rpc::ToGrpcStatus(valid);
  response->set_known_run(registry_->RequestStop(request->run()));
  return grpc::Status::OK;
}

}  // namespace atelier::coordinator
