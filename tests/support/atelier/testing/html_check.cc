#include "atelier/testing/html_check.h"

namespace atelier::testing {

CommandResult CheckHtmlPage(const std::filesystem::path& page) {
  return RunCommand({"/usr/bin/python3", SourcePath("tests/support/check_html_page.py").string(), page.string()});
}

}  // namespace atelier::testing
