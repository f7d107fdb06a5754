// `qcc endpoint add|list|show|set|enable|disable|rm`: thin clients of the admin API's
// /api/endpoints routes. They join the `endpoint` group that admin_cmds.cpp creates for the
// store-direct release/quarantine actions.
#pragma once
#include <CLI/CLI.hpp>

namespace qcc::cli {

/// Adds the subcommands to app's `endpoint` group (created when it does not exist yet).
void add_endpoint_commands(CLI::App& app);

}  // namespace qcc::cli
