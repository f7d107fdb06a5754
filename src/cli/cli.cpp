#include "cli/cli.hpp"

#include <CLI/CLI.hpp>

namespace qcc::cli {

int run(int argc, char** argv) {
    CLI::App app{"qcc: a fast, resilient gateway for Claude Code"};
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    return 0;
}

}  // namespace qcc::cli
