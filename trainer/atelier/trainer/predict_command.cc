#include "atelier/trainer/predict_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/command_line.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/bulk_predict.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/explain_set.h"
#include "atelier/trainer/group_summary.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/prediction_rows.h"
#include "atelier/trainer/progress_line.h"
#include "atelier/trainer/sort_into.h"
#include "atelier/trainer/torch_file.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

int UsageError(const std::string& message) {
  std::fprintf(stderr, "atelier predict: %s\nRun with --help for more information.\n", message.c_str());
  return kUsageError;
}

// The Grad-CAM inputs of `predict IMAGE... --explain`: the images as
// PredictFiles prepared them (`inputs`: pixel / 255, NCHW).
std::vector<ExplainInput> ExplainInputs(const std::vector<ImagePrediction>& predictions, const torch::Tensor& inputs) {
  const torch::Tensor prepared =
      inputs.mul(255.0f).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  const size_t image_bytes = prepared.numel() / std::max<int64_t>(1, prepared.size(0));
  std::vector<ExplainInput> out(predictions.size());
  for (size_t i = 0; i < predictions.size(); ++i) {
    out[i].name = predictions[i].image;
    const uint8_t* px = prepared.data_ptr<uint8_t>() + i * image_bytes;
    out[i].pixels.assign(px, px + image_bytes);
  }
  return out;
}

// `predict IMAGE...` without --out: the top classes per image and head.
int RunPredictImages(const PredictFlags& flags) {
  auto model = LoadModelFile(flags.checkpoint);
  if (!model.ok()) return FailCommand(model.status());
  std::vector<fs::path> paths(flags.images.begin(), flags.images.end());
  torch::Tensor inputs;
  auto predictions = PredictFiles(*model, paths, &inputs);
  if (!predictions.ok()) return FailCommand(predictions.status());
  const auto& heads = (*model)->config.labels.heads;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : *predictions) {
    nlohmann::json item = {{"image", p.image}};
    std::string line = p.image;
    for (size_t h = 0; h < heads.size(); ++h) {
      nlohmann::json classes = nlohmann::json::array();
      std::string text;
      for (size_t k = 0; k < p.classes[h].size() && static_cast<int>(k) < flags.top; ++k) {
        classes.push_back({{"class", p.classes[h][k].first}, {"probability", p.classes[h][k].second}});
        absl::StrAppendFormat(&text, "%s%s %.2f", k ? ", " : "", p.classes[h][k].first, p.classes[h][k].second);
      }
      item["heads"][heads[h].name] = classes;
      item["logits"][heads[h].name] = p.logits[h];
      absl::StrAppend(&line, "\n  ", heads[h].name, ": ", text);
    }
    out.push_back(item);
    if (!flags.json) std::printf("%s\n", line.c_str());
  }
  if (flags.json) std::printf("%s\n", out.dump(2).c_str());
  if (!flags.explain.empty()) {
    absl::Status s =
        WriteExplainPage(*model, ExplainInputs(*predictions, inputs), flags.explain, "atelier predict --explain");
    if (!s.ok()) return FailCommand(s);
  }
  if (!flags.dump.empty()) {
    // The exact input tensor, features and logits, for comparing with another runtime.
    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    d.insert("input", inputs);
    torch::NoGradGuard no_grad;
    d.insert("features", (*model)->Features(inputs));
    auto logits = (*model)->forward(inputs);
    c10::List<torch::Tensor> list;
    for (auto& l : logits) list.push_back(l);
    d.insert("logits", list);
    auto bytes = WriteTorchFile(c10::IValue(d));
    if (!bytes.ok()) return FailCommand(bytes.status());
    absl::Status s = WriteFileAtomically(*Env::Default(), flags.dump, *bytes);
    if (!s.ok()) return FailCommand(s);
  }
  return 0;
}

