#include "atelier/demo/demo_pipeline.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <tuple>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/demo/demo_world.h"
#include "atelier/demo/origin_server.h"
#include "atelier/demo/status_poller.h"
#include "atelier/common/free_port.h"
#include "atelier/common/port_file.h"

namespace atelier::demo {
namespace fs = std::filesystem;

namespace {

constexpr char kHead[] = "garment";
constexpr char kClassNames[] =
    "tshirt_top,trouser,pullover,dress,coat,sandal,shirt,sneaker,bag,ankle_boot";
constexpr char kMarker[] = ".atelier-demo";

void Say(const std::string& line) { std::cout << "\n== " << line << std::endl; }

// Reads the first `limit` samples of the shards under `root` as labelled PNGs.
absl::StatusOr<std::vector<LabelledImage>> LoadImages(const fs::path& root, int limit) {
  ASSIGN_OR_RETURN(auto shards, dataset::ListShards(root));
  std::vector<LabelledImage> images;
  for (const auto& shard : shards) {
    ASSIGN_OR_RETURN(auto reader, dataset::ShardReader::Open(shard));
    while (static_cast<int>(images.size()) < limit) {
      ASSIGN_OR_RETURN(auto sample, reader->Next());
      if (!sample.has_value()) break;
      auto label = sample->meta.labels.find(kHead);
      if (label == sample->meta.labels.end()) {
        return absl::DataLossError(absl::StrCat(shard.string(), ": sample ", sample->meta.key,
                                                " has no '", kHead, "' label"));
      }
      images.push_back(LabelledImage{label->second, std::move(sample->image_bytes)});
    }
    if (static_cast<int>(images.size()) >= limit) break;
  }
  return images;
}

}  // namespace

DemoPipeline::DemoPipeline(DemoConfig config) : config_(std::move(config)) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  bin_dir_ = n > 0 ? fs::path(std::string(self, static_cast<size_t>(n))).parent_path() : fs::path(".");
}

void DemoPipeline::Interrupt() {
  interrupted_ = true;
  processes_.StopAll();
}

std::string DemoPipeline::Executable(const std::string& name) const { return (bin_dir_ / name).string(); }

fs::path DemoPipeline::RunDir() const { return work_ / "data" / "runs" / "demo"; }

absl::Status DemoPipeline::RunStep(const std::string& step, const std::vector<std::string>& argv,
                                   const fs::path& log) {
  if (interrupted_) return absl::CancelledError("interrupted");
  ASSIGN_OR_RETURN(pid_t pid, processes_.Start(argv, {}, log));
  int code = processes_.Wait(pid);
  if (interrupted_) return absl::CancelledError("interrupted");
  if (code != 0) {
    return absl::InternalError(absl::StrCat(step, " failed with exit code ", code,
                                            log.empty() ? "" : absl::StrCat(" (log: ", log.string(), ")")));
  }
  return absl::OkStatus();
}

absl::Status DemoPipeline::PrepareWorkDir() {
  work_ = fs::absolute(config_.work_dir);
  if (fs::exists(work_)) {
    if (!fs::exists(work_ / kMarker)) {
      return absl::FailedPreconditionError(absl::StrCat(
          work_.string(), " exists and was not made by atelier demo; pass another --work directory"));
    }
    fs::remove_all(work_);
  }
  for (const char* sub : {"logs", "origin", "state", "data", "pulled", "samples"}) {
    fs::create_directories(work_ / sub);
  }
  std::ofstream(work_ / kMarker) << "made by atelier demo; removed by the next demo run\n";
  return absl::OkStatus();
}

absl::Status DemoPipeline::ImportFashionMnist() {
  Say("1/5 import: Fashion-MNIST from " + config_.fashion_mnist_dir + " (atelier import idx)");
  const fs::path mnist = config_.fashion_mnist_dir;
  for (const auto& [set, root, limit] :
       {std::tuple{"train", work_ / "source", config_.images},
        std::tuple{"t10k", work_ / "heldout", config_.heldout_images}}) {
    RETURN_IF_ERROR(RunStep(
        absl::StrCat("import ", set),
        {Executable("atelier-trainer"), "import", "idx", "--images",
         (mnist / absl::StrCat(set, "-images-idx3-ubyte.gz")).string(), "--labels",
         (mnist / absl::StrCat(set, "-labels-idx1-ubyte.gz")).string(), "--head", kHead, "--class-names",
         kClassNames, "--limit", std::to_string(limit), "--data", root.string()},
        work_ / "logs" / absl::StrCat("import-", set, ".log")));
  }
  std::cout << "imported " << config_.images << " training and " << config_.heldout_images
            << " held-out images" << std::endl;
  return absl::OkStatus();
}

