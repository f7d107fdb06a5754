// `qcc claude apply [--key K] [--settings PATH]` / `qcc claude restore [--settings PATH]`: point
// Claude Code at this QCC through ~/.claude/settings.json, and undo it.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_claude_commands(CLI::App& app);

}  // namespace qcc::cli
