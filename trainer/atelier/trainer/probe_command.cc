#include "atelier/trainer/probe_command.h"

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/command_line.h"
#include "atelier/common/env.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/embeddings.h"
#include "atelier/trainer/group_summary.h"
#include "atelier/trainer/npy_file.h"
#include "atelier/trainer/prediction_rows.h"
#include "atelier/trainer/split.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

std::map<std::string, std::string> TextFields(const nlohmann::json& row, const char* name) {
  std::map<std::string, std::string> out;
  auto it = row.find(name);
  if (it == row.end() || !it->is_object()) return out;
  for (auto field = it->begin(); field != it->end(); ++field) out[field.key()] = CellText(field.value());
  return out;
}

std::string StringField(const nlohmann::json& row, const char* name) {
  auto it = row.find(name);
  return it != row.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<std::vector<ProbeSample>> ReadProbeSamples(const fs::path& rows, const std::string& field,
                                                          const std::string& group_by) {
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(rows));
  std::vector<ProbeSample> out;
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++line_number;
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(rows.string(), ":", line_number, ": not a JSON object"));
    }
    PredictionRow parsed;
    parsed.key = StringField(row, "key");
    parsed.url = StringField(row, "url");
    parsed.path = StringField(row, "path");
    parsed.shard = StringField(row, "shard");
    parsed.meta = std::move(row);
    ProbeSample sample;
    sample.target = GroupValue(parsed, field);
    sample.group = SampleGroup(parsed.key, TextFields(parsed.meta, "extra"), TextFields(parsed.meta, "labels"), group_by);
    out.push_back(std::move(sample));
  }
  return out;
}

CLI::App* AddProbeCommand(CLI::App& app, ProbeFlags* f) {
  auto* probe = app.add_subcommand(
      "probe", "cross-validate a logistic regression from `embed` features to any metadata field");
  probe->add_option("--features", f->features, "FEATS.npy written by `atelier embed`")->required();
  probe->add_option("--rows", f->rows, "the rows of FEATS.npy (default: FEATS.jsonl beside it)");
  probe->add_option("--target", f->target,
                    "the field to predict: a label, a top-level sample field, or extra.NAME (as predict --group-by)")
      ->required();
  probe->add_option("--folds", f->options.folds, "cross-validation folds")->check(CLI::Range(2, 100));
  probe->add_option("--seed", f->options.seed, "seed of the fold assignment");
  probe->add_option("--l2", f->options.l2, "L2 penalty on the weights")->check(CLI::Range(0.0, 1e6));
  probe->add_option("--max-iterations", f->options.max_iterations, "L-BFGS iterations per fold")
      ->check(CLI::Range(1, 100000));
  probe->add_option("--min-class-count", f->options.min_class_count,
                    "leave out classes with fewer samples than this")
      ->check(CLI::Range(1, 1000000));
  probe->add_option("--group-by", f->group_by,
                    "keep samples with the same value of this field in one fold (default: the source's groups, "
                    "as train's split)");
  probe->add_option("--out", f->out, "also write the result as JSON to this file");
  probe->add_flag("--json", f->json, "print the result as JSON instead of a table");
  return probe;
}

int RunProbeCommand(const ProbeFlags& f) {
  const fs::path rows = f.rows.empty() ? EmbeddingRowsPath(f.features) : fs::path(f.rows);
  auto features = ReadNpyMatrix(*Env::Default(), f.features);
  if (!features.ok()) return FailCommand(features.status());
  auto samples = ReadProbeSamples(rows, f.target, f.group_by);
  if (!samples.ok()) return FailCommand(samples.status());
  if (static_cast<int64_t>(samples->size()) != features->rows) {
    return FailCommand(absl::InvalidArgumentError(absl::StrCat(f.features, " has ", features->rows, " rows but ",
                                                               rows.string(), " has ", samples->size())));
  }
  auto result = RunProbe(*features, *samples, f.target, f.options);
  if (!result.ok()) return FailCommand(result.status());
  const nlohmann::json json = result->ToJson();
  if (!f.out.empty()) {
    Env& env = *Env::Default();
    const fs::path out(f.out);
    absl::Status s = out.has_parent_path() ? env.CreateDirs(out.parent_path()) : absl::OkStatus();
    if (s.ok()) s = WriteFileAtomically(env, out, json.dump(2) + "\n");
    if (!s.ok()) return FailCommand(s);
  }
  std::printf("%s", f.json ? (json.dump(2) + "\n").c_str() : result->Table().c_str());
  return 0;
}

}  // namespace atelier::trainer
