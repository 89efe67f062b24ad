// `atelier predict`: the command line of prediction (docs/predict.md).
//
//   predict --checkpoint CK IMAGE...            per image and head, the top classes
//           [--explain PAGE.html]               and their Grad-CAM heatmaps (grad_cam.h)
//   predict --checkpoint CK (--data ROOT | --folder DIR | IMAGE...)
//           [--out FILE.jsonl|FILE.csv] [--group-by FIELD]... [--sort-into DIR]
//           [--explain PAGE.html [--explain-limit N]]
//                                               one row per input, streamed (bulk_predict.h);
//                                               Grad-CAM of the first N readable inputs
//
// AddPredictCommand declares the subcommand and its flags (stored in *flags,
// which must outlive parsing); RunPredictCommand runs it after parsing and
// returns the exit code (0; 1 error naming the input; 2 bad command line).
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "atelier/trainer/command_support.h"

namespace atelier::trainer {

struct PredictFlags : BulkInputFlags {
  std::string checkpoint;
  bool json = false;
  int top = 3;
  std::string dump;
  std::string explain;    // Grad-CAM page (explain_set.h)
  int explain_limit = 32;  // bulk runs: inputs on the page
  // Bulk prediction.
  std::string out;
  std::vector<std::string> group_by;
  std::string summary_csv, summary_html;
  std::string sort_into;
  bool link = false;
  double threshold = 0;
};

CLI::App* AddPredictCommand(CLI::App& app, PredictFlags* flags);
int RunPredictCommand(const PredictFlags& flags);

}  // namespace atelier::trainer
