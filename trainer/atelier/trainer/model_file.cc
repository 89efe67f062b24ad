#include "atelier/trainer/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

using GenericDict = c10::impl::GenericDict;

GenericDict NewDict() { return GenericDict(c10::StringType::get(), c10::AnyType::get()); }

c10::List<std::string> StringList(const std::vector<std::string>& values) {
  c10::List<std::string> list;
  for (const auto& v : values) list.push_back(v);
  return list;
}

GenericDict ConfigToDict(const ModelConfig& config) {
  GenericDict d = NewDict();
  d.insert("in_channels", int64_t{config.in_channels});
  d.insert("image_size", int64_t{config.image_size});
  d.insert("width", int64_t{config.width});
  d.insert("depth", int64_t{config.depth});
  d.insert("dropout", config.dropout);
  d.insert("batch_norm", config.batch_norm);
  std::vector<std::string> heads;
  GenericDict classes = NewDict();
  for (const auto& head : config.labels.heads) {
    heads.push_back(head.name);
    classes.insert(head.name, StringList(head.classes));
  }
  d.insert("heads", StringList(heads));
  d.insert("classes", classes);
  return d;
}

std::vector<std::string> ToStrings(const c10::IValue& v) {
  std::vector<std::string> out;
  for (const auto& item : v.toListRef()) out.push_back(item.toStringRef());
  return out;
}

ModelConfig ConfigFromDict(const GenericDict& d) {
  ModelConfig config;
  config.in_channels = static_cast<int>(d.at("in_channels").toInt());
  config.image_size = static_cast<int>(d.at("image_size").toInt());
  config.width = static_cast<int>(d.at("width").toInt());
  config.depth = static_cast<int>(d.at("depth").toInt());
  config.dropout = d.at("dropout").toDouble();
  config.batch_norm = d.at("batch_norm").toBool();
  GenericDict classes = d.at("classes").toGenericDict();
  for (const std::string& head : ToStrings(d.at("heads"))) {
    config.labels.heads.push_back({head, ToStrings(classes.at(head))});
  }
  return config;
}

// A contiguous CPU copy: files never hold device tensors or channels-last
// strides, so they load anywhere (CPU or GPU runs, PyTorch).
torch::Tensor ToCpuCopy(const torch::Tensor& t) {
  torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
  return cpu.data_ptr() == t.data_ptr() ? cpu.clone() : cpu;  // never share storage with the model
}

GenericDict StateToDict(Classifier& model) {
  GenericDict d(c10::StringType::get(), c10::TensorType::get());
  for (auto& [name, tensor] : StateDict(*model)) d.insert(name, ToCpuCopy(tensor));
  return d;
}

void LoadStateDict(Classifier& model, const GenericDict& state, const std::string& origin) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : StateDict(*model)) {
    if (!state.contains(name)) throw std::runtime_error(absl::StrCat(origin, ": no tensor '", name, "'"));
    torch::Tensor saved = state.at(name).toTensor();
    if (saved.sizes() != tensor.sizes()) {
      throw std::runtime_error(absl::StrCat(origin, ": tensor '", name, "' has the wrong shape"));
    }
    tensor.copy_(saved);
  }
}

absl::StatusOr<std::string> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

absl::StatusOr<GenericDict> ReadDict(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadBytes(path));
  try {
    c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    if (!value.isGenericDict()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a dict"));
    GenericDict d = value.toGenericDict();
    if (!d.contains("format") || !d.contains("config") || !d.contains("state_dict")) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not an atelier model or checkpoint"));
    }
    return d;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": cannot read: ", e.what()));
  }
}

absl::Status WriteDict(const fs::path& path, const GenericDict& d) {
  try {
    std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
    return WriteFileAtomically(path, std::string(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot serialize ", path.string(), ": ", e.what()));
  }
}

}  // namespace

absl::Status WriteFileAtomically(const fs::path& path, const std::string& bytes) {
  fs::path tmp = path;
  tmp += absl::StrCat(".tmp-", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", tmp.string(), ": ", strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string(), ": ", strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot flush ", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("cannot rename to ", path.string()));
  }
  int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

absl::Status SaveModelFile(const fs::path& path, Classifier& model) {
  GenericDict d = NewDict();
  d.insert("format", std::string("atelier-model-v1"));
  d.insert("config", ConfigToDict(model->config));
  d.insert("state_dict", StateToDict(model));
  d.insert("input", std::string("float32 NCHW, pixel/255, channel order RGB (or one grey channel)"));
  return WriteDict(path, d);
}

absl::StatusOr<ModelConfig> ReadModelConfig(const fs::path& path) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    return ConfigFromDict(d.at("config").toGenericDict());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": bad config: ", e.what()));
  }
}

