#include "atelier/trainer/train_command.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/common/free_port.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/coordinator_link.h"
#include "atelier/trainer/device_context.h"
#include "atelier/trainer/gloo_collective.h"
#include "atelier/trainer/gpu/device_option.h"
#if defined(ATELIER_WITH_CUDA)
#include "atelier/trainer/cuda/nccl_collective.h"
#endif
#include "atelier/trainer/launcher_env.h"
#include "atelier/trainer/shape_check.h"
#include "spdlog/spdlog.h"

namespace atelier::trainer {
namespace {

struct CoordinatorOptions {
  std::string address;  // empty: no coordinator
  std::string run;
  int world_size = 0;   // > 0: rendezvous through the coordinator
};

// The rank: from launcher variables, or from the coordinator's rendezvous when
// there are none and --world-size asks for several ranks. The TCPStore port a
// member offers is picked free before the rendezvous, as launchers do
// (torchrun's MASTER_PORT): LibTorch 1.13's TCPStore cannot adopt a socket
// that is already bound, and only the rendezvous tells which member serves it.
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

// The flags that are not TrainOptions fields as such, folded into them.
absl::Status ApplyFlags(TrainFlags& flags) {
  TrainOptions& t = flags.options;
  t.data_root = flags.data;
  if (!flags.label_fields.empty()) {
    ASSIGN_OR_RETURN(t.label_fields, dataset::ParseLabelFields(flags.label_fields));
  }
  t.split.seed = flags.split_seed.value_or(t.seed);
  t.out_dir = flags.out;
  t.batch_norm = !flags.no_batch_norm;
  t.bucket_bytes = int64_t{flags.bucket_mb} << 20;
  t.overrides.insert(flags.overrides.begin(), flags.overrides.end());
  t.bf16 = flags.precision == "bf16";
  if (flags.augment_on != "auto") t.augment_on_device = flags.augment_on == "device";
  t.augment = !flags.no_augment;
  t.augment_options.crop = !flags.no_crop;
  t.augment_options.hflip = !flags.no_flip;
  t.augment_options.rotate = !flags.no_rotate;
  t.progress_bar = flags.progress || (!flags.plain && isatty(STDERR_FILENO));
  if (!flags.heads.empty()) t.heads = absl::StrSplit(flags.heads, ',', absl::SkipEmpty());
  for (absl::string_view item : absl::StrSplit(flags.head_weights, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    double w = 0;
    if (!absl::SimpleAtod(kv.second, &w)) {
      return absl::InvalidArgumentError(absl::StrCat("--head-weights: bad entry '", item, "'"));
    }
    t.head_weights[kv.first] = w;
  }
  ASSIGN_OR_RETURN(t.balance, ParseBalance(flags.balance));
  if (!flags.memory_budget.empty()) {
    ASSIGN_OR_RETURN(t.memory_budget, ParseByteSize(flags.memory_budget));
  }
  return absl::OkStatus();
}

}  // namespace

CLI::App* AddTrainCommand(CLI::App& app, TrainFlags* flags) {
  TrainOptions& t = flags->options;
  auto* train = app.add_subcommand("train", "train a multi-head classifier on a dataset root");
  train->add_option("--data", flags->data, "dataset root, folder of WebDataset .tar files, or one .tar")->required();
  train->add_option("--label-field", flags->label_fields, kLabelFieldHelp);
  train->add_option("--out", flags->out, "run directory")->required();
  train->add_option("--heads", flags->heads, "comma-separated heads (default: every label key)");
  train->add_option("--head-weights", flags->head_weights, "loss weights, e.g. media=1,emotion=0.5");
  train->add_option("--image-size", t.image_size,
                    "training resolution (square; 0: 64, or the data's own size when smaller)");
  train->add_option("--channels", t.channels, "0 = auto (1 if all images are grey), 1 or 3");
  train->add_option("--backbone", t.backbone,
                    "small-cnn | resnet18 | resnet34 | resnet50 | mobilenet_v3_small (torchvision's names and layout)");
  train->add_option("--init", t.init,
                    "initial backbone weights: a torchvision state_dict .pth (torch.save(model.state_dict())) or an "
                    "atelier model.pt/checkpoint; new heads");
  train->add_option("--normalize", t.normalize, "auto | none | imagenet (auto: imagenet with a torchvision --init)")
      ->check(CLI::IsMember({"auto", "none", "imagenet"}));
  train->add_option("--freeze-backbone-epochs", t.freeze_backbone_epochs, "train only the heads for the first N epochs");
  train->add_option("--backbone-lr-scale", t.backbone_lr_scale,
                    "the backbone's learning rate relative to --lr (after any frozen epochs)");
  train->add_option("--override", flags->overrides, "with --resume: accept a changed recorded option (e.g. epochs)")
      ->delimiter(',');
  train->add_option("--width", t.width, "channels of the first stage (small-cnn)");
  train->add_option("--depth", t.depth, "number of stages (small-cnn)");
  train->add_option("--dropout", t.dropout, "dropout before the heads");
  train->add_flag("--no-batch-norm", flags->no_batch_norm, "no batch norm layers (small-cnn)");
  train->add_option("--epochs", t.epochs, "passes over the training split");
  train->add_option("--batch-size", t.batch_size, "global batch size (all ranks)");
  train->add_option("--lr", t.lr, "peak learning rate (a finite number > 0)");
  train->add_option("--memory-budget", flags->memory_budget,
                    "refuse models whose estimated training memory exceeds this (bytes, or 512M, 8G; "
                    "default: half the physical memory)");
  train->add_option("--min-lr", t.min_lr, "final learning rate of the cosine decay");
  train->add_option("--warmup-epochs", t.warmup_epochs, "linear warm-up length in epochs");
  train->add_option("--weight-decay", t.weight_decay, "AdamW weight decay");
  train->add_option("--label-smoothing", t.label_smoothing, "label smoothing of the cross-entropy loss (0 = off)");
  train->add_option("--clip-norm", t.clip_norm, "gradient norm clipping (0 = off)");
  train->add_option("--val-ratio", t.split.val_ratio, "share of the samples (whole groups) held out for validation");
  train->add_option("--test-ratio", t.split.test_ratio, "share of the samples (whole groups) held out for test");
  train->add_option("--split-seed", flags->split_seed, "seed of the train/val/test split (default: --seed)");
  train->add_option("--group-by", t.split.group_by,
                    "sample JSON field whose value keeps samples on one side of the split "
                    "(default: Met object, BAM project_id)");
  train->add_option("--stratify-head", t.split.stratify_head, "head the split is stratified on (default: the first)");
  train->add_option("--balance", flags->balance, "none | cap:N | weighted, for every head; or HEAD=SPEC,... per head");
  train->add_flag("--no-augment", flags->no_augment, "no augmentation at all");
  train->add_flag("--no-crop", flags->no_crop, "no random resized crop");
  train->add_flag("--no-flip", flags->no_flip, "no horizontal flip");
  train->add_flag("--no-rotate", flags->no_rotate, "no rotation");
  train->add_option("--min-crop-area", t.augment_options.min_crop_area,
                    "smallest share of the image area a random resized crop keeps");
  train->add_option("--max-rotation", t.augment_options.max_rotation_deg, "largest random rotation, in degrees");
  train->add_option("--threads", t.threads, "LibTorch threads (0 = default)");
  train->add_option("--decode-threads", t.decode_threads, "threads that decode the images");
  train->add_option("--cache", t.cache_dir,
                    "folder for a packed cache of the decoded images: built once, memory-mapped by later runs");
  train->add_option("--seed", t.seed, "seed of initialisation, shuffling and augmentation (and of the split)");
  train->add_option("--keep", t.keep_last, "checkpoints to keep (plus the best)");
  train->add_flag("--resume", t.resume, "continue from RUN/checkpoints/latest if present");
  train->add_option("--checkpoint-every", t.checkpoint_every_steps, "also checkpoint every N steps (0 = off)");
  train->add_option("--bucket-mb", flags->bucket_mb, "gradient allreduce bucket size in MiB")->check(CLI::Range(1, 4096));
  train->add_option("--stop-at-step", t.stop_at_step, "(testing) act as if SIGTERM arrived after this step");
  train->add_flag("--progress", flags->progress, "force the progress bar");
  train->add_flag("--plain", flags->plain, "force plain log lines");
  train->add_option("--connect-timeout", flags->connect_timeout_s,
                    "seconds to wait for the other ranks at the rendezvous");
  train->add_option("--collective-timeout", flags->collective_timeout_s,
                    "seconds one collective may wait for a rank that stopped answering (Gloo and NCCL)")
      ->check(CLI::Range(1, 86400));
  train->add_option("--coordinator", flags->coordinator,
                    "report metrics to this coordinator (HOST:PORT); with --world-size and no launcher variables, "
                    "also get the rank from its rendezvous");
  train->add_option("--run", flags->run, "run name shown in `atelier status` (default: the --out directory's name)");
  train->add_option("--world-size", flags->world_size, "ranks to rendezvous through --coordinator (no launcher)");
  train->add_option("--device", flags->device,
                    BuiltWithCuda() ? "cpu | auto | cuda | cuda:N (cuda: the GPU LOCAL_RANK picks; NCCL between ranks)"
                                    : "cpu | auto | cuda | cuda:N (this build: CPU; cuda needs -DATELIER_CUDA=ON)");
  train->add_option("--precision", flags->precision, "fp32 | bf16 (autocast; weights and optimizer stay fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  train->add_flag("--channels-last", t.channels_last, "channels-last memory order (faster convolutions on GPUs)");
  train->add_option("--augment-on", flags->augment_on,
                    "auto | host | device: where images are converted and augmented (auto: on the device when it is "
                    "a GPU)")
      ->check(CLI::IsMember({"auto", "host", "device"}));
  return train;
}

int RunTrainCommand(TrainFlags flags, std::atomic<bool>* stop) {
  if (absl::Status applied = ApplyFlags(flags); !applied.ok()) return FailCommand(applied);
  TrainOptions& options = flags.options;
  options.stop = stop;
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  const CoordinatorOptions link_options{flags.coordinator,
                                        flags.run.empty() ? options.out_dir.filename().string() : flags.run,
                                        flags.world_size};
  auto choice = gpu::ParseDeviceOption(flags.device);
  if (!choice.ok()) return FailCommand(choice.status());
  std::unique_ptr<CoordinatorLink> link;
  if (!link_options.address.empty()) link = CoordinatorLink::Connect(link_options.address);
  auto launch = ResolveLaunch(link_options, link.get(), flags.connect_timeout_s);
  if (!launch.ok()) return FailCommand(launch.status());
  // A CPU build sees no GPU: "auto" resolves to the CPU and "cuda" is refused
  // with the resolver's message (plus how to get a CUDA build).
  const int visible_gpus = BuiltWithCuda() ? static_cast<int>(torch::cuda::device_count()) : 0;
  auto resolved = gpu::ResolveDevice(*choice, visible_gpus, launch->local_rank);
  if (!resolved.ok()) {
    if (!BuiltWithCuda() && choice->kind == gpu::DeviceKind::kCuda) {
      return FailCommand(absl::FailedPreconditionError(absl::StrCat(
          resolved.status().message(), " (this atelier was built without CUDA: -DATELIER_CUDA=ON, docs/gpu.md)")));
    }
    return FailCommand(resolved.status());
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
      std::error_code relative_error;
      auto relative = std::filesystem::relative(ckpt, options.data_root, relative_error);
      report.last_checkpoint = relative_error ? ckpt.string() : relative.string();
      last = record;
      if (link->ReportEpoch(report, record, /*done=*/false)) {
        spdlog::warn("the coordinator asked run '{}' to stop", report.run);
        stop->store(true);
      }
    };
  }
  const auto connect_timeout = std::chrono::seconds(flags.connect_timeout_s);
  const auto collective_timeout = std::chrono::seconds(flags.collective_timeout_s);
  absl::StatusOr<std::unique_ptr<Collective>> collective;
#if defined(ATELIER_WITH_CUDA)
  if (resolved->cuda && launch->world_size > 1) {
    // NcclCommunicator::Create makes the device current before joining.
    collective = ConnectNccl(*launch, resolved->index, connect_timeout, collective_timeout);
  } else {
    collective = ConnectGloo(*launch, connect_timeout, collective_timeout);
  }
#else
  collective = ConnectGloo(*launch, connect_timeout, collective_timeout);
#endif
  if (!collective.ok()) return FailCommand(collective.status());
  auto result = Train(options, **collective);
  if (!result.ok()) return FailCommand(result.status());
  if (link && launch->rank == 0 && result->exit_code == 0 && last.epoch > 0) {
    link->ReportEpoch(report, last, /*done=*/true);
  }
  return result->exit_code;
}

}  // namespace atelier::trainer
