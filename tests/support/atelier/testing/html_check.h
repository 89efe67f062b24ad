// Checks an HTML page that atelier writes, as a user's browser would see it:
// self-contained (no external resource), rendered by headless Chromium with
// every host unresolvable, and the screenshot not blank. Runs
// tests/support/check_html_page.py (Chromium comes from scripts/apt-packages.txt).
#pragma once

#include <filesystem>

#include "atelier/testing/subprocess.h"

namespace atelier::testing {

// exit_code 0 when the page passes; otherwise `output` names each problem.
CommandResult CheckHtmlPage(const std::filesystem::path& page);

}  // namespace atelier::testing
