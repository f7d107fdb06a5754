// `qcc config export [FILE]` / `qcc config import FILE [--dry-run]`: endpoints as
// declarative TOML, through the admin API. Credentials never leave the store.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_config_commands(CLI::App& app);

}  // namespace qcc::cli
