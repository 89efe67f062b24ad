// atelier-trainer: `train`, `import`, `predict` and `evaluate` (run directly or
// as `atelier train|import|predict|evaluate ...`). See docs/trainer.md.
//
// Exit codes: 0 success; 1 error (message on stderr); 2 bad command line;
// 75 (kExitCheckpointedOnSignal) training stopped by SIGTERM/SIGUSR1 after
// writing a checkpoint (rerun with --resume).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "atelier/common/command_line.h"
#include "atelier/common/free_port.h"
#include "atelier/common/logging.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/coordinator_link.h"
#include "atelier/trainer/gpu/device_option.h"
#include "atelier/trainer/device_context.h"
#include "atelier/trainer/gloo_collective.h"
#if defined(ATELIER_WITH_CUDA)
#include "atelier/trainer/cuda/nccl_collective.h"
#endif
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/importer.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/launcher_env.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/predict_command.h"
#include "atelier/trainer/torch_file.h"
#include "atelier/trainer/shape_check.h"
#include "atelier/trainer/split.h"
#include "atelier/trainer/trainer.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace atelier::trainer {
namespace {

static_assert(kExitCheckpointedOnSignal == kExitStoppedOnSignal, "the exit code every atelier command uses for a signal");

// Set by SIGTERM/SIGUSR1; Train() reads it as its stop token.
std::atomic<bool> g_stop_requested{false};

void OnStopSignal(int) { g_stop_requested.store(true); }

// Installed first thing in `train`, before the rendezvous and the data load.
void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "atelier-trainer: %s\n", status.ToString().c_str());
  return 1;
}

int RunImport(const std::string& kind, const std::string& dir, const std::string& images, const std::string& labels,
              const std::vector<std::string>& class_names, const std::string& key_prefix, ImportOptions options) {
  absl::StatusOr<ImportResult> result = kind == "folder"
                                            ? ImportFolder(dir, options)
                                            : ImportIdx(images, labels, class_names, key_prefix, options);
  if (!result.ok()) return Fail(result.status());
  std::printf("imported %lld samples into %d shard(s) under %s (%lld skipped); head '%s' with %zu classes\n",
              static_cast<long long>(result->imported), result->shards, options.data_root.c_str(),
              static_cast<long long>(result->skipped), options.head.c_str(), result->classes.size());
  return 0;
}

struct CoordinatorOptions {
  std::string address;  // empty: no coordinator
  std::string run;
  int world_size = 0;   // > 0: rendezvous through the coordinator
};

// The rank: from launcher variables, or from the coordinator's rendezvous when
// there are none and --world-size asks for several ranks.
absl::StatusOr<LaunchInfo> ResolveLaunch(const CoordinatorOptions& link_options, CoordinatorLink* link,
                                         int connect_timeout_s) {
  ASSIGN_OR_RETURN(LaunchInfo launch, LaunchInfoFromEnv(ProcessEnvironment()));
  if (launch.launcher != "single" || link == nullptr || link_options.world_size <= 1) return launch;
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  ASSIGN_OR_RETURN(int store_port, PickFreePort());
  const std::string member = absl::StrCat(host, "-", getpid());
  ASSIGN_OR_RETURN(Rendezvous r, link->Join(link_options.run, link_options.world_size, host, store_port, member,
                                            connect_timeout_s));
  launch.rank = r.rank;
  launch.world_size = r.world_size;
  launch.master_addr = r.master_addr;
  launch.master_port = r.master_port;
  launch.launcher = "coordinator";
  return launch;
}

