#include "atelier/common/atomic_file.h"
#include "atelier/trainer/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <csignal>
#include <cstdio>
#include <numeric>
#include <random>
#include <set>

#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/adamw.h"
#include "atelier/trainer/autocast_guard.h"
#include "atelier/trainer/batcher.h"
#include "atelier/trainer/device_augment.h"
#include "atelier/trainer/device_context.h"
#include "atelier/trainer/gradient_sync.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/packed_cache.h"
#include "atelier/trainer/rank_agreement.h"
#include "atelier/trainer/shape_check.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/lr_schedule.h"
#include "atelier/trainer/metrics.h"
#include "atelier/trainer/model.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/report.h"
#include "atelier/trainer/report_analysis.h"
#include "atelier/trainer/resume_options.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

// Per-head sums of one epoch so far (on rank 0 after a reduction: global).
struct Accumulator {
  std::vector<double> loss_sum, count, correct;
  double images = 0, seconds = 0;

  explicit Accumulator(size_t heads = 0) : loss_sum(heads, 0), count(heads, 0), correct(heads, 0) {}
  nlohmann::json ToJson() const {
    return {{"loss_sum", loss_sum}, {"count", count}, {"correct", correct}, {"images", images}, {"seconds", seconds}};
  }
  static Accumulator FromJson(const nlohmann::json& j) {
    Accumulator a;
    a.loss_sum = j.at("loss_sum").get<std::vector<double>>();
    a.count = j.at("count").get<std::vector<double>>();
    a.correct = j.at("correct").get<std::vector<double>>();
    a.images = j.at("images").get<double>();
    a.seconds = j.at("seconds").get<double>();
    return a;
  }
};

// Sums the accumulators of all ranks into rank 0's (the others are zeroed).
absl::Status Reduce(Collective& collective, Accumulator& acc) {
  if (collective.world_size() == 1) return absl::OkStatus();
  std::vector<double> flat = acc.loss_sum;
  flat.insert(flat.end(), acc.count.begin(), acc.count.end());
  flat.insert(flat.end(), acc.correct.begin(), acc.correct.end());
  flat.push_back(acc.images);
  torch::Tensor t = torch::from_blob(flat.data(), {static_cast<int64_t>(flat.size())}, torch::kFloat64).clone();
  RETURN_IF_ERROR(collective.AllReduceSum(t));
  const double* d = t.data_ptr<double>();
  size_t h = acc.loss_sum.size();
  bool keep = collective.rank() == 0;
  for (size_t i = 0; i < h; ++i) {
    acc.loss_sum[i] = keep ? d[i] : 0;
    acc.count[i] = keep ? d[h + i] : 0;
    acc.correct[i] = keep ? d[2 * h + i] : 0;
  }
  acc.images = keep ? d[3 * h] : 0;
  if (!keep) acc.seconds = 0;
  return absl::OkStatus();
}

struct RunState {
  int epoch = 0;  // completed epochs
  int64_t step_in_epoch = 0;
  int64_t global_step = 0;
  Accumulator acc;
  std::vector<EpochRecord> history;
  double best_metric = -1e300;
  bool has_best = false;
  nlohmann::json options;  // ComputationOptions of the run

  std::string ToJson(uint64_t seed, const SplitOptions& split) const {
    nlohmann::json history_json = nlohmann::json::array();
    for (const auto& r : history) history_json.push_back(r.ToJson());
    return nlohmann::json{{"epoch", epoch},     {"step_in_epoch", step_in_epoch}, {"global_step", global_step},
                          {"seed", seed},       {"accumulator", acc.ToJson()},    {"history", history_json},
                          {"best_metric", best_metric}, {"has_best", has_best}, {"options", options},
                          {"split", split.ToJson()}}
        .dump();
  }
};

// The computation options were checked before (CheckResumeOptions).
absl::StatusOr<RunState> ParseRunState(const std::string& text, uint64_t seed, const SplitOptions& split) {
  try {
    auto j = nlohmann::json::parse(text);
    if (j.at("seed").get<uint64_t>() != seed) {
      return absl::FailedPreconditionError(absl::StrCat("the checkpoint was made with --seed ",
                                                        j.at("seed").get<uint64_t>(), ", not ", seed));
    }
    if (j.contains("split") && j["split"] != split.ToJson()) {
      return absl::FailedPreconditionError(absl::StrCat("the checkpoint was made with the split ", j["split"].dump(),
                                                        ", not ", split.ToJson().dump(),
                                                        " (--val-ratio, --test-ratio, --split-seed, --group-by, --stratify-head)"));
    }
    RunState s;
    s.epoch = j.at("epoch").get<int>();
    s.step_in_epoch = j.at("step_in_epoch").get<int64_t>();
    s.global_step = j.at("global_step").get<int64_t>();
    s.acc = Accumulator::FromJson(j.at("accumulator"));
    for (const auto& r : j.at("history")) s.history.push_back(EpochRecord::FromJson(r));
    s.best_metric = j.at("best_metric").get<double>();
    s.has_best = j.at("has_best").get<bool>();
    return s;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad trainer state in checkpoint: ", e.what()));
  }
}

