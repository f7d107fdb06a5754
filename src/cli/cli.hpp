// Command-line entry point: parses argv and runs the chosen subcommand. Returns the exit code.
#pragma once
#include <functional>

namespace CLI {
class App;
}

namespace qcc::cli {

/// Builds the management commands, lets `more` add commands of higher layers (the binary adds
/// `serve`), parses argv and runs the chosen subcommand.
int run(int argc, char** argv, const std::function<void(CLI::App&)>& more = {});

}  // namespace qcc::cli