absl::Status WriteText(const fs::path& path, const std::string& text) {
  Env& env = *Env::Default();
  if (path.has_parent_path()) RETURN_IF_ERROR(env.CreateDirs(path.parent_path()));
  return WriteFileAtomically(env, path, text);
}

// What a bulk run reads, for page titles.
std::string BulkInputName(const PredictFlags& flags) {
  return !flags.data.empty() ? flags.data : !flags.folder.empty() ? flags.folder : "images";
}

int RunPredictBulk(const PredictFlags& flags) {
  auto opened = OpenInputSource(flags.data, flags.folder, std::vector<fs::path>(flags.images.begin(), flags.images.end()));
  if (!opened.ok()) return FailCommand(opened.status());
  std::unique_ptr<InputSource> source = std::move(*opened);
  auto model = LoadModelFile(flags.checkpoint);
  if (!model.ok()) return FailCommand(model.status());
  if (flags.threads > 0) torch::set_num_threads(flags.threads);
  const LabelSpace& space = (*model)->config.labels;

  std::unique_ptr<RowWriter> writer;
  if (!flags.out.empty()) {
    auto opened = OpenRowWriter(flags.out, space);
    if (!opened.ok()) return FailCommand(opened.status());
    writer = std::move(*opened);
  }
  std::optional<GroupSummary> summary;
  if (!flags.group_by.empty()) summary.emplace(flags.group_by, space);
  std::optional<Sorter> sorter;
  if (!flags.sort_into.empty()) {
    sorter.emplace(SortOptions{flags.sort_into, flags.link, flags.threshold}, space);
    if (flags.link && !flags.data.empty()) {
      std::fprintf(stderr, "atelier predict: --link: shard samples are written as files (there is nothing to link)\n");
    }
  }

  BulkPredictOptions options;
  options.decode_threads = flags.decode_threads;
  options.batch_size = flags.batch_size;
  std::optional<ExplainSample> explain;
  if (!flags.explain.empty()) explain.emplace((*model)->config, flags.explain_limit);
  options.keep_bytes = (sorter.has_value() || explain.has_value()) && !flags.data.empty();
  ProgressLine progress("predict", flags.progress || isatty(STDERR_FILENO), source->total());
  options.on_progress = [&](int64_t done) { progress.Update(done); };
  int64_t errors = 0;
  auto rows = PredictAll(*model, *source, options, [&](const BulkInput& input) -> absl::Status {
    if (!input.row.error.empty()) ++errors;
    if (writer) RETURN_IF_ERROR(writer->Write(input.row));
    if (summary) summary->Add(input.row);
    if (sorter) RETURN_IF_ERROR(sorter->Place(input.row, input.file, input.bytes, input.extension));
    if (explain) explain->Add(input);
    return absl::OkStatus();
  });
  if (!rows.ok()) return FailCommand(rows.status());
  progress.Update(*rows, /*final=*/true);
  if (writer) {
    if (absl::Status s = writer->Close(); !s.ok()) return FailCommand(s);
  }
  std::string done = absl::StrCat("predict: ", *rows, " rows, ", errors, " errors");
  if (!flags.out.empty()) absl::StrAppend(&done, "; rows in ", flags.out);
  if (sorter) absl::StrAppend(&done, "; ", sorter->placed(), " files under ", flags.sort_into);
  if (explain) {
    const std::string title = absl::StrCat("atelier predict --explain: the first ", explain->inputs().size(),
                                           " readable inputs of ", BulkInputName(flags));
    if (absl::Status s = WriteExplainPage(*model, explain->inputs(), flags.explain, title); !s.ok()) {
      return FailCommand(s);
    }
    absl::StrAppend(&done, "; Grad-CAM of ", explain->inputs().size(), " inputs in ", flags.explain);
  }
  const dataset::ReadReport report = source->report();
  if (report.skipped() > 0 || !report.bad_shards.empty()) absl::StrAppend(&done, "; data: ", report.Summary());
  if (summary) {
    std::printf("%s", summary->Table().c_str());
    std::string csv = flags.summary_csv, html = flags.summary_html;
    if (csv.empty() && !flags.out.empty()) csv = flags.out + ".summary.csv";
    if (html.empty() && !flags.out.empty()) html = flags.out + ".summary.html";
    if (!csv.empty()) {
      if (absl::Status s = WriteText(csv, summary->Csv()); !s.ok()) return FailCommand(s);
      absl::StrAppend(&done, "; summary in ", csv);
    }
    if (!html.empty()) {
      const std::string title = absl::StrCat("atelier predict: ", BulkInputName(flags));
      if (absl::Status s = WriteText(html, summary->Html(title)); !s.ok()) return FailCommand(s);
      absl::StrAppend(&done, ", ", html);
    }
  }
  std::fprintf(stderr, "%s\n", done.c_str());
  return 0;
}

}  // namespace

