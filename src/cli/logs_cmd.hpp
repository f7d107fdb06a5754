// `qcc logs [-f] [--limit N] [--endpoint E] [--errors]`: the newest requests from
// GET /api/requests, then (-f) the live `request` and `state` events of GET /api/events.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_logs_command(CLI::App& app);

/// Makes a `qcc logs -f` running in this process return as if Ctrl-C was pressed (tests).
void stop_following_logs();

}  // namespace qcc::cli
