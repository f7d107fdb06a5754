// `qcc stats [--window 24h] [--by endpoint|model|key|session] [--bucket 1h]`:
// per-group request statistics from GET /api/stats.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_stats_command(CLI::App& app);

}  // namespace qcc::cli
