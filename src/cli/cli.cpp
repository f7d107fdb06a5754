#include "cli/cli.hpp"

#include <CLI/CLI.hpp>

#include "cli/admin_client.hpp"
#include "cli/admin_cmds.hpp"
#include "cli/claude_cmd.hpp"
#include "cli/config_cmds.hpp"
#include "cli/endpoint_cmds.hpp"
#include "cli/health_cmd.hpp"
#include "cli/key_cmds.hpp"
#include "cli/logs_cmd.hpp"
#include "cli/sim_cmd.hpp"
#include "cli/stats_cmd.hpp"
#include "common/version.hpp"

namespace qcc::cli {

int run(int argc, char** argv, const std::function<void(CLI::App&)>& more) {
    CLI::App app{"qcc: a fast, resilient gateway for Claude Code"};
    app.set_version_flag("--version", "qcc " + std::string(kVersion));
    app.require_subcommand(1);
    if (more) more(app);
    add_sim_command(app);
    add_admin_commands(app);  // creates the `endpoint` group (release, quarantine)
    add_endpoint_commands(app);
    add_key_commands(app);
    add_health_command(app);
    add_stats_command(app);
    add_logs_command(app);
    add_config_commands(app);
    add_claude_commands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        return e.get_exit_code();  // a command's own exit code (it printed what went wrong)
    } catch (const CLI::ParseError& e) {
        // Help/version exit 0; every other parse problem is a usage error (contract: exit 2).
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }
    return 0;
}

}  // namespace qcc::cli