absl::StatusOr<int> DemoPipeline::WaitForPortFile(const std::filesystem::path& port_file, pid_t server) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (interrupted_) return absl::CancelledError("interrupted");
    auto ports = ReadPortFile(port_file);
    if (ports.ok() && ports->count("grpc_port")) return ports->at("grpc_port");
    if (!processes_.Running(server)) {
      return absl::UnavailableError(absl::StrCat("the coordinator exited before serving; see ",
                                                 (work_ / "logs" / "coordinator.log").string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("the coordinator wrote no ", port_file.string(), " in 5 minutes"));
}

absl::Status DemoPipeline::Crawl() {
  Say("2/5 crawl: a loopback Met API replica and a BAM SQLite, 1 coordinator + " +
      std::to_string(config_.crawlers) + " crawlers");
  ASSIGN_OR_RETURN(auto images, LoadImages(work_ / "source", config_.images));
  ASSIGN_OR_RETURN(auto origin, OriginServer::Start());
  DemoWorldOptions world_options;
  world_options.head = kHead;
  ASSIGN_OR_RETURN(DemoWorld world,
                   BuildDemoWorld(images, world_options, *origin, work_ / "origin", work_ / "data"));
  std::cout << absl::StrFormat(
                   "origin %s: %d Met objects (%d without image), %d BAM rows (%d dead links)\n"
                   "job spec: %s",
                   origin->base_url(), world.met_objects, world.met_dead_objects, world.bam_rows,
                   world.bam_dead_rows, world.job_spec.string())
            << std::endl;

  // The coordinator binds any free port and reports it in its port file.
  const std::filesystem::path port_file = work_ / "state" / "coordinator.port";
  std::error_code ec;
  std::filesystem::create_directories(port_file.parent_path(), ec);
  std::filesystem::remove(port_file, ec);
  ASSIGN_OR_RETURN(coordinator_pid_,
                   processes_.Start({Executable("atelier-coordinator"), "--spec", world.job_spec.string(),
                                     "--state", (work_ / "state" / "coordinator").string(), "--listen",
                                     "127.0.0.1:0", "--port-file", port_file.string()},
                                    {}, work_ / "logs" / "coordinator.log"));
  const pid_t coordinator = coordinator_pid_;
  ASSIGN_OR_RETURN(int coordinator_port, WaitForPortFile(port_file, coordinator));
  coordinator_address_ = absl::StrCat("127.0.0.1:", coordinator_port);
  const std::string& address = coordinator_address_;
  std::vector<pid_t> crawlers;
  for (int i = 0; i < config_.crawlers; ++i) {
    const std::string name = absl::StrCat("crawler-", i);
    ASSIGN_OR_RETURN(pid_t pid,
                     processes_.Start({Executable("atelier-crawler"), "--coordinator", address, "--state",
                                       (work_ / "state" / name).string(), "--data", (work_ / "data").string(),
                                       "--name", name, "--allow-private-networks"},
                                      {}, work_ / "logs" / (name + ".log")));
    crawlers.push_back(pid);
  }
  StatusPoller poller(address);
  absl::Status crawl = poller.WaitForCrawl(
      std::chrono::minutes(8), [&] { return interrupted_.load() || !processes_.Running(coordinator); },
      std::cout);
  for (pid_t pid : crawlers) processes_.Signal(pid, SIGTERM);
  for (pid_t pid : crawlers) processes_.Wait(pid);
  if (interrupted_) return absl::CancelledError("interrupted");
  RETURN_IF_ERROR(crawl);
  std::cout << "origin answered " << origin->requests() << " requests; the coordinator keeps running "
            << "for training: atelier status --coordinator " << address << std::endl;
  return RunStep("status", {Executable("atelier-status"), "--coordinator", address});
}

absl::Status DemoPipeline::Train() {
  Say(absl::StrCat("3/5 train: ", config_.ranks, " Gloo ranks on ", (work_ / "data" / "shards").string()));
  ASSIGN_OR_RETURN(int master_port, PickFreePort());
  const std::string port = std::to_string(master_port);
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < config_.ranks; ++rank) {
    std::map<std::string, std::string> env = {{"RANK", std::to_string(rank)},
                                              {"LOCAL_RANK", std::to_string(rank)},
                                              {"WORLD_SIZE", std::to_string(config_.ranks)},
                                              {"MASTER_ADDR", "127.0.0.1"},
                                              {"MASTER_PORT", port},
                                              {"OMP_NUM_THREADS", "1"}};
    fs::path log = rank == 0 ? fs::path() : work_ / "logs" / absl::StrCat("trainer-rank", rank, ".log");
    ASSIGN_OR_RETURN(pid_t pid,
                     processes_.Start({Executable("atelier-trainer"), "train", "--data",
                                       (work_ / "data").string(), "--out", RunDir().string(), "--epochs",
                                       std::to_string(config_.epochs), "--heads", kHead, "--image-size", "28",
                                       "--coordinator", coordinator_address_, "--run", "demo"},
                                      env, log));
    ranks.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : ranks) failed += processes_.Wait(pid) != 0 ? 1 : 0;
  if (interrupted_) return absl::CancelledError("interrupted");
  if (failed > 0) {
    return absl::InternalError(absl::StrCat(failed, " trainer rank(s) failed; logs in ", (work_ / "logs").string()));
  }
  // The ranks reported to the coordinator: status shows training beside the crawl.
  return RunStep("status", {Executable("atelier-status"), "--coordinator", coordinator_address_});
}

