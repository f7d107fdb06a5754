// `qcc sim`: runs one simulated Anthropic upstream in the foreground (demos, benchmarks).
#pragma once

namespace CLI {
class App;
}

namespace qcc::cli {

/// Registers `qcc sim --listen HOST:PORT --profile fast|slow|flaky|bench [--seed N]
/// [--allow-remote]` on `app`. The command runs until SIGINT/SIGTERM; exit code 0 on a clean stop,
/// 2 for a bad address (or a non-loopback one without --allow-remote), 1 if it cannot listen.
void add_sim_command(CLI::App& app);

}  // namespace qcc::cli
