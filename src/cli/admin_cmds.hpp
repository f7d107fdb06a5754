// Management commands for runtime settings, operator release/quarantine of an endpoint, and the
// state-change and health-check history — all through the running server's admin API.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_admin_commands(CLI::App& app);

}  // namespace qcc::cli
