// atelier-pull (`atelier pull`): download a trained checkpoint from a
// coordinator over gRPC, resumably, sha256-verified, never leaving a partial
// file under the final name.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "atelier/cli/checkpoint_puller.h"
#include "atelier/common/command_line.h"

int main(int argc, char** argv) {
  atelier::cli::PullRequest request;
  CLI::App app{"atelier pull: download a checkpoint from a coordinator (resumable, sha256-verified)"};
  atelier::Conventions(app, "pull");
  app.add_option("--coordinator", request.coordinator, "coordinator address, HOST:PORT")
      ->required()
      ->check(atelier::ListenAddress());
  app.add_option("--run", request.run, "training run name (see `atelier status`)")->required();
  app.add_option("--which", request.which, "latest, best, step-N, model.pt or a checkpoint file name");
  app.add_option("-o,--output", request.output, "file to write")->required();
  app.add_option("--chunk-bytes", request.chunk_bytes, "bytes per streamed chunk (0: server default)")
      ->check(CLI::Range(0, 4 << 20));
  if (auto exit = atelier::Parse(app, argc, argv)) return *exit;

  const bool tty = isatty(STDERR_FILENO);
  auto result = atelier::cli::PullCheckpoint(request, [tty](int64_t done, int64_t total) {
    if (tty && total > 0) std::fprintf(stderr, "\rpull: %3d%% (%lld / %lld bytes)", static_cast<int>(100 * done / total),
                                       static_cast<long long>(done), static_cast<long long>(total));
  });
  if (tty) std::fprintf(stderr, "\n");
  if (!result.ok()) {
    std::cerr << "atelier pull: " << result.status().message() << "\n";
    return 1;
  }
  std::cout << request.output << ": " << result->name << ", " << result->size_bytes << " bytes, sha256 "
            << result->sha256 << (result->resumed_from > 0 ? " (resumed)" : "") << "\n";
  return 0;
}
