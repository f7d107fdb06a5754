// `qcc key create|list|revoke`: client keys through the admin API's /api/keys.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_key_commands(CLI::App& app);

}  // namespace qcc::cli