absl::StatusOr<Classifier> LoadModelFile(const fs::path& given) {
  fs::path path = given;
  std::error_code ec;
  if (fs::is_directory(given, ec)) {
    path = given / "model.pt";
    if (!fs::exists(path)) {
      auto latest = CheckpointStore(given / "checkpoints", 1).Latest();
      if (!latest) return absl::NotFoundError(absl::StrCat(given.string(), " has no model.pt nor checkpoints"));
      path = *latest;
    }
  }
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    Classifier model(ConfigFromDict(d.at("config").toGenericDict()));
    LoadStateDict(model, d.at("state_dict").toGenericDict(), path.string());
    model->eval();
    return model;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
}

absl::Status SaveCheckpoint(const fs::path& path, Classifier& model, AdamW& optimizer,
                            const std::string& trainer_json) {
  GenericDict d = NewDict();
  d.insert("format", std::string("atelier-checkpoint-v1"));
  d.insert("config", ConfigToDict(model->config));
  d.insert("state_dict", StateToDict(model));
  GenericDict opt = NewDict();
  opt.insert("steps", optimizer.steps());
  c10::List<torch::Tensor> m, v;
  for (const auto& t : optimizer.exp_avg()) m.push_back(ToCpuCopy(t));
  for (const auto& t : optimizer.exp_avg_sq()) v.push_back(ToCpuCopy(t));
  opt.insert("exp_avg", m);
  opt.insert("exp_avg_sq", v);
  d.insert("optimizer", opt);
  d.insert("trainer", trainer_json);
  return WriteDict(path, d);
}

absl::StatusOr<std::string> LoadCheckpoint(const fs::path& path, Classifier& model, AdamW& optimizer) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    LoadStateDict(model, d.at("state_dict").toGenericDict(), path.string());
    GenericDict opt = d.at("optimizer").toGenericDict();
    optimizer.set_steps(opt.at("steps").toInt());
    auto m = opt.at("exp_avg").toTensorList();
    auto v = opt.at("exp_avg_sq").toTensorList();
    if (m.size() != optimizer.exp_avg().size() || v.size() != optimizer.exp_avg_sq().size()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": optimizer state does not match the model"));
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < m.size(); ++i) {
      optimizer.exp_avg()[i].copy_(m.get(i));
      optimizer.exp_avg_sq()[i].copy_(v.get(i));
    }
    return d.at("trainer").toStringRef();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", e.what()));
  }
}

absl::StatusOr<int> CheckpointStore::Open() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir_.string(), ": ", ec.message()));
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (absl::StrContains(entry.path().filename().string(), ".tmp-")) {
      fs::remove(entry.path(), ec);
      ++removed;
    }
  }
  return removed;
}

fs::path CheckpointStore::PathFor(int64_t global_step) const {
  return dir_ / absl::StrFormat("ckpt-%09d.pt", global_step);
}

std::optional<fs::path> CheckpointStore::Pointer(const char* name) const {
  std::ifstream in(dir_ / name);
  std::string file;
  if (!in || !std::getline(in, file) || file.empty()) return std::nullopt;
  fs::path path = dir_ / file;
  if (!fs::exists(path)) return std::nullopt;
  return path;
}

std::optional<fs::path> CheckpointStore::Latest() const { return Pointer("latest"); }
std::optional<fs::path> CheckpointStore::Best() const { return Pointer("best"); }

absl::Status CheckpointStore::Commit(int64_t global_step, bool is_best) {
  std::string name = PathFor(global_step).filename().string();
  RETURN_IF_ERROR(WriteFileAtomically(dir_ / "latest", name + "\n"));
  if (is_best) RETURN_IF_ERROR(WriteFileAtomically(dir_ / "best", name + "\n"));
  std::string best = Best() ? Best()->filename().string() : "";
  std::vector<std::string> checkpoints;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string file = entry.path().filename().string();
    if (absl::StartsWith(file, "ckpt-") && absl::EndsWith(file, ".pt")) checkpoints.push_back(file);
  }
  std::sort(checkpoints.begin(), checkpoints.end());
  int keep = std::max(1, keep_last_);
  for (int i = 0; i + keep < static_cast<int>(checkpoints.size()); ++i) {
    if (checkpoints[i] != best && checkpoints[i] != name) fs::remove(dir_ / checkpoints[i], ec);
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
