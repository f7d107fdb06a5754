// `qcc health [ENDPOINT...]`: runs health checks now through the running server's admin API.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_health_command(CLI::App& app);

}  // namespace qcc::cli
