#include "atelier/coordinator/training_service.h"

namespace atelier::coordinator {

grpc::Status TrainingServiceImpl::JoinTraining(grpc::ServerContext*, const atelier::v1::JoinTrainingRequest* request,
                                               atelier::v1::JoinTrainingResponse* response) {
  JoinRequest join;
  join.run = request->run();
  join.world_size = request->world_size();
  join.hostname = request->hostname();
  join.store_port = request->store_port();
  join.member_id = request->member_id();
  join.timeout = absl::Milliseconds(request->timeout_ms() > 0 ? request->timeout_ms() : 600000);
  auto result = registry_->Join(join);
  if (!result.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(result.status().code()), std::string(result.status().message()));
  }
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
  registry_->ReportMetrics(*request);
  response->set_stop_requested(registry_->StopRequested(request->run()));
  return grpc::Status::OK;
}

}  // namespace atelier::coordinator
