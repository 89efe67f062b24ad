#include "atelier/trainer/metrics.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace atelier::trainer {

int64_t Confusion::Total() const {
  int64_t n = 0;
  for (const auto& row : counts)
    for (int64_t v : row) n += v;
  return n;
}

double Confusion::Accuracy() const {
  int64_t n = Total(), right = 0;
  for (size_t i = 0; i < counts.size(); ++i) right += counts[i][i];
  return n > 0 ? double(right) / double(n) : 0.0;
}

double Confusion::Precision(int c) const {
  int64_t predicted = 0;
  for (const auto& row : counts) predicted += row[c];
  return predicted > 0 ? double(counts[c][c]) / double(predicted) : 0.0;
}

double Confusion::Recall(int c) const {
  int64_t actual = 0;
  for (int64_t v : counts[c]) actual += v;
  return actual > 0 ? double(counts[c][c]) / double(actual) : 0.0;
}

nlohmann::json Confusion::ToJson(const std::vector<std::string>& classes) const {
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t c = 0; c < counts.size(); ++c) {
    int64_t support = 0;
    for (int64_t v : counts[c]) support += v;
    per_class.push_back({{"class", classes[c]},
                         {"precision", Precision(int(c))},
                         {"recall", Recall(int(c))},
                         {"support", support}});
  }
  return {{"accuracy", Accuracy()}, {"samples", Total()}, {"classes", classes},
          {"confusion", counts},    {"per_class", per_class}};
}

nlohmann::json EpochRecord::ToJson() const {
  nlohmann::json j = {{"epoch", epoch},   {"step", step},           {"lr", lr},
                      {"seconds", seconds}, {"images_per_s", images_per_s}, {"train_loss", train_loss}};
  for (const auto& [head, m] : train) j["train"][head] = {{"loss", m.loss}, {"accuracy", m.accuracy}};
  if (has_val) {
    j["val_loss"] = val_loss;
    for (const auto& [head, m] : val) j["val"][head] = {{"loss", m.loss}, {"accuracy", m.accuracy}};
  }
  return j;
}

EpochRecord EpochRecord::FromJson(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.value("epoch", 0);
  r.step = j.value("step", int64_t{0});
  r.lr = j.value("lr", 0.0);
  r.seconds = j.value("seconds", 0.0);
  r.images_per_s = j.value("images_per_s", 0.0);
  r.train_loss = j.value("train_loss", 0.0);
  if (j.contains("train")) {
    for (const auto& [head, m] : j["train"].items()) r.train[head] = {m.value("loss", 0.0), m.value("accuracy", 0.0)};
  }
  if (j.contains("val")) {
    r.has_val = true;
    r.val_loss = j.value("val_loss", 0.0);
    for (const auto& [head, m] : j["val"].items()) r.val[head] = {m.value("loss", 0.0), m.value("accuracy", 0.0)};
  }
  return r;
}

std::string MetricsLog::CsvHeader() const {
  std::string h = "epoch,step,lr,seconds,images_per_s,train_loss,val_loss";
  for (const auto& head : heads_) {
    absl::StrAppend(&h, ",train_loss_", head, ",train_acc_", head, ",val_loss_", head, ",val_acc_", head);
  }
  return h + "\n";
}

std::string MetricsLog::CsvRow(const EpochRecord& r) const {
  std::string row = absl::StrCat(r.epoch, ",", r.step, ",", r.lr, ",", r.seconds, ",", r.images_per_s, ",",
                                 r.train_loss, ",", r.has_val ? absl::StrCat(r.val_loss) : "");
  for (const auto& head : heads_) {
    auto t = r.train.count(head) ? r.train.at(head) : HeadEpochMetrics{};
    absl::StrAppend(&row, ",", t.loss, ",", t.accuracy);
    if (r.has_val && r.val.count(head)) {
      absl::StrAppend(&row, ",", r.val.at(head).loss, ",", r.val.at(head).accuracy);
    } else {
      absl::StrAppend(&row, ",,");
    }
  }
  return row + "\n";
}

absl::Status MetricsLog::Append(const EpochRecord& record) {
  auto jsonl = dir_ / "metrics.jsonl";
  auto csv = dir_ / "metrics.csv";
  bool new_csv = !std::filesystem::exists(csv);
  std::ofstream j(jsonl, std::ios::app), c(csv, std::ios::app);
  if (!j || !c) return absl::InternalError(absl::StrCat("cannot write metrics in ", dir_.string()));
  j << record.ToJson().dump() << "\n";
  if (new_csv) c << CsvHeader();
  c << CsvRow(record);
  j.flush();
  c.flush();
  if (!j || !c) return absl::InternalError(absl::StrCat("cannot write metrics in ", dir_.string()));
  return absl::OkStatus();
}

absl::Status MetricsLog::Rewrite(const std::vector<EpochRecord>& records) {
  std::error_code ec;
  std::filesystem::remove(dir_ / "metrics.jsonl", ec);
  std::filesystem::remove(dir_ / "metrics.csv", ec);
  for (const auto& r : records) {
    if (absl::Status s = Append(r); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
