#include "cli/cli.hpp"

#include <CLI/CLI.hpp>

#include "cli/admin_cmds.hpp"
#include "cli/health_cmd.hpp"
#include "cli/serve_cmd.hpp"
#include "cli/sim_cmd.hpp"

namespace qcc::cli {

int run(int argc, char** argv) {
    CLI::App app{"qcc: a fast, resilient gateway for Claude Code"};
    app.set_version_flag("--version", "qcc 0.1.0");
    app.require_subcommand(1);
    add_serve_command(app);
    add_sim_command(app);
    add_admin_commands(app);
    add_health_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return 0;
}

}  // namespace qcc::cli
