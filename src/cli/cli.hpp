// Command-line entry point: parses argv and runs the chosen subcommand. Returns the exit code.
#pragma once

namespace qcc::cli {

int run(int argc, char** argv);

}  // namespace qcc::cli