absl::Status DemoPipeline::EvaluateAndPredict() {
  const fs::path checkpoint = work_ / "pulled" / "best.pt";
  Say("4/5 pull the best checkpoint over gRPC and evaluate it on " + std::to_string(config_.heldout_images) +
      " held-out Fashion-MNIST test images it has never seen");
  RETURN_IF_ERROR(RunStep("pull", {Executable("atelier-pull"), "--coordinator", coordinator_address_, "--run",
                                   "demo", "--which", "best", "-o", checkpoint.string()}));
  RETURN_IF_ERROR(RunStep("evaluate", {Executable("atelier-trainer"), "evaluate", "--checkpoint",
                                       checkpoint.string(), "--data", (work_ / "heldout").string()}));

  Say("5/5 predict: class probabilities for a few held-out images");
  ASSIGN_OR_RETURN(auto shards, dataset::ListShards(work_ / "heldout"));
  if (shards.empty()) return absl::NotFoundError("no held-out shard to take images from");
  ASSIGN_OR_RETURN(auto reader, dataset::ShardReader::Open(shards.front()));
  std::vector<std::string> predict = {Executable("atelier-trainer"), "predict", "--checkpoint",
                                      checkpoint.string()};
  for (int i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(auto sample, reader->Next());
    if (!sample.has_value()) break;
    const fs::path file = work_ / "samples" /
                          absl::StrCat(sample->meta.labels[kHead], "-", i, ".",
                                       std::string(dataset::ImageExtension(sample->format)));
    std::ofstream(file, std::ios::binary) << sample->image_bytes;
    predict.push_back(file.string());
  }
  return RunStep("predict", predict);
}

void DemoPipeline::PrintSummary() const {
  Say("done");
  std::cout << "shards:      " << (work_ / "data" / "shards").string() << "  (atelier shard ls FILE)\n"
            << "report:      " << (RunDir() / "report.html").string() << "\n"
            << "checkpoints: " << (RunDir() / "checkpoints").string() << "  (pulled: "
            << (work_ / "pulled" / "best.pt").string() << ")\n"
            << "model.pt:    " << (RunDir() / "model.pt").string()
            << "  (Python: torch.load)\n"
            << "logs:        " << (work_ / "logs").string() << std::endl;
}

absl::Status DemoPipeline::Run() {
  RETURN_IF_ERROR(PrepareWorkDir());
  RETURN_IF_ERROR(ImportFashionMnist());
  RETURN_IF_ERROR(Crawl());
  RETURN_IF_ERROR(Train());
  RETURN_IF_ERROR(EvaluateAndPredict());
  PrintSummary();
  processes_.StopAll();
  return absl::OkStatus();
}

}  // namespace atelier::demo
