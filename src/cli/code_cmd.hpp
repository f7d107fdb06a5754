// `qcc code [claude args...]`: find (or start) the local QCC and run the Claude Code CLI through
// it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace qcc::cli {

/// Adds `qcc code`; it runs claude with `claude_args`, which split_code_args filled.
void add_code_command(CLI::App& app, std::shared_ptr<std::vector<std::string>> claude_args);

/// For `qcc code ...`: moves every argument after qcc code's own options (or after `--`) into
/// *claude_args and returns the argc that leaves only qcc's part (so that not even `--help` meant
/// for claude is read by qcc). Other commands: returns argc unchanged.
int split_code_args(int argc, char** argv, std::vector<std::string>* claude_args);

}  // namespace qcc::cli
