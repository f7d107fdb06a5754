#include "cli/sim_cmd.hpp"

#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <pthread.h>
#include <signal.h>

#include "sim/demo.hpp"

namespace qcc::cli {
namespace {

struct SimOptions {
    std::string listen = "127.0.0.1:8790";
    std::string profile = "fast";
    std::uint64_t seed = sim::kDefaultDemoSeed;
    bool allow_remote = false;
};

struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};

// "127.0.0.1:8790", "localhost:8790" or "[::1]:8790".
std::optional<HostPort> parse_listen(const std::string& text) {
    HostPort hp;
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        hp.host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) return std::nullopt;
        hp.host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (hp.host.empty() || port_text.empty() || ec != std::errc() ||
        ptr != port_text.data() + port_text.size() || port > 65535) {
        return std::nullopt;
    }
    hp.port = static_cast<std::uint16_t>(port);
    return hp;
}

int run_sim(const SimOptions& opts) {
    auto hp = parse_listen(opts.listen);
    if (!hp) {
        std::cerr << "qcc sim: --listen must be HOST:PORT (e.g. 127.0.0.1:8790), got '"
                  << opts.listen << "'\n";
        return 2;
    }
    if (hp->host == "localhost") hp->host = "127.0.0.1";
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(hp->host, ec);
    if (ec) {
        std::cerr << "qcc sim: '" << hp->host << "' is not an IP address\n";
        return 2;
    }
    if (!addr.is_loopback() && !opts.allow_remote) {
        std::cerr << "qcc sim: refusing to listen on non-loopback address " << hp->host
                  << " (pass --allow-remote to do it anyway)\n";
        return 2;
    }

    // Block the stop signals before the server thread starts so that it inherits the mask and
    // only this thread receives them, through sigwait.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

    std::unique_ptr<sim::Server> server;
    try {
        server = sim::make_demo_server(opts.profile, hp->port, hp->host, opts.seed);
    } catch (const std::exception& e) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        std::cerr << "qcc sim: cannot listen on " << opts.listen << ": " << e.what() << "\n";
        return 1;
    }
    std::cout << "qcc sim: " << opts.profile << " listening on " << server->base_url() << std::endl;

    int received = 0;
    sigwait(&stop_signals, &received);
    server->stop();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    std::cout << "qcc sim: stopped after " << server->requests_served() << " requests" << std::endl;
    return 0;
}

}  // namespace

void add_sim_command(CLI::App& app) {
    auto opts = std::make_shared<SimOptions>();
    CLI::App* cmd = app.add_subcommand(
        "sim",
        "Run a simulated upstream (Anthropic, or OpenAI-compatible with --profile openai) in the "
        "foreground (demos, benchmarks)");
    cmd->add_option("--listen", opts->listen, "HOST:PORT to listen on (loopback only by default)")
        ->capture_default_str();
    cmd->add_option("--profile", opts->profile,
                    "Behaviour: fast, slow, flaky, bench, overloaded, cutter, ratelimited, "
                    "ratelimited-once or openai (an OpenAI Chat Completions server)")
        ->check(CLI::IsMember(
            std::vector<std::string>(sim::kDemoProfiles.begin(), sim::kDemoProfiles.end())))
        ->capture_default_str();
    cmd->add_option("--seed", opts->seed, "Seed for the flaky profile's fault choices");
    cmd->add_flag("--allow-remote", opts->allow_remote,
                  "Allow listening on a non-loopback address");
    cmd->callback([opts] {
        int rc = run_sim(*opts);
        if (rc != 0) throw CLI::RuntimeError(rc);
    });
}

}  // namespace qcc::cli
