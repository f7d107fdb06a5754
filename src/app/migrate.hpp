// `qcc migrate`: copies a whole store into an empty one (SQLite to PostgreSQL, or back).
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::app {

void add_migrate_command(CLI::App& app);

}  // namespace qcc::app
