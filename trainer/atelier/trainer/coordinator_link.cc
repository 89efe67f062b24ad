#include "atelier/trainer/coordinator_link.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "atelier/rpc/grpc_status.h"
#include "atelier/v1/training.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace atelier::trainer {

struct CoordinatorLink::Stub {
  std::unique_ptr<atelier::v1::TrainingService::Stub> training;
};

CoordinatorLink::CoordinatorLink(std::unique_ptr<Stub> stub, std::string address)
    : stub_(std::move(stub)), address_(std::move(address)) {}

CoordinatorLink::~CoordinatorLink() = default;

std::unique_ptr<CoordinatorLink> CoordinatorLink::Connect(const std::string& address) {
  auto stub = std::make_unique<Stub>();
  stub->training = atelier::v1::TrainingService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  return std::unique_ptr<CoordinatorLink>(new CoordinatorLink(std::move(stub), address));
}

absl::StatusOr<Rendezvous> CoordinatorLink::Join(const std::string& run, int world_size, const std::string& hostname,
                                                 int store_port, const std::string& member_id, int timeout_s) {
  atelier::v1::JoinTrainingRequest request;
  request.set_run(run);
  request.set_world_size(world_size);
  request.set_hostname(hostname);
  request.set_store_port(store_port);
  request.set_member_id(member_id);
  request.set_local_rank(-1);
  request.set_timeout_ms(timeout_s * 1000);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s + 10));
  context.set_wait_for_ready(true);
  atelier::v1::JoinTrainingResponse response;
  grpc::Status status = stub_->training->JoinTraining(&context, request, &response);
  if (!status.ok()) {
    return rpc::FromGrpcStatus(status, absl::StrCat("joining run '", run, "' at coordinator ", address_));
  }
  return Rendezvous{response.rank(), response.world_size(), response.master_addr(), response.master_port()};
}

bool CoordinatorLink::ReportEpoch(const ReportContext& context, const EpochRecord& record, bool done) {
  atelier::v1::ReportMetricsRequest request;
  request.set_run(context.run);
  request.set_rank(context.rank);
  request.set_world_size(context.world_size);
  request.set_phase(done ? atelier::v1::TRAINING_PHASE_DONE : atelier::v1::TRAINING_PHASE_TRAINING);
  request.set_epoch(record.epoch - 1);  // the proto counts from 0
  request.set_epochs_total(context.epochs_total);
  request.set_step(record.step);
  request.set_steps_total(context.steps_total);
  request.set_learning_rate(record.lr);
  request.set_images_per_second(record.images_per_s);
  for (const auto& [head, m] : record.train) {
    auto* h = request.add_train();
    h->set_head(head);
    h->set_loss(m.loss);
    h->set_accuracy(m.accuracy);
  }
  for (const auto& [head, m] : record.val) {
    auto* h = request.add_val();
    h->set_head(head);
    h->set_loss(m.loss);
    h->set_accuracy(m.accuracy);
  }
  request.set_last_checkpoint(context.last_checkpoint);
  const int remaining_epochs = context.epochs_total - record.epoch;
  request.set_eta_ms(done ? 0 : (record.seconds > 0 ? static_cast<int64_t>(remaining_epochs * record.seconds * 1000) : -1));
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  atelier::v1::ReportMetricsResponse response;
  grpc::Status status = stub_->training->ReportMetrics(&rpc, request, &response);
  if (!status.ok()) {
    if (!warned_) spdlog::warn("cannot report metrics to coordinator {}: {}", address_, status.error_message());
    warned_ = true;
    return false;
  }
  return response.stop_requested();
}

}  // namespace atelier::trainer