// Converts the model's 4-D weights (and buffers) to channels-last memory order.
void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : StateDict(module)) {
    if (t.dim() == 4) t.set_data(t.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

// Rank 0's batch-norm buffers on every rank (DDP's broadcast_buffers).
absl::Status BroadcastBuffers(Collective& collective, torch::nn::Module& model) {
  if (collective.world_size() == 1) return absl::OkStatus();
  std::vector<torch::Tensor> buffers = model.buffers();
  if (buffers.empty()) return absl::OkStatus();
  return BroadcastTensors(collective, buffers, 0);
}

// What every rank must agree on before step 1.
RankFingerprint Fingerprint(const TrainOptions& o, const ImageSet& set, const LabelSpace& space,
                            const std::vector<int64_t>& train_idx, int batch_size, const std::string& resume_from) {
  RankFingerprint f;
  f.Add("--batch-size", absl::StrCat(batch_size));
  f.Add("--lr", absl::StrCat(o.lr));
  f.Add("--min-lr", absl::StrCat(o.min_lr));
  f.Add("--warmup-epochs", absl::StrCat(o.warmup_epochs));
  f.Add("--weight-decay", absl::StrCat(o.weight_decay));
  f.Add("--label-smoothing", absl::StrCat(o.label_smoothing));
  f.Add("--clip-norm", absl::StrCat(o.clip_norm));
  f.Add("--epochs", absl::StrCat(o.epochs));
  f.Add("--seed", absl::StrCat(o.seed));
  f.Add("--width", absl::StrCat(o.width));
  f.Add("--depth", absl::StrCat(o.depth));
  f.Add("--dropout", absl::StrCat(o.dropout));
  f.Add("--no-batch-norm", o.batch_norm ? "off" : "on");
  f.Add("--image-size", absl::StrCat(set.image_size));
  f.Add("--channels", absl::StrCat(set.channels));
  f.Add("split options", o.split.ToJson().dump());
  std::string heads;
  for (const auto& h : space.heads) {
    absl::StrAppend(&heads, h.name, ":", h.classes.size(), ";");
    auto w = o.head_weights.find(h.name);
    if (w != o.head_weights.end()) absl::StrAppend(&heads, "w=", w->second, ";");
  }
  f.Add("--heads/--head-weights", heads);
  std::string balance = absl::StrCat(o.balance.every.mode, ":", o.balance.every.cap);
  for (const auto& [head, spec] : o.balance.per_head) absl::StrAppend(&balance, ",", head, "=", spec.mode, ":", spec.cap);
  f.Add("--balance", balance);
  f.Add("augmentation", absl::StrCat(o.augment, o.augment_options.crop, o.augment_options.hflip,
                                     o.augment_options.rotate, " ", o.augment_options.min_crop_area, " ",
                                     o.augment_options.max_rotation_deg));
  f.Add("--precision/--channels-last", absl::StrCat(o.bf16, o.channels_last));
  f.Add("--resume (checkpoint)", resume_from);
  std::string shards;
  size_t shard_count = 0;
  std::error_code ec;
  if (auto list = dataset::ListShards(o.data_root); list.ok()) {
    shard_count = list->size();
    for (const fs::path& shard : *list) absl::StrAppend(&shards, shard.filename().string(), ":", fs::file_size(shard, ec), ";");
  }
  f.Add("shards", absl::StrCat(shard_count, " shard(s), names and sizes ",
                               absl::StrFormat("%016x", static_cast<uint64_t>(KeyUnit(shards, 1) * 0x1p53))));
  std::string keys;
  for (const std::string& k : set.keys) absl::StrAppend(&keys, k, "\n");
  f.Add("samples", absl::StrCat(set.size(), " samples, ", train_idx.size(), " train, keys ",
                                absl::StrFormat("%016x", static_cast<uint64_t>(KeyUnit(keys, 1) * 0x1p53))));
  return f;
}

std::string FormatDuration(double seconds) {
  int s = static_cast<int>(std::max(0.0, seconds));
  return absl::StrFormat("%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& options, Collective& collective) {
  const int rank = collective.rank(), world = collective.world_size();
  const bool writer = rank == 0;
  if (options.batch_size <= 0 || options.batch_size % world != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch-size ", options.batch_size, " must be a positive multiple of the world size ", world));
  }
  if (options.epochs <= 0) return absl::InvalidArgumentError("--epochs must be > 0");
  if (options.out_dir.empty()) return absl::InvalidArgumentError("--out is required");
  if (!std::isfinite(options.min_lr) || options.min_lr < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--min-lr ", options.min_lr, " must be a finite number >= 0"));
  }
  RETURN_IF_ERROR(ValidateSplitOptions(options.split));
  const double memory_budget = options.memory_budget > 0 ? options.memory_budget : DefaultMemoryBudget();
  TrainShape shape;
  shape.image_size = options.image_size > 0 ? options.image_size : 64;
  shape.in_channels = options.channels > 0 ? options.channels : 3;
  shape.width = options.width;
  shape.depth = options.depth;
  shape.local_batch = options.batch_size / world;
  shape.lr = options.lr;
  // Flags alone, before any data is read (the memory check waits for the
  // data's image size and classes).
  RETURN_IF_ERROR(CheckTrainShape(shape, 0));
  if (options.threads > 0) torch::set_num_threads(options.threads);
  ASSIGN_OR_RETURN(std::unique_ptr<DeviceContext> device_context, OpenDevice(options.device));
  const torch::Device device = device_context->device();
  const bool augment_on_device = options.augment_on_device.value_or(device.is_cuda());
  auto stop_requested = [&] { return options.stop != nullptr && options.stop->load(); };

  CheckpointStore store(options.out_dir / "checkpoints", options.keep_last, options.env);
  if (writer) {
    ASSIGN_OR_RETURN(int leftovers, store.Open());
    if (leftovers > 0) spdlog::info("removed {} leftover temporary checkpoint file(s)", leftovers);
  }
  RETURN_IF_ERROR(collective.Barrier());
  std::optional<fs::path> resume_from;
  if (options.resume) {
    ASSIGN_OR_RETURN(resume_from, FindResumeCheckpoint(store));
  }
  const bool torchvision = IsTorchvisionBackbone(options.backbone);
  RETURN_IF_ERROR(ValidateBackboneConfig({options.backbone, options.channels == 1 ? 1 : 3, options.width,
                                          options.depth, options.batch_norm}));
  if (options.freeze_backbone_epochs < 0 || !(options.backbone_lr_scale >= 0)) {
    return absl::InvalidArgumentError("--freeze-backbone-epochs and --backbone-lr-scale must be >= 0");
  }
  const nlohmann::json computation = ComputationOptions(options);

  // Data and labels.
  std::optional<ModelConfig> saved_config;
  std::optional<InitWeights> init;
  if (resume_from) {
    ASSIGN_OR_RETURN(ModelConfig c, ReadModelConfig(*resume_from));
    saved_config = c;
    ASSIGN_OR_RETURN(std::string saved_state, ReadCheckpointState(*resume_from));
    try {
      RETURN_IF_ERROR(CheckResumeOptions(nlohmann::json::parse(saved_state), computation, options.overrides));
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(resume_from->string(), ": bad trainer state: ", e.what()));
    }
  } else if (!options.init.empty()) {
    ASSIGN_OR_RETURN(InitWeights w, ReadInitWeights(options.init));
    init = std::move(w);
  }
  std::string normalize = options.normalize;
  if (normalize == "auto") normalize = init ? (init->atelier ? init->normalize : "imagenet") : "none";
  const bool keep_saved_size = saved_config && !options.overrides.count("image-size");
  const bool keep_saved_channels = saved_config && !options.overrides.count("channels");
  LoadOptions load;
  load.image_size = keep_saved_size ? saved_config->image_size : options.image_size;
  if (load.image_size == 0) {
    // No --image-size: the default, or the data's own size when smaller.
    constexpr int kDefaultImageSize = 64;
    ASSIGN_OR_RETURN(int side, SampledImageSide(options.data_root, 64));
    load.image_size = kDefaultImageSize;
    if (side >= 4 && side < kDefaultImageSize) {
      load.image_size = side;
      if (writer) {
        spdlog::info("--image-size not given: training at the data's own {} px (smaller than the default {})", side,
                     kDefaultImageSize);
      }
    }
  }
  shape.image_size = load.image_size;
  RETURN_IF_ERROR(CheckTrainShape(shape, 0));
  load.channels = keep_saved_channels ? saved_config->in_channels
                                      : (options.channels == 0 && torchvision ? 3 : options.channels);
  load.threads = options.decode_threads;
  load.label_fields = options.label_fields;
  ImageSet set;
  if (options.cache_dir.empty()) {
    ASSIGN_OR_RETURN(set, LoadDatasetRoot(options.data_root, load));
  } else {
    // Rank 0 builds (or refreshes) the cache; the other ranks map it after.
    if (!writer) RETURN_IF_ERROR(collective.Barrier());
    ASSIGN_OR_RETURN(set, LoadWithPackedCache(options.data_root, load, options.cache_dir));
    if (writer) RETURN_IF_ERROR(collective.Barrier());
  }
  if (set.read_report.skipped() > 0 || !set.read_report.bad_shards.empty()) {
    spdlog::warn("data: {}", set.read_report.Summary());
  }
  LabelSpace space;
  if (saved_config) {
    space = saved_config->labels;
  } else {
    ASSIGN_OR_RETURN(space, DiscoverLabelSpace(set.labels, options.heads));
  }
  const int nh = static_cast<int>(space.heads.size());
  int64_t unknown = 0;
  std::vector<int32_t> targets = BuildTargets(set, space, &unknown);

  ASSIGN_OR_RETURN(SplitPlan split_plan, SplitImageSet(set, space, targets, options.split));
  std::vector<int64_t> split_idx[3];
  for (int64_t i = 0; i < set.size(); ++i) split_idx[static_cast<int>(split_plan.of[i])].push_back(i);
  std::vector<int64_t>& train_idx = split_idx[0];
  const std::vector<int64_t>& val_idx = split_idx[1];
  const std::vector<int64_t>& test_idx = split_idx[2];
  if (writer && !split_plan.too_small.empty()) {
    spdlog::warn("{} class(es) of head '{}' have too few groups for a val/test share and are only in train: {}",
                 split_plan.too_small.size(),
                 options.split.stratify_head.empty() ? space.heads[0].name : options.split.stratify_head,
                 absl::StrJoin(split_plan.too_small, ", "));
  }
  for (const auto& [head, spec] : options.balance.per_head) {
    bool known = false;
    for (const auto& h : space.heads) known = known || h.name == head;
    if (!known) return absl::NotFoundError(absl::StrCat("--balance names head '", head, "', which is not a head"));
  }
  std::vector<int> caps(nh, 0);
  bool any_cap = false;
  for (int h = 0; h < nh; ++h) {
    const BalanceSpec& spec = options.balance.For(space.heads[h].name);
    if (spec.mode == BalanceSpec::kCap) caps[h] = spec.cap, any_cap = true;
  }
  if (any_cap) train_idx = CapPerClass(train_idx, targets, nh, caps, set.keys, options.seed);
  std::vector<double> head_weights;
  for (const auto& head : space.heads) {
    auto it = options.head_weights.find(head.name);
    head_weights.push_back(it == options.head_weights.end() ? 1.0 : it->second);
  }
  std::vector<torch::Tensor> class_weights(nh);
  for (int h = 0; h < nh; ++h) {
    if (options.balance.For(space.heads[h].name).mode != BalanceSpec::kWeighted) continue;
    std::vector<int64_t> counts(space.heads[h].classes.size(), 0);
    for (int64_t i : train_idx) {
      if (targets[i * nh + h] >= 0) ++counts[targets[i * nh + h]];
    }
    std::vector<double> w = InverseFrequencyWeights(counts);
    class_weights[h] = torch::tensor(std::vector<float>(w.begin(), w.end())).to(device);
  }
  // A train split smaller than one batch: the largest batch it fills (a
  // multiple of the world size).
  int batch_size = options.batch_size;
  if (static_cast<int64_t>(train_idx.size()) < batch_size) {
    const int lowered = static_cast<int>(train_idx.size()) / world * world;
    if (lowered == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the train split has ", train_idx.size(), " samples, fewer than the ", world,
          " rank(s): add data, lower --val-ratio/--test-ratio or raise the --balance cap"));
    }
    if (writer) {
      spdlog::warn("the train split has {} samples, fewer than one batch of {}: lowering --batch-size to {}",
                   train_idx.size(), batch_size, lowered);
    }
    batch_size = lowered;
  }
  const int local_batch = batch_size / world;
  const int64_t steps_per_epoch = static_cast<int64_t>(train_idx.size()) / batch_size;
  shape.in_channels = set.channels;
  shape.local_batch = local_batch;
  shape.classes = 0;
  for (const auto& h : space.heads) shape.classes += static_cast<int64_t>(h.classes.size());
  if (!saved_config) RETURN_IF_ERROR(CheckTrainShape(shape, memory_budget));
  if (writer) {
    spdlog::info("data: {} samples ({} train, {} val, {} test; {} groups), {} skipped, {} unknown labels; "
                 "{} channel(s) of {}x{}; heads: {}",
                 set.size(), train_idx.size(), val_idx.size(), test_idx.size(), split_plan.groups, set.read_report.skipped(),
                 unknown, set.channels, set.image_size, set.image_size, nh);
  }
  nlohmann::json split_record = {{"split", options.split.ToJson()},
                                 {"too_small", split_plan.too_small},
                                 {"groups", split_plan.groups},
                                 {"train", train_idx.size()},
                                 {"val", val_idx.size()},
                                 {"test", test_idx.size()}};
  RETURN_IF_ERROR(CheckRanksAgree(collective, Fingerprint(options, set, space, train_idx, batch_size,
                                                          resume_from ? resume_from->filename().string() : "none")));
  if (writer) RETURN_IF_ERROR(WriteFileAtomically(*options.env, options.out_dir / kSplitRecordFile, split_record.dump(2) + "\n"));

  // Model and optimizer.
  ModelConfig config;
  config.backbone = saved_config ? saved_config->backbone : options.backbone;
  config.normalize = saved_config ? saved_config->normalize : normalize;
  config.in_channels = set.channels;
  config.image_size = set.image_size;
  config.width = saved_config ? saved_config->width : options.width;
  config.depth = saved_config ? saved_config->depth : options.depth;
  config.dropout = saved_config ? saved_config->dropout : options.dropout;
  config.batch_norm = saved_config ? saved_config->batch_norm : options.batch_norm;
  config.labels = space;
  config.label_fields = dataset::LabelFieldsToString(options.label_fields);
  RETURN_IF_ERROR(ValidateModelConfig(config));
  // Initial weights from the seed; the lock keeps ranks that are threads of one
  // process (tests) from sharing the global generator while doing it.
  static absl::Mutex init_mu(absl::kConstInit);
  init_mu.Lock();
  torch::manual_seed(options.seed);
  Classifier model(config);
  init_mu.Unlock();
  if (init) {
    RETURN_IF_ERROR(ApplyInitWeights(*init, model));
    if (writer) spdlog::info("{} backbone initialised from {} (normalize: {})", config.backbone, init->path.string(),
                             config.normalize);
  }
  try {
    model->to(device);
    if (options.channels_last) ToChannelsLast(*model);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot move the model to ", device.str(), ": ", e.what()));
  }
  std::vector<torch::Tensor> params = model->parameters();
  AdamWOptions adam;
  adam.weight_decay = options.weight_decay;
  AdamW optimizer(params, adam);
  // Learning-rate scales of the parameters in an epoch: the heads always 1,
  // the backbone 0 while frozen, then --backbone-lr-scale.
  std::vector<bool> in_backbone(params.size(), false);
  {
    std::set<const void*> backbone_params;
    for (const auto& p : model->BackboneParameters()) backbone_params.insert(p.unsafeGetTensorImpl());
    for (size_t i = 0; i < params.size(); ++i) in_backbone[i] = backbone_params.count(params[i].unsafeGetTensorImpl()) > 0;
  }
  auto backbone_frozen = [&](int epoch) { return epoch < options.freeze_backbone_epochs; };
  auto set_lr_scales = [&](int epoch) {
    std::vector<double> scales(params.size(), 1.0);
    for (size_t i = 0; i < params.size(); ++i) {
      if (in_backbone[i]) scales[i] = backbone_frozen(epoch) ? 0.0 : options.backbone_lr_scale;
    }
    optimizer.set_lr_scales(std::move(scales));
  };
  LrSchedule schedule;
  schedule.base_lr = options.lr;
  schedule.min_lr = options.min_lr;
  schedule.warmup_steps = static_cast<int64_t>(options.warmup_epochs * steps_per_epoch);
  schedule.total_steps = steps_per_epoch * options.epochs;

  RunState state;
  state.acc = Accumulator(nh);
  state.options = computation;
  if (resume_from) {
    ASSIGN_OR_RETURN(std::string json, LoadCheckpoint(*resume_from, model, optimizer));
    ASSIGN_OR_RETURN(state, ParseRunState(json, options.seed, options.split));
    if (!writer) state.acc = Accumulator(nh);
    state.options = computation;  // overridden options are recorded with their new values
    if (writer) spdlog::info("resumed from {} (epoch {}, step {})", resume_from->string(), state.epoch, state.global_step);
  }
  {
    std::vector<torch::Tensor> all;
    for (auto& [name, t] : StateDict(*model)) all.push_back(t);
    RETURN_IF_ERROR(BroadcastTensors(collective, all, 0));
  }
  GradientSyncOptions sync_options;
  sync_options.bucket_bytes = options.bucket_bytes;
  sync_options.first_bucket_bytes = options.first_bucket_bytes;
  ASSIGN_OR_RETURN(std::unique_ptr<GradientSync> gradient_sync, GradientSync::Create(collective, params, sync_options));
  // Loss and accuracy sums of the steps since the last flush, kept on the
  // device so that a step never waits for the device to read them.
  const auto sum_options = torch::TensorOptions(torch::kFloat64).device(device);
  std::vector<torch::Tensor> device_loss_sum, device_correct;
  for (int h = 0; h < nh; ++h) {
    device_loss_sum.push_back(torch::zeros({}, sum_options));
    device_correct.push_back(torch::zeros({}, sum_options));
  }
  auto flush_device_sums = [&] {
    for (int h = 0; h < nh; ++h) {
      state.acc.loss_sum[h] += device_loss_sum[h].item<double>();
      state.acc.correct[h] += device_correct[h].item<double>();
      device_loss_sum[h].zero_();
      device_correct[h].zero_();
    }
  };
  std::vector<std::string> head_names;
  for (const auto& h : space.heads) head_names.push_back(h.name);
  MetricsLog log(options.out_dir, head_names);
  if (writer) RETURN_IF_ERROR(log.Rewrite(state.history));

  auto save_checkpoint = [&](bool is_best) -> absl::Status {
    RETURN_IF_ERROR(BroadcastBuffers(collective, *model));
    flush_device_sums();
    RETURN_IF_ERROR(Reduce(collective, state.acc));
    if (writer) {
      RETURN_IF_ERROR(SaveCheckpoint(store.PathFor(state.global_step), model, optimizer,
                                     state.ToJson(options.seed, options.split), *options.env));
      RETURN_IF_ERROR(store.Commit(state.global_step, is_best));
    }
    return collective.Barrier();
  };

  const AugmentOptions* augment = options.augment ? &options.augment_options : nullptr;
  TrainResult result;
  using Clock = std::chrono::steady_clock;
  for (; state.epoch < options.epochs; ++state.epoch) {
    const int epoch = state.epoch;
    std::vector<int64_t> order = train_idx;
    std::mt19937_64 shuffle_rng(MixSeed(options.seed, static_cast<uint64_t>(epoch), 0x5eed));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    auto make = [&](int64_t b) {
      auto begin = order.begin() + b * batch_size + int64_t{rank} * local_batch;
      std::vector<int64_t> indices(begin, begin + local_batch);
      return augment_on_device ? MakeDeviceBatch(set, targets, nh, indices, augment, options.seed, epoch,
                                                 device_context->pinned_batches())
                               : MakeBatch(set, targets, nh, indices, augment, options.seed, epoch);
    };
    Prefetcher prefetch(make, state.step_in_epoch, steps_per_epoch, 2);
    model->train();
    set_lr_scales(epoch);
    const bool train_backbone = !backbone_frozen(epoch);
    if (writer && state.step_in_epoch == 0 && options.freeze_backbone_epochs > 0 &&
        epoch == options.freeze_backbone_epochs) {
      spdlog::info("epoch {}: unfreezing the backbone (lr scale {})", epoch + 1, options.backbone_lr_scale);
    }
    // Progress: a bar redrawn every 250 ms, or a log line every 10 s.
    const auto show_every = options.progress_bar ? std::chrono::milliseconds(250) : std::chrono::milliseconds(10000);
    auto last_shown = Clock::now();
    while (state.step_in_epoch < steps_per_epoch) {
      auto step_start = Clock::now();
      std::optional<Batch> batch = prefetch.Next();
      if (!batch) break;
      double lr = schedule.At(state.global_step);
      try {
        torch::manual_seed(MixSeed(options.seed, static_cast<uint64_t>(state.global_step), static_cast<uint64_t>(rank)));
        optimizer.ZeroGrad();
        torch::Tensor x, y;
        if (augment_on_device) {
          std::vector<torch::Tensor> up = device_context->Upload({batch->raw, batch->theta, batch->targets});
          x = PrepareImages(up[0], up[1], options.channels_last);
          y = up[2];
        } else {
          std::vector<torch::Tensor> up = device_context->Upload({batch->images, batch->targets});
          x = options.channels_last ? up[0].contiguous(torch::MemoryFormat::ChannelsLast) : up[0];
          y = up[1];
        }
        // Labelled samples per head, counted on the host copy of the targets.
        std::vector<int64_t> labelled_count(nh, 0);
        {
          auto t = batch->targets.accessor<int64_t, 2>();
          for (int64_t b = 0; b < t.size(0); ++b) {
            for (int h = 0; h < nh; ++h) labelled_count[h] += t[b][h] >= 0 ? 1 : 0;
          }
        }
        torch::Tensor loss;
        {
          AutocastGuard autocast(device.type(), options.bf16);
          std::vector<torch::Tensor> logits = model->forward(x, train_backbone);
          loss = torch::zeros({}, torch::TensorOptions(torch::kFloat32).device(device));
          for (int h = 0; h < nh; ++h) {
            const int64_t k = labelled_count[h];
            if (k == 0) continue;
            torch::Tensor target = y.select(1, h).contiguous();
            torch::Tensor labelled = target.ge(0);
            auto ce = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1).label_smoothing(
                options.label_smoothing);
            if (class_weights[h].defined()) ce.weight(class_weights[h]);
            torch::Tensor l = torch::nn::functional::cross_entropy(logits[h], target, ce);
            loss = loss + head_weights[h] * l;
            torch::NoGradGuard no_grad;
            device_loss_sum[h].add_(l.detach().to(torch::kFloat64), static_cast<double>(k));
            device_correct[h].add_(logits[h].argmax(1).eq(target).logical_and(labelled).sum());
            state.acc.count[h] += static_cast<double>(k);
          }
        }
        loss.backward();
        RETURN_IF_ERROR(gradient_sync->Finish());
        // The averaged gradients are the same on every rank, so a non-finite
        // norm stops every rank at the same step, before the step is applied.
        const double grad_norm = torch::nn::utils::clip_grad_norm_(
            params, options.clip_norm > 0 ? options.clip_norm : std::numeric_limits<double>::infinity());
        if (!std::isfinite(grad_norm)) {
          std::optional<fs::path> last = store.Latest();
          return absl::FailedPreconditionError(absl::StrCat(
              "non-finite loss or gradients at step ", state.global_step + 1, " (epoch ", epoch + 1, ", loss ",
              loss.item<double>(), "); the step was not applied; last checkpoint: ", last ? last->string() : "none",
              "; lower --lr (now ", options.lr, ") or check the data"));
        }
        optimizer.Step(lr);
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("training step ", state.global_step, " failed: ", e.what()));
      }
      ++state.global_step;
      ++state.step_in_epoch;
      state.acc.images += static_cast<double>(local_batch);
      state.acc.seconds += std::chrono::duration<double>(Clock::now() - step_start).count();

      const bool last_step = state.step_in_epoch == steps_per_epoch;
      if (writer && (last_step || Clock::now() - last_shown > show_every)) {
        last_shown = Clock::now();
        // Reads the device sums (waits for the device) without flushing them:
        // flushes happen at fixed steps only, so that sums are the same in a
        // straight and in a resumed run.
        double loss_now = 0, acc_now = 0;
        for (int h = 0; h < nh; ++h) {
          if (state.acc.count[h] > 0) {
            const double loss_sum = state.acc.loss_sum[h] + device_loss_sum[h].item<double>();
            const double correct = state.acc.correct[h] + device_correct[h].item<double>();
            loss_now += head_weights[h] * loss_sum / state.acc.count[h];
            acc_now += correct / state.acc.count[h] / nh;
          }
        }
        double ips = state.acc.seconds > 0 ? state.acc.images * world / state.acc.seconds : 0;
        double eta = ips > 0 ? double((steps_per_epoch - state.step_in_epoch) * batch_size) / ips : 0;
        if (options.progress_bar) {
          int filled = static_cast<int>(30 * state.step_in_epoch / steps_per_epoch);
          std::fprintf(stderr, "\r[%s%s] epoch %d/%d step %lld/%lld loss %.4f acc %.3f %.0f img/s ETA %s ",
                       std::string(filled, '=').c_str(), std::string(30 - filled, ' ').c_str(), epoch + 1,
                       options.epochs, static_cast<long long>(state.step_in_epoch),
                       static_cast<long long>(steps_per_epoch), loss_now, acc_now, ips, FormatDuration(eta).c_str());
          std::fflush(stderr);
        } else {
          spdlog::info("epoch {}/{} step {}/{} loss {:.4f} acc {:.3f} {:.0f} img/s ETA {}", epoch + 1, options.epochs,
                       state.step_in_epoch, steps_per_epoch, loss_now, acc_now, ips, FormatDuration(eta));
        }
      }

      bool stop = stop_requested() || (options.stop_at_step >= 0 && state.global_step == options.stop_at_step);
      if (world > 1) {
        torch::Tensor flag = torch::full({1}, stop ? 1.0 : 0.0, torch::kFloat64);
        RETURN_IF_ERROR(collective.AllReduceSum(flag));
        stop = flag.item<double>() > 0;
      }
      if (stop) {
        if (writer && options.progress_bar) std::fprintf(stderr, "\n");
        RETURN_IF_ERROR(save_checkpoint(false));
        if (writer) spdlog::warn("stop requested: checkpoint at step {} written; exiting with code {}",
                                 state.global_step, kExitCheckpointedOnSignal);
        result.exit_code = kExitCheckpointedOnSignal;
        result.epochs_done = state.epoch;
        result.global_step = state.global_step;
        result.samples_skipped = set.read_report.skipped();
        return result;
      }
      if (options.checkpoint_every_steps > 0 && state.global_step % options.checkpoint_every_steps == 0 &&
          state.step_in_epoch < steps_per_epoch) {
        RETURN_IF_ERROR(save_checkpoint(false));
      }
    }
    if (writer && options.progress_bar) std::fprintf(stderr, "\n");

    // End of epoch: reduce, validate, log, checkpoint.
    flush_device_sums();
    RETURN_IF_ERROR(Reduce(collective, state.acc));
    EpochRecord record;
    record.epoch = epoch + 1;
    record.step = state.global_step;
    record.lr = schedule.At(state.global_step - 1);
    record.seconds = state.acc.seconds;
    record.images_per_s = state.acc.seconds > 0 ? state.acc.images / state.acc.seconds : 0;
    for (int h = 0; h < nh; ++h) {
      HeadEpochMetrics m;
      if (state.acc.count[h] > 0) {
        m.loss = state.acc.loss_sum[h] / state.acc.count[h];
        m.accuracy = state.acc.correct[h] / state.acc.count[h];
      }
      record.train_loss += head_weights[h] * m.loss;
      record.train[space.heads[h].name] = m;
    }
    double metric = -record.train_loss;
    if (!val_idx.empty()) {
      RETURN_IF_ERROR(BroadcastBuffers(collective, *model));
      ASSIGN_OR_RETURN(EvalResult val, Evaluate(model, set, targets, val_idx, head_weights, 256, &collective));
      record.has_val = true;
      record.val_loss = val.total_loss;
      metric = 0;
      for (int h = 0; h < nh; ++h) {
        record.val[space.heads[h].name] = {val.loss[h], val.confusion[h].Accuracy()};
        metric += val.confusion[h].Accuracy() / nh;
      }
    }
    bool is_best = !state.has_best || metric > state.best_metric;
    if (is_best) {
      state.best_metric = metric;
      state.has_best = true;
    }
    state.history.push_back(record);
    if (writer) {
      RETURN_IF_ERROR(log.Append(record));
      std::string val_text = record.has_val ? absl::StrFormat(" val_loss %.4f val_metric %.4f", record.val_loss, metric) : "";
      spdlog::info("epoch {} done: train_loss {:.4f}{} {:.0f} img/s", record.epoch, record.train_loss, val_text,
                   record.images_per_s);
    }
    state.acc = Accumulator(nh);
    state.step_in_epoch = 0;
    ++state.epoch;
    absl::Status saved = save_checkpoint(is_best);
    --state.epoch;  // the for loop increments it
    RETURN_IF_ERROR(saved);
    if (writer && options.on_epoch_end) {
      options.on_epoch_end(record, steps_per_epoch * options.epochs, store.PathFor(state.global_step));
    }
  }

  // Final evaluation, model.pt, report.
  const std::vector<int64_t>& eval_idx = !test_idx.empty() ? test_idx : !val_idx.empty() ? val_idx : train_idx;
  const char* eval_split = !test_idx.empty() ? "test" : !val_idx.empty() ? "val" : "train";
  ASSIGN_OR_RETURN(EvalResult final_eval, Evaluate(model, set, targets, eval_idx, head_weights, 256, &collective));
  if (writer) {
    RETURN_IF_ERROR(SaveModelFile(options.out_dir / "model.pt", model, *options.env));
    ReportData report;
    report.title = absl::StrCat("atelier training report: ", options.out_dir.filename().string());
    report.eval_split = eval_split;
    report.history = state.history;
    for (int h = 0; h < nh; ++h) report.heads.push_back({space.heads[h].name, space.heads[h].classes, final_eval.confusion[h], {}});
    std::vector<int> shown(space.heads[0].classes.size(), 0);
    int wrong_shown = 0;
    for (const Prediction& p : final_eval.predictions) {
      std::string truth, guess;
      bool wrong = false;
      for (int h = 0; h < nh; ++h) {
        int t = targets[p.index * nh + h];
        if (t >= 0 && t != p.predicted[h]) wrong = true;
        absl::StrAppend(&truth, h ? ", " : "", space.heads[h].name, ": ", t >= 0 ? space.heads[h].classes[t] : "?");
        absl::StrAppend(&guess, h ? ", " : "", space.heads[h].classes[p.predicted[h]]);
      }
      int t0 = targets[p.index * nh];
      bool take = wrong ? wrong_shown < 24 : (t0 >= 0 && shown[t0] < options.gallery_per_class);
      if (!take) continue;
      if (wrong) ++wrong_shown; else ++shown[t0];
      const uint8_t* px = set.image(p.index);
      report.gallery.push_back({std::vector<uint8_t>(px, px + set.image_bytes()), set.image_size, set.channels,
                                absl::StrCat(set.keys[p.index], " — ", truth, " → predicted ", guess), wrong});
    }
    RETURN_IF_ERROR(AddEmbeddingSections(model, set, targets, eval_idx, EmbeddingReportOptions{}, &report));
    ASSIGN_OR_RETURN(std::string html, RenderReport(report));
    RETURN_IF_ERROR(WriteFileAtomically(*options.env, options.out_dir / "report.html", html));
    nlohmann::json summary = {{"samples", set.size()},
                              {"train", train_idx.size()},
                              {"val", val_idx.size()},
                              {"test", test_idx.size()},
                              {"skipped", set.read_report.skipped()},
                              {"skipped_by_reason", set.read_report.skipped_by_reason},
                              {"skip_examples", set.read_report.examples},
                              {"bad_shards", set.read_report.bad_shards},
                              {"unknown_labels", unknown},
                              {"channels", set.channels},
                              {"image_size", set.image_size},
                              {"epochs", state.epoch},
                              {"global_step", state.global_step},
                              {"eval_split", eval_split},
                              {"batch_size", batch_size},
                              {"split", split_record}};
    for (int h = 0; h < nh; ++h) {
      summary["eval"][space.heads[h].name] = final_eval.confusion[h].ToJson(space.heads[h].classes);
    }
    RETURN_IF_ERROR(WriteFileAtomically(*options.env, options.out_dir / "summary.json", summary.dump(2) + "\n"));
    for (int h = 0; h < nh; ++h) {
      spdlog::info("{} accuracy on {} ({} samples): {:.4f}", space.heads[h].name, eval_split,
                   final_eval.confusion[h].Total(), final_eval.confusion[h].Accuracy());
    }
  }
  RETURN_IF_ERROR(collective.Barrier());
  result.epochs_done = state.epoch;
  result.global_step = state.global_step;
  result.samples_skipped = set.read_report.skipped();
  return result;
}

}  // namespace atelier::trainer
