// Management commands that work on the store directly (settings, operator release/quarantine,
// state-change events). A running server picks every change up within 1 s.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_admin_commands(CLI::App& app);

}  // namespace qcc::cli
