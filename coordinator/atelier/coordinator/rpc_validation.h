// Argument checks of every coordinator RPC, run before the request reaches
// the ShardTable, TrainingRegistry or CheckpointCatalog. Each returns OK or
// InvalidArgument naming the RPC and the field, e.g.
// "ReportMetrics: run must not be empty". Stateless; thread-safe.
#pragma once

#include "absl/status/status.h"
#include "atelier/v1/checkpoint.pb.h"
#include "atelier/v1/crawl.pb.h"
#include "atelier/v1/status.pb.h"
#include "atelier/v1/training.pb.h"

namespace atelier::coordinator {

absl::Status Validate(const v1::RegisterWorkerRequest& request);
absl::Status Validate(const v1::LeaseShardRequest& request);
absl::Status Validate(const v1::HeartbeatRequest& request);
absl::Status Validate(const v1::ReportProgressRequest& request);
absl::Status Validate(const v1::CompleteShardRequest& request);
absl::Status Validate(const v1::ReleaseShardRequest& request);
absl::Status Validate(const v1::SealSegmentRequest& request);
absl::Status Validate(const v1::WatchStatusRequest& request);
absl::Status Validate(const v1::ListDeadLinksRequest& request);
absl::Status Validate(const v1::ListFailedItemsRequest& request);
absl::Status Validate(const v1::JoinTrainingRequest& request);
absl::Status Validate(const v1::ReportMetricsRequest& request);
absl::Status Validate(const v1::StopTrainingRequest& request);
absl::Status Validate(const v1::ListCheckpointsRequest& request);
absl::Status Validate(const v1::PullCheckpointRequest& request);

}  // namespace atelier::coordinator
