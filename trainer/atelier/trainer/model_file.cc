#include "atelier/common/atomic_file.h"
#include "atelier/trainer/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "atelier/trainer/torch_file.h"
#include "spdlog/spdlog.h"

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
  d.insert("backbone", config.backbone);
  d.insert("normalize", config.normalize);
  d.insert("in_channels", int64_t{config.in_channels});
  d.insert("image_size", int64_t{config.image_size});
  d.insert("width", int64_t{config.width});
  d.insert("depth", int64_t{config.depth});
  d.insert("dropout", config.dropout);
  d.insert("batch_norm", config.batch_norm);
  d.insert("label_fields", config.label_fields);
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
  // Files written before backbones were selectable hold the small CNN.
  if (d.contains("backbone")) config.backbone = d.at("backbone").toStringRef();
  if (d.contains("normalize")) config.normalize = d.at("normalize").toStringRef();
  config.in_channels = static_cast<int>(d.at("in_channels").toInt());
  config.image_size = static_cast<int>(d.at("image_size").toInt());
  config.width = static_cast<int>(d.at("width").toInt());
  config.depth = static_cast<int>(d.at("depth").toInt());
  config.dropout = ToDouble(d.at("dropout"));
  config.batch_norm = d.at("batch_norm").toBool();
  // Files written before label fields were recorded read labels the default way.
  if (d.contains("label_fields")) config.label_fields = d.at("label_fields").toStringRef();
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

std::string ShapeText(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ","), "]");
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
      throw std::runtime_error(absl::StrCat(origin, ": tensor '", name, "' has shape ", ShapeText(saved),
                                            ", the model's is ", ShapeText(tensor)));
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

// Feeds every value of `v` (dict entries in order, list items, tensors with
// dtype, shape and bytes, strings, numbers) into the hash; a dict's "checksum"
// entry is left out.
void HashValue(dataset::Sha256& h, const c10::IValue& v) {
  auto tag = [&](char t) { h.Update(std::string_view(&t, 1)); };
  auto u64 = [&](uint64_t x) { h.Update(std::string_view(reinterpret_cast<const char*>(&x), sizeof(x))); };
  if (v.isTensor()) {
    torch::Tensor t = v.toTensor().contiguous();
    tag('T');
    u64(static_cast<uint64_t>(t.scalar_type()));
    u64(static_cast<uint64_t>(t.dim()));
    for (int64_t s : t.sizes()) u64(static_cast<uint64_t>(s));
    h.Update(std::string_view(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
  } else if (v.isGenericDict()) {
    tag('D');
    for (const auto& entry : v.toGenericDict()) {
      if (entry.key().isString() && entry.key().toStringRef() == "checksum") continue;
      HashValue(h, entry.key());
      HashValue(h, entry.value());
    }
    tag('d');
  } else if (v.isList()) {
    tag('L');
    for (const auto& item : v.toListRef()) HashValue(h, item);
    tag('l');
  } else if (v.isString()) {
    tag('S');
    u64(v.toStringRef().size());
    h.Update(v.toStringRef());
  } else if (v.isBool()) {
    tag(v.toBool() ? 't' : 'f');
  } else if (v.isInt()) {
    tag('I');
    u64(static_cast<uint64_t>(v.toInt()));
  } else if (v.isDouble()) {
    HashValue(h, torch::tensor(v.toDouble(), torch::kFloat64));  // as WriteTorchFile stores it
  } else if (v.isNone()) {
    tag('N');
  } else {
    throw std::runtime_error(absl::StrCat("cannot checksum a ", v.tagKind()));
  }
}

std::string Checksum(const GenericDict& d) {
  dataset::Sha256 h;
  HashValue(h, c10::IValue(d));
  return absl::StrCat("sha256:", h.FinishHex());
}

absl::StatusOr<GenericDict> ReadDict(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadBytes(path));
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(path.string(), ": empty file"));
  ASSIGN_OR_RETURN(c10::IValue value, ReadTorchFile(bytes, path.string()));
  try {
    if (!value.isGenericDict()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a dict"));
    GenericDict d = value.toGenericDict();
    if (!d.contains("format") || !d.contains("config") || !d.contains("state_dict")) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not an atelier model or checkpoint"));
    }
    // Files written before checksums were added have none.
    if (d.contains("checksum") && d.at("checksum").toStringRef() != Checksum(d)) {
      return absl::DataLossError(absl::StrCat(path.string(), ": checksum mismatch (the file is damaged)"));
    }
    return d;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", TorchErrorMessage(e)));
  }
}

absl::Status WriteDict(const fs::path& path, GenericDict d, Env& env) {
  try {
    d.insert_or_assign("checksum", Checksum(d));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot checksum ", path.string(), ": ", TorchErrorMessage(e)));
  }
  ASSIGN_OR_RETURN(std::string bytes, WriteTorchFile(c10::IValue(d)), _.prefix(path.string()));
  return WriteFileAtomically(env, path, bytes);
}

}  // namespace

