#include "atelier/common/command_line.h"

#include <cstdlib>
#include <iostream>

#include "atelier/common/listen_address.h"

#ifndef ATELIER_VERSION
#error "ATELIER_VERSION must be defined by the build"
#endif

namespace atelier {
namespace {

// Every option of `app` and its subcommands has a description.
const CLI::Option* UndescribedOption(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_description().empty()) return option;
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (const CLI::Option* option = UndescribedOption(*sub)) return option;
  }
  return nullptr;
}

void AddVersionFlags(CLI::App& app, const std::string& version) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_option_no_throw("--version") == nullptr) {
      sub->set_version_flag("--version", version, "print the version and exit");
    }
    AddVersionFlags(*sub, version);
  }
}

}  // namespace

const char* Version() { return ATELIER_VERSION; }

void Conventions(CLI::App& app, const std::string& subcommand) {
  const std::string name = subcommand.empty() ? "atelier" : "atelier " + subcommand;
  app.name(name);
  app.set_version_flag("--version", name + " " + Version(), "print the version and exit");
  app.option_defaults()->always_capture_default();
}

std::optional<int> Parse(CLI::App& app, int argc, const char* const* argv) {
  if (const CLI::Option* option = UndescribedOption(app); option != nullptr) {
    std::cerr << app.get_name() << ": internal error: option " << option->get_name() << " has no description\n";
    return 70;
  }
  AddVersionFlags(app, app.get_name() + " " + Version());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version, or the error and a hint
    return code == 0 ? 0 : kUsageError;
  }
  return std::nullopt;
}

CLI::Validator ListenAddress() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value.empty()) return "";
        auto parsed = ParseListenAddress(value);
        return parsed.ok() ? "" : std::string(parsed.status().message());
      },
      "HOST:PORT");
}

}  // namespace atelier