int RunTrain(TrainOptions options, const std::string& balance, const std::string& memory_budget,
             int connect_timeout_s, int collective_timeout_s, const CoordinatorOptions& link_options,
             const std::string& device) {
  InstallStopHandlers();
  options.stop = &g_stop_requested;
  auto parsed = ParseBalance(balance);
  if (!parsed.ok()) return Fail(parsed.status());
  options.balance = *parsed;
  if (!memory_budget.empty()) {
    auto budget = ParseByteSize(memory_budget);
    if (!budget.ok()) return Fail(budget.status());
    options.memory_budget = *budget;
  }
  auto choice = gpu::ParseDeviceOption(device);
  if (!choice.ok()) return Fail(choice.status());
  std::unique_ptr<CoordinatorLink> link;
  if (!link_options.address.empty()) link = CoordinatorLink::Connect(link_options.address);
  auto launch = ResolveLaunch(link_options, link.get(), connect_timeout_s);
  if (!launch.ok()) return Fail(launch.status());
  // A CPU build sees no GPU: "auto" resolves to the CPU and "cuda" is refused
  // with the resolver's message (plus how to get a CUDA build).
  const int visible_gpus = BuiltWithCuda() ? static_cast<int>(torch::cuda::device_count()) : 0;
  auto resolved = gpu::ResolveDevice(*choice, visible_gpus, launch->local_rank);
  if (!resolved.ok()) {
    if (!BuiltWithCuda() && choice->kind == gpu::DeviceKind::kCuda) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          resolved.status().message(), " (this atelier was built without CUDA: -DATELIER_CUDA=ON, docs/gpu.md)")));
    }
    return Fail(resolved.status());
  }
  options.device = resolved->ToString();
  if (launch->world_size > 1) {
    spdlog::info("rank {} of {} ({}), rendezvous {}:{}", launch->rank, launch->world_size, launch->launcher,
                 launch->master_addr, launch->master_port);
  }
  ReportContext report{link_options.run, launch->rank, launch->world_size, options.epochs, 0, ""};
  EpochRecord last;
  if (link) {
    options.on_epoch_end = [&](const EpochRecord& record, int64_t steps_total, const std::filesystem::path& ckpt) {
      report.steps_total = steps_total;
      std::error_code ec;
      auto relative = std::filesystem::relative(ckpt, options.data_root, ec);
      report.last_checkpoint = ec ? ckpt.string() : relative.string();
      last = record;
      if (link->ReportEpoch(report, record, /*done=*/false)) {
        spdlog::warn("the coordinator asked run '{}' to stop", report.run);
        g_stop_requested.store(true);
      }
    };
  }
  absl::StatusOr<std::unique_ptr<Collective>> collective;
#if defined(ATELIER_WITH_CUDA)
  if (resolved->cuda && launch->world_size > 1) {
    // NcclCommunicator::Create makes the device current before joining.
    collective = ConnectNccl(*launch, resolved->index, std::chrono::seconds(connect_timeout_s));
  } else {
    collective = ConnectGloo(*launch, std::chrono::seconds(connect_timeout_s), std::chrono::seconds(collective_timeout_s));
  }
#else
  collective = ConnectGloo(*launch, std::chrono::seconds(connect_timeout_s), std::chrono::seconds(collective_timeout_s));
#endif
  if (!collective.ok()) return Fail(collective.status());
  auto result = Train(options, **collective);
  if (!result.ok()) return Fail(result.status());
  if (link && launch->rank == 0 && result->exit_code == 0 && last.epoch > 0) {
    link->ReportEpoch(report, last, /*done=*/true);
  }
  return result->exit_code;
}

// The split `evaluate` selects: the run's own (RUN/split.json) with the
// options given on the command line replacing its values.
struct EvaluateSplitFlags {
  std::optional<double> val_ratio, test_ratio;
  std::optional<uint64_t> seed;
  std::optional<std::string> group_by, stratify_head;
};

absl::StatusOr<SplitOptions> EvaluateSplit(const std::string& checkpoint, const EvaluateSplitFlags& flags) {
  SplitOptions options;
  auto recorded = FindRunSplit(checkpoint);
  if (recorded.ok()) {
    options = *recorded;
  } else if (absl::IsNotFound(recorded.status())) {
    spdlog::warn("{}; using the split options given (defaults for the others)", std::string(recorded.status().message()));
  } else {
    return recorded.status();
  }
  if (flags.val_ratio) options.val_ratio = *flags.val_ratio;
  if (flags.test_ratio) options.test_ratio = *flags.test_ratio;
  if (flags.seed) options.seed = *flags.seed;
  if (flags.group_by) options.group_by = *flags.group_by;
  if (flags.stratify_head) options.stratify_head = *flags.stratify_head;
  RETURN_IF_ERROR(ValidateSplitOptions(options));
  return options;
}

