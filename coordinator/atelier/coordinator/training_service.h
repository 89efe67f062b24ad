// TrainingServiceImpl: atelier.v1.TrainingService over a TrainingRegistry
// (rendezvous, metrics, operator stop requests). PublishRendezvous is answered UNIMPLEMENTED: the
// NCCL unique id travels through rank 0's c10d store instead. Thread-safe.
#pragma once

#include "atelier/coordinator/training_registry.h"
#include "atelier/v1/training.grpc.pb.h"

namespace atelier::coordinator {

class TrainingServiceImpl final : public atelier::v1::TrainingService::Service {
 public:
  explicit TrainingServiceImpl(TrainingRegistry* registry) : registry_(registry) {}

  grpc::Status JoinTraining(grpc::ServerContext* context, const atelier::v1::JoinTrainingRequest* request,
                            atelier::v1::JoinTrainingResponse* response) override;
  grpc::Status PublishRendezvous(grpc::ServerContext* context, const atelier::v1::PublishRendezvousRequest* request,
                                 atelier::v1::PublishRendezvousResponse* response) override;
  grpc::Status ReportMetrics(grpc::ServerContext* context, const atelier::v1::ReportMetricsRequest* request,
                             atelier::v1::ReportMetricsResponse* response) override;
  grpc::Status StopTraining(grpc::ServerContext* context, const atelier::v1::StopTrainingRequest* request,
                            atelier::v1::StopTrainingResponse* response) override;

 private:
  TrainingRegistry* registry_;  // not owned
};

}  // namespace atelier::coordinator