CLI::App* AddPredictCommand(CLI::App& app, PredictFlags* f) {
  auto* predict = app.add_subcommand("predict", "classify images, a folder tree or a whole dataset with a model");
  predict->add_option("--checkpoint", f->checkpoint, "model.pt, checkpoint file or run directory")->required();
  AddBulkInputFlags(predict, f);
  predict->add_flag("--json", f->json, "print JSON (with the logits) instead of text (IMAGE... without --out)");
  predict->add_option("--top", f->top, "classes shown per head (IMAGE... without --out)");
  auto* explain = predict->add_option(
      "--explain", f->explain,
      "write an HTML page with each image's Grad-CAM heatmap per head (bulk runs: the first --explain-limit inputs)");
  predict->add_option("--explain-limit", f->explain_limit, "with --explain in a bulk run: inputs on the page")
      ->check(CLI::Range(1, 10000))
      ->needs(explain);
  predict->add_option("--dump-tensors", f->dump,
                      "write {input, features, logits} with torch::pickle_save (IMAGE... without --out)");
  predict->add_option("--out", f->out, "one row per input: FILE.jsonl or FILE.csv")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            absl::Status s = CheckRowFileExtension(value);
            return s.ok() ? "" : std::string(s.message());
          },
          "FILE.jsonl|FILE.csv"));
  auto* group_by = predict->add_option(
      "--group-by", f->group_by,
      "summarise the predictions per value of FIELD (a label, a top-level sample field, or extra.NAME); repeatable")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  predict->add_option("--summary-csv", f->summary_csv, "the --group-by summary as CSV (default: OUT.summary.csv)")
      ->needs(group_by);
  predict->add_option("--summary-html", f->summary_html,
                      "the --group-by summary as an HTML page (default: OUT.summary.html)")
      ->needs(group_by);
  auto* sort_into = predict->add_option("--sort-into", f->sort_into,
                                        "copy each input into DIR/<head>/<class>/ (never overwriting)");
  predict->add_flag("--link", f->link, "with --sort-into: hard links instead of copies")->needs(sort_into);
  predict->add_option("--threshold", f->threshold,
                      "with --sort-into: a top probability below P goes to DIR/<head>/_unsure/")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(sort_into);
  return predict;
}

int RunPredictCommand(const PredictFlags& f) {
  const bool has_input = !f.images.empty() || !f.data.empty() || !f.folder.empty();
  const bool bulk_output = !f.out.empty() || !f.group_by.empty() || !f.sort_into.empty();
  if (!has_input) return UsageError("give image files, --data ROOT or --folder DIR");
  if ((!f.data.empty() || !f.folder.empty()) && !bulk_output && f.explain.empty()) {
    return UsageError(
        absl::StrCat(f.data.empty() ? "--folder" : "--data", " needs --out, --group-by, --sort-into or --explain"));
  }
  if (!bulk_output && f.data.empty() && f.folder.empty()) return RunPredictImages(f);
  if (!f.dump.empty()) return UsageError("--dump-tensors is for IMAGE... without --out, --group-by or --sort-into");
  return RunPredictBulk(f);
}

}  // namespace atelier::trainer