absl::Status SaveModelFile(const fs::path& path, Classifier& model, Env& env) {
  GenericDict d = NewDict();
  d.insert("format", std::string("atelier-model-v1"));
  d.insert("config", ConfigToDict(model->config));
  d.insert("state_dict", StateToDict(model));
  d.insert("input", std::string("float32 NCHW, pixel/255, channel order RGB (or one grey channel)"));
  return WriteDict(path, d, env);
}

absl::StatusOr<ModelConfig> ReadModelConfig(const fs::path& path) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    return ConfigFromDict(d.at("config").toGenericDict());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": bad config: ", TorchErrorMessage(e)));
  }
}

absl::StatusOr<Classifier> LoadModelFile(const fs::path& given) {
  fs::path path = given;
  std::error_code ec;
  if (fs::is_directory(given, ec)) {
    path = given / "model.pt";
    if (!fs::exists(path)) {
      ASSIGN_OR_RETURN(std::optional<fs::path> latest, FindResumeCheckpoint(CheckpointStore(given / "checkpoints", 1)));
      if (!latest) return absl::NotFoundError(absl::StrCat(given.string(), " has no model.pt nor checkpoints"));
      path = *latest;
    }
  }
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    ModelConfig config = ConfigFromDict(d.at("config").toGenericDict());
    if (absl::Status valid = ValidateModelConfig(config); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", valid.message()));
    }
    Classifier model(config);
    LoadStateDict(model, d.at("state_dict").toGenericDict(), path.string());
    model->eval();
    return model;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", TorchErrorMessage(e)));
  }
}

absl::Status SaveCheckpoint(const fs::path& path, Classifier& model, AdamW& optimizer,
                            const std::string& trainer_json, Env& env) {
  GenericDict d = NewDict();
  d.insert("format", std::string("atelier-checkpoint-v1"));
  d.insert("config", ConfigToDict(model->config));
  d.insert("state_dict", StateToDict(model));
  GenericDict opt = NewDict();
  opt.insert("steps", optimizer.steps());
  c10::impl::GenericList m(c10::AnyType::get()), v(c10::AnyType::get());
  for (const auto& t : optimizer.exp_avg()) m.push_back(ToCpuCopy(t));
  for (const auto& t : optimizer.exp_avg_sq()) v.push_back(ToCpuCopy(t));
  opt.insert("exp_avg", m);
  opt.insert("exp_avg_sq", v);
  d.insert("optimizer", opt);
  d.insert("trainer", trainer_json);
  return WriteDict(path, d, env);
}

absl::StatusOr<std::string> LoadCheckpoint(const fs::path& path, Classifier& model, AdamW& optimizer) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    LoadStateDict(model, d.at("state_dict").toGenericDict(), path.string());
    GenericDict opt = d.at("optimizer").toGenericDict();
    optimizer.set_steps(opt.at("steps").toInt());
    const auto& m = opt.at("exp_avg").toListRef();
    const auto& v = opt.at("exp_avg_sq").toListRef();
    if (m.size() != optimizer.exp_avg().size() || v.size() != optimizer.exp_avg_sq().size()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": optimizer state does not match the model"));
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < m.size(); ++i) {
      optimizer.exp_avg()[i].copy_(m[i].toTensor());
      optimizer.exp_avg_sq()[i].copy_(v[i].toTensor());
    }
    return d.at("trainer").toStringRef();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", TorchErrorMessage(e)));
  }
}

absl::StatusOr<int> CheckpointStore::Open() {
  RETURN_IF_ERROR(env_->CreateDirs(dir_));
  std::error_code ec;
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

std::vector<fs::path> CheckpointStore::ResumeCandidates(std::string* pointer_problem) const {
  std::vector<fs::path> out;
  std::error_code ec;
  const bool has_pointer = fs::exists(dir_ / "latest", ec);
  std::optional<fs::path> latest = Latest();
  if (latest) out.push_back(*latest);
  if (pointer_problem != nullptr) {
    pointer_problem->clear();
    if (has_pointer && !latest) *pointer_problem = absl::StrCat((dir_ / "latest").string(), " names no existing file");
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string file = entry.path().filename().string();
    if (absl::StartsWith(file, "ckpt-") && absl::EndsWith(file, ".pt")) names.push_back(file);
  }
  std::sort(names.rbegin(), names.rend());  // newest (highest step) first
  for (const auto& name : names) {
    if (!latest || dir_ / name != *latest) out.push_back(dir_ / name);
  }
  return out;
}
std::optional<fs::path> CheckpointStore::Best() const { return Pointer("best"); }

absl::Status CheckpointStore::Commit(int64_t global_step, bool is_best) {
  std::string name = PathFor(global_step).filename().string();
  RETURN_IF_ERROR(WriteFileAtomically(*env_, dir_ / "latest", name + "\n"));
  if (is_best) RETURN_IF_ERROR(WriteFileAtomically(*env_, dir_ / "best", name + "\n"));
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

namespace atelier::trainer {

absl::StatusOr<std::string> ReadCheckpointState(const fs::path& path) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  try {
    return d.at("trainer").toStringRef();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": no trainer state: ", TorchErrorMessage(e)));
  }
}