int RunEvaluate(const std::string& checkpoint, const std::string& data, const std::string& folder,
                const std::string& head, const std::string& split, const EvaluateSplitFlags& split_flags, bool json,
                int threads, const std::vector<dataset::LabelField>& label_fields) {
  if (data.empty() == folder.empty()) return Fail(absl::InvalidArgumentError("give exactly one of --data or --folder"));
  SplitOptions split_options;
  if (split != "all") {
    auto chosen = EvaluateSplit(checkpoint, split_flags);
    if (!chosen.ok()) return Fail(chosen.status());
    split_options = *chosen;
  }
  auto model = LoadModelFile(checkpoint);
  if (!model.ok()) return Fail(model.status());
  const ModelConfig& config = (*model)->config;
  LoadOptions load;
  load.image_size = config.image_size;
  load.channels = config.in_channels;
  load.threads = threads;
  load.label_fields = label_fields;
  std::string folder_head = head.empty() ? config.labels.heads[0].name : head;
  auto set = data.empty() ? LoadFolder(folder, folder_head, load) : LoadDatasetRoot(data, load);
  if (!set.ok()) return Fail(set.status());
  int64_t unknown = 0;
  std::vector<int32_t> targets = BuildTargets(*set, config.labels, &unknown);
  std::vector<int64_t> indices;
  std::optional<SplitPlan> plan;
  if (split != "all") {
    auto planned = SplitImageSet(*set, config.labels, targets, split_options);
    if (!planned.ok()) return Fail(planned.status());
    plan = std::move(*planned);
  }
  for (int64_t i = 0; i < set->size(); ++i) {
    if (!plan || SplitName(plan->of[i]) == split) indices.push_back(i);
  }
  auto result = Evaluate(*model, *set, targets, indices, {}, 256, nullptr);
  if (!result.ok()) return Fail(result.status());
  nlohmann::json out = {{"samples", indices.size()},
                        {"skipped", set->read_report.skipped()},
                        {"skipped_by_reason", set->read_report.skipped_by_reason},
                        {"bad_shards", set->read_report.bad_shards},
                        {"unknown_labels", unknown},
                        {"split", split}};
  if (plan) out["split_options"] = split_options.ToJson();
  for (size_t h = 0; h < config.labels.heads.size(); ++h) {
    const auto& hc = config.labels.heads[h];
    out["heads"][hc.name] = result->confusion[h].ToJson(hc.classes);
    out["heads"][hc.name]["loss"] = result->loss[h];
  }
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%lld samples (%lld labels of unknown classes); data: %s\n", static_cast<long long>(indices.size()),
              static_cast<long long>(unknown), set->read_report.Summary().c_str());
  for (size_t h = 0; h < config.labels.heads.size(); ++h) {
    const auto& hc = config.labels.heads[h];
    const Confusion& c = result->confusion[h];
    std::printf("\n%s: accuracy %.4f on %lld labelled samples\n", hc.name.c_str(), c.Accuracy(),
                static_cast<long long>(c.Total()));
    std::printf("  %-20s %9s %9s %9s\n", "class", "precision", "recall", "support");
    for (size_t k = 0; k < hc.classes.size(); ++k) {
      int64_t support = 0;
      for (int64_t v : c.counts[k]) support += v;
      std::printf("  %-20s %9.4f %9.4f %9lld\n", hc.classes[k].c_str(), c.Precision(int(k)), c.Recall(int(k)),
                  static_cast<long long>(support));
    }
    std::printf("  confusion (rows: true, columns: predicted, in class order):\n");
    for (const auto& row : c.counts) {
      std::string line = "   ";
      for (int64_t v : row) absl::StrAppend(&line, " ", v);
      std::printf("%s\n", line.c_str());
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"atelier trainer commands: import, train, predict, evaluate"};
  Conventions(app, "");
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");

  // import
  auto* import = app.add_subcommand("import", "turn an image folder or IDX files into shards");
  import->require_subcommand(1);
  ImportOptions import_options;
  std::string import_dir, idx_images, idx_labels, key_prefix = "idx", data_root;
  std::vector<std::string> class_names;
  auto* folder_cmd = import->add_subcommand("folder", "DIR/<class>/<images>");
  folder_cmd->add_option("dir", import_dir, "folder of class subfolders")->required();
  auto* idx_cmd = import->add_subcommand("idx", "IDX images + labels (MNIST family; .gz allowed)");
  idx_cmd->add_option("--images", idx_images, "IDX image file")->required();
  idx_cmd->add_option("--labels", idx_labels, "IDX label file")->required();
  idx_cmd->add_option("--class-names", class_names, "class names by label value (comma-separated)")->delimiter(',');
  idx_cmd->add_option("--key-prefix", key_prefix, "sample keys are PREFIX-NNNNNN");
  idx_cmd->add_option("--limit", import_options.limit, "import only the first N images (0: all)");
  for (auto* cmd : {folder_cmd, idx_cmd}) {
    cmd->add_option("--head", import_options.head, "label (head) name")->required();
    cmd->add_option("--data", data_root, "dataset root to write shards into")->required();
    cmd->add_option("--shard-size", import_options.samples_per_shard, "samples per shard");
  }

  // train
  auto* train = app.add_subcommand("train", "train a multi-head classifier on a dataset root");
  TrainOptions t;
  std::string data, out, balance = "none", heads_text, weights_text;
  bool no_augment = false, no_crop = false, no_flip = false, no_rotate = false, no_bn = false, progress = false,
       plain = false;
  int connect_timeout = 300;
  std::string coordinator, run_name, device = "auto";
  int coordinator_world = 0;
  train->add_option("--data", data, "dataset root, folder of WebDataset .tar files, or one .tar")->required();
  std::string label_fields_text;
  const char* kLabelFieldHelp = "labels from HEAD=SOURCE,...: SOURCE .EXT is a member (.cls, .txt), else a dotted "
                                "JSON path (e.g. style, labels.media); default: the JSON's \"labels\" and .cls";
  train->add_option("--label-field", label_fields_text, kLabelFieldHelp);
  train->add_option("--out", out, "run directory")->required();
  train->add_option("--heads", heads_text, "comma-separated heads (default: every label key)");
  train->add_option("--head-weights", weights_text, "loss weights, e.g. media=1,emotion=0.5");
  train->add_option("--image-size", t.image_size,
                    "training resolution (square; default 64, or the data's own size when smaller)");
  train->add_option("--channels", t.channels, "0 = auto (1 if all images are grey), 1 or 3");
  train->add_option("--backbone", t.backbone, "small-cnn | resnet18 | resnet34 | resnet50 | mobilenet_v3_small "
                    "(torchvision's names and layout)")
      ->capture_default_str();
  train->add_option("--init", t.init, "initial backbone weights: a torchvision state_dict .pth "
                    "(torch.save(model.state_dict())) or an atelier model.pt/checkpoint; new heads");
  train->add_option("--normalize", t.normalize, "auto | none | imagenet (auto: imagenet with a torchvision --init)")
      ->check(CLI::IsMember({"auto", "none", "imagenet"}))
      ->capture_default_str();
  train->add_option("--freeze-backbone-epochs", t.freeze_backbone_epochs,
                    "train only the heads for the first N epochs")
      ->capture_default_str();
  train->add_option("--backbone-lr-scale", t.backbone_lr_scale,
                    "the backbone's learning rate relative to --lr (after any frozen epochs)")
      ->capture_default_str();
  std::vector<std::string> overrides;
  train->add_option("--override", overrides, "with --resume: accept a changed recorded option (e.g. epochs)")
      ->delimiter(',');
  train->add_option("--width", t.width, "channels of the first stage");
  train->add_option("--depth", t.depth, "number of stages");
  train->add_option("--dropout", t.dropout, "dropout before the heads");
  train->add_flag("--no-batch-norm", no_bn, "no batch norm layers");
  train->add_option("--epochs", t.epochs);
  train->add_option("--batch-size", t.batch_size, "global batch size (all ranks)");
  train->add_option("--lr", t.lr, "peak learning rate (a finite number > 0)");
  std::string memory_budget;
  train->add_option("--memory-budget", memory_budget,
                    "refuse models whose estimated training memory exceeds this (bytes, or 512M, 8G; "
                    "default: half the physical memory)");
  train->add_option("--min-lr", t.min_lr, "final learning rate of the cosine decay");
  train->add_option("--warmup-epochs", t.warmup_epochs, "linear warm-up length in epochs");
  train->add_option("--weight-decay", t.weight_decay, "AdamW weight decay");
  train->add_option("--label-smoothing", t.label_smoothing);
  train->add_option("--clip-norm", t.clip_norm, "gradient norm clipping (0 = off)");
  train->add_option("--val-ratio", t.split.val_ratio);
  train->add_option("--test-ratio", t.split.test_ratio);
  std::optional<uint64_t> split_seed;
  train->add_option("--split-seed", split_seed, "seed of the train/val/test split (default: --seed)");
  train->add_option("--group-by", t.split.group_by,
                    "sample JSON field whose value keeps samples on one side of the split "
                    "(default: Met object, BAM project_id)");
  train->add_option("--stratify-head", t.split.stratify_head, "head the split is stratified on (default: the first)");
  train->add_option("--balance", balance, "none | cap:N | weighted, for every head; or HEAD=SPEC,... per head");
  train->add_flag("--no-augment", no_augment, "no augmentation at all");
  train->add_flag("--no-crop", no_crop, "no random resized crop");
  train->add_flag("--no-flip", no_flip, "no horizontal flip");
  train->add_flag("--no-rotate", no_rotate, "no rotation");
  train->add_option("--min-crop-area", t.augment_options.min_crop_area);
  train->add_option("--max-rotation", t.augment_options.max_rotation_deg, "degrees");
  train->add_option("--threads", t.threads, "LibTorch threads (0 = default)");
  train->add_option("--decode-threads", t.decode_threads);
  train->add_option("--cache", t.cache_dir,
                    "folder for a packed cache of the decoded images: built once, memory-mapped by later runs");
  train->add_option("--seed", t.seed);
  train->add_option("--keep", t.keep_last, "checkpoints to keep (plus the best)");
  train->add_flag("--resume", t.resume, "continue from RUN/checkpoints/latest if present");
  train->add_option("--checkpoint-every", t.checkpoint_every_steps, "also checkpoint every N steps (0 = off)");
  int bucket_mb = 25;
  train->add_option("--bucket-mb", bucket_mb, "gradient allreduce bucket size in MiB")->check(CLI::Range(1, 4096));
  train->add_option("--stop-at-step", t.stop_at_step, "(testing) act as if SIGTERM arrived after this step");
  train->add_flag("--progress", progress, "force the progress bar");
  train->add_flag("--plain", plain, "force plain log lines");
  train->add_option("--connect-timeout", connect_timeout, "seconds to wait for the other ranks at the rendezvous");
  int collective_timeout = 120;
  train->add_option("--collective-timeout", collective_timeout,
                    "seconds one collective may wait for a rank that stopped answering (Gloo)")
      ->check(CLI::Range(1, 86400));
  train->add_option("--coordinator", coordinator, "report metrics to this coordinator (HOST:PORT); with --world-size "
                    "and no launcher variables, also get the rank from its rendezvous");
  train->add_option("--run", run_name, "run name shown in `atelier status` (default: the --out directory's name)");
  train->add_option("--world-size", coordinator_world, "ranks to rendezvous through --coordinator (no launcher)");
  train->add_option("--device", device,
                    BuiltWithCuda() ? "cpu | auto | cuda | cuda:N (cuda: the GPU LOCAL_RANK picks; NCCL between ranks)"
                                    : "cpu | auto | cuda | cuda:N (this build: CPU; cuda needs -DATELIER_CUDA=ON)")
      ->capture_default_str();
  std::string precision = "fp32", augment_on = "auto";
  train->add_option("--precision", precision, "fp32 | bf16 (autocast; weights and optimizer stay fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  train->add_flag("--channels-last", t.channels_last, "channels-last memory order (faster convolutions on GPUs)");
  train->add_option("--augment-on", augment_on, "auto | host | device: where images are converted and augmented "
                    "(auto: on the device when it is a GPU)")
      ->check(CLI::IsMember({"auto", "host", "device"}))
      ->capture_default_str();

  // predict (predict_command.cc)
  PredictFlags predict_flags;
  auto* predict = AddPredictCommand(app, &predict_flags);
  std::string checkpoint;
  bool json = false;

  // evaluate
  auto* evaluate = app.add_subcommand("evaluate", "accuracy, confusion matrices and per-class figures");
  std::string eval_data, eval_folder, eval_head, split = "all";
  EvaluateSplitFlags split_flags;
  int eval_threads = 2;
  evaluate->add_option("--checkpoint", checkpoint, "model.pt, checkpoint file or run directory")->required();
  evaluate->add_option("--data", eval_data, "dataset root, folder of WebDataset .tar files, or one .tar");
  evaluate->add_option("--label-field", label_fields_text, kLabelFieldHelp);
  evaluate->add_option("--folder", eval_folder, "folder of class subfolders");
  evaluate->add_option("--head", eval_head, "head the --folder classes belong to (default: the first)");
  evaluate->add_option("--split", split, "all | train | val | test (the run's own split, from RUN/split.json)")
      ->check(CLI::IsMember({"all", "train", "val", "test"}));
  evaluate->add_option("--val-ratio", split_flags.val_ratio, "replace the run's split option");
  evaluate->add_option("--test-ratio", split_flags.test_ratio, "replace the run's split option");
  evaluate->add_option("--split-seed,--seed", split_flags.seed, "replace the run's split seed");
  evaluate->add_option("--group-by", split_flags.group_by, "replace the run's split option");
  evaluate->add_option("--stratify-head", split_flags.stratify_head, "replace the run's split option");
  evaluate->add_flag("--json", json);
  evaluate->add_option("--decode-threads", eval_threads);

  if (auto exit = Parse(app, argc, argv, {.require_descriptions = false})) return *exit;
  if (absl::Status s = InitLogging("trainer", log_level); !s.ok()) {
    std::cerr << "atelier: --log-level: " << s.message() << "\n";
    return kUsageError;
  }
  std::vector<dataset::LabelField> label_fields;
  if (!label_fields_text.empty()) {
    auto parsed = dataset::ParseLabelFields(label_fields_text);
    if (!parsed.ok()) return Fail(parsed.status());
    label_fields = *std::move(parsed);
  }
  try {
    if (import->parsed()) {
      import_options.data_root = data_root;
      return RunImport(folder_cmd->parsed() ? "folder" : "idx", import_dir, idx_images, idx_labels, class_names,
                       key_prefix, import_options);
    }
    if (train->parsed()) {
      t.data_root = data;
      t.label_fields = label_fields;
      t.split.seed = split_seed.value_or(t.seed);
      t.out_dir = out;
      t.batch_norm = !no_bn;
      t.bucket_bytes = int64_t{bucket_mb} << 20;
      t.overrides.insert(overrides.begin(), overrides.end());
      t.bf16 = precision == "bf16";
      if (augment_on != "auto") t.augment_on_device = augment_on == "device";
      t.augment = !no_augment;
      t.augment_options.crop = !no_crop;
      t.augment_options.hflip = !no_flip;
      t.augment_options.rotate = !no_rotate;
      t.progress_bar = progress || (!plain && isatty(STDERR_FILENO));
      if (!heads_text.empty()) t.heads = absl::StrSplit(heads_text, ',', absl::SkipEmpty());
      for (absl::string_view item : absl::StrSplit(weights_text, ',', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
        double w = 0;
        if (!absl::SimpleAtod(kv.second, &w)) {
          return Fail(absl::InvalidArgumentError(absl::StrCat("--head-weights: bad entry '", item, "'")));
        }
        t.head_weights[kv.first] = w;
      }
      std::error_code ec;
      std::filesystem::create_directories(t.out_dir, ec);
      CoordinatorOptions link{coordinator, run_name.empty() ? t.out_dir.filename().string() : run_name,
                              coordinator_world};
      return RunTrain(t, balance, memory_budget, connect_timeout, collective_timeout, link, device);
    }
    if (predict->parsed()) return RunPredictCommand(predict_flags);
    if (evaluate->parsed()) {
      return RunEvaluate(checkpoint, eval_data, eval_folder, eval_head, split, split_flags, json, eval_threads,
                         label_fields);
    }
  } catch (const std::exception& e) {
    return Fail(absl::InternalError(TorchErrorMessage(e)));
  }
  return kUsageError;
}

}  // namespace
}  // namespace atelier::trainer

int main(int argc, char** argv) { return atelier::trainer::Main(argc, argv); }
