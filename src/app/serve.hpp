// `qcc serve`: runs the gateway in the foreground until SIGINT/SIGTERM.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::app {

void add_serve_command(CLI::App& app);

}  // namespace qcc::app
