// The qcc binary: the management commands live in src/cli; `serve` (the composition root) is
// added here, the one place that may see every module.
#include "app/migrate.hpp"
#include "app/serve.hpp"
#include "cli/cli.hpp"

int main(int argc, char** argv) {
    return qcc::cli::run(argc, argv, [](CLI::App& app) {
        qcc::app::add_serve_command(app);
        qcc::app::add_migrate_command(app);
    });
}