absl::Status VerifyCheckpoint(const fs::path& path) {
  ASSIGN_OR_RETURN(GenericDict d, ReadDict(path));
  if (!d.contains("optimizer") || !d.contains("trainer")) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": a model file, not a training checkpoint"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<fs::path>> FindResumeCheckpoint(const CheckpointStore& store) {
  std::string pointer_problem;
  std::vector<fs::path> candidates = store.ResumeCandidates(&pointer_problem);
  if (!pointer_problem.empty()) spdlog::warn("{}", pointer_problem);
  std::vector<std::string> rejected;
  for (const fs::path& candidate : candidates) {
    absl::Status valid = VerifyCheckpoint(candidate);
    if (valid.ok()) {
      if (!rejected.empty() || !pointer_problem.empty()) {
        spdlog::warn("resuming from {}, the newest valid checkpoint", candidate.string());
      }
      return candidate;
    }
    spdlog::warn("skipping checkpoint: {}", std::string(valid.message()));
    rejected.push_back(std::string(valid.message()));
  }
  if (candidates.empty() && pointer_problem.empty()) return std::nullopt;
  return absl::DataLossError(absl::StrCat("no valid checkpoint to resume from in ", store.dir().string(), ": ",
                                          rejected.empty() ? pointer_problem : absl::StrJoin(rejected, "; ")));
}

absl::StatusOr<InitWeights> ReadInitWeights(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadBytes(path));
  ASSIGN_OR_RETURN(c10::IValue value, ReadTorchFile(bytes, path.string()));
  InitWeights init;
  init.path = path;
  try {
    if (!value.isGenericDict()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a state_dict"));
    GenericDict d = value.toGenericDict();
    if (d.contains("format") && d.contains("state_dict") && d.contains("config")) {
      // An atelier model or checkpoint: its backbone, without its heads.
      ASSIGN_OR_RETURN(GenericDict checked, ReadDict(path));
      ModelConfig config = ConfigFromDict(checked.at("config").toGenericDict());
      init.atelier = true;
      init.backbone = config.backbone;
      init.normalize = config.normalize;
      d = checked.at("state_dict").toGenericDict();
    }
    for (const auto& entry : d) {
      if (!entry.key().isString() || !entry.value().isTensor()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path.string(), ": not a state_dict (an entry is not a named tensor)"));
      }
      init.tensors.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", TorchErrorMessage(e)));
  }
  return init;
}

absl::Status ApplyInitWeights(const InitWeights& init, Classifier& model) {
  const std::string origin = init.path.string();
  if (init.atelier && init.backbone != model->config.backbone) {
    return absl::InvalidArgumentError(absl::StrCat(origin, " holds a ", init.backbone, " backbone, not ",
                                                   model->config.backbone));
  }
  // Names the new heads replace: atelier's heads, torchvision's classifier.
  const std::string skipped = init.atelier ? "heads." : ReplacedClassifierPrefix(model->config.backbone);
  std::map<std::string, torch::Tensor> wanted;
  for (auto& [name, tensor] : StateDict(*model)) {
    if (!absl::StartsWith(name, "heads.")) wanted.emplace(name, tensor);
  }
  std::vector<std::string> unexpected;
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> found;
  for (const auto& [name, tensor] : init.tensors) {
    if (!skipped.empty() && absl::StartsWith(name, skipped)) continue;
    auto it = wanted.find(name);
    if (it == wanted.end()) {
      unexpected.push_back(name);
      continue;
    }
    if (tensor.sizes() != it->second.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": '", name, "' has shape ", ShapeText(tensor), ", the ",
                                                     model->config.backbone, " backbone's is ",
                                                     ShapeText(it->second)));
    }
    found.emplace(name, tensor);
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : wanted) {
    if (!found.count(name)) missing.push_back(name);
  }
  auto first = [](const std::vector<std::string>& names) {
    std::vector<std::string> shown(names.begin(), names.begin() + std::min<size_t>(names.size(), 3));
    return absl::StrCat(absl::StrJoin(shown, ", "), names.size() > 3 ? absl::StrCat(" and ", names.size() - 3, " more") : "");
  };
  if (!missing.empty() || !unexpected.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, " does not match the ", model->config.backbone, " backbone",
        missing.empty() ? "" : absl::StrCat("; missing: ", first(missing)),
        unexpected.empty() ? "" : absl::StrCat("; unexpected: ", first(unexpected))));
  }
  try {
    for (auto& [name, tensor] : found) wanted.at(name).copy_(tensor);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", TorchErrorMessage(e)));
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
