#include "app/serve.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <signal.h>
#include <sys/stat.h>

#include "app/gateway.hpp"
#include "cli/admin_token.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/system.hpp"
#include "config/config.hpp"
#include "sim/demo.hpp"
#include "store/secret.hpp"
#include "store/store.hpp"

namespace qcc::app {

namespace {

/// How to run this binary's commands in the lines printed at start: "qcc" when the `qcc` on PATH is
/// this binary (installed), else this binary's path (a source checkout's build/release/src/qcc).
std::string cli_command() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "qcc";
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto end = std::min(dirs.find(':', start), dirs.size());
        const auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / "qcc";
        std::error_code ignored;
        if (!candidate.parent_path().empty() && std::filesystem::exists(candidate, ignored)) {
            return std::filesystem::equivalent(candidate, self, ignored) ? "qcc" : self.string();
        }
        start = end + 1;
    }
    return self.string();
}

struct ServeOptions {
    std::string config_path;
    std::string listen;
    int workers = -1;
    bool demo = false;
};

// An admin token reachable from the network must resist guessing.
constexpr std::size_t kMinRemoteAdminToken = 16;

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

config::Config load_config(const ServeOptions& o) {
    std::string path = o.config_path;
    if (path.empty()) {
        const auto fallback = config::expand_home("~/.qcc/config.toml");
        if (std::filesystem::exists(fallback)) path = fallback;
    }
    config::Config cfg = path.empty() ? config::Config{} : config::load_file(path);
    if (path.empty()) config::apply_environment(cfg);
    if (!o.listen.empty()) {
        config::parse_listen(o.listen);  // validates; throws ConfigError with the value
        cfg.listen = o.listen;
    }
    if (o.workers >= 0) cfg.workers = o.workers;
    return cfg;
}

int serve(const ServeOptions& o) {
    // Block the stop signals before any thread starts, so only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    config::Config cfg;
    try {
        cfg = load_config(o);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: config error: " << e.what() << "\n";
        return 2;
    }
    // Thousands of streams need descriptors: take what the hard limit allows.
    const auto fd_ceiling = sys::raise_fd_limit();
    // Files QCC writes (store, keys, logs) are 0600 in 0700 directories.
    ::umask(077);
    try {
        log::init(cfg.log_level, cfg.log_format, config::expand_home(cfg.log_file));
    } catch (const std::exception& e) {
        std::cerr << "qcc: cannot open the log file " << cfg.log_file << ": " << e.what() << "\n";
        return 1;
    }

    const auto data_dir = config::expand_home(cfg.data_dir);
    const auto db_path = config::store_location(cfg, o.demo);
    std::unique_ptr<store::Store> store;
    try {
        if (store::is_postgres_url(db_path)) {
            // Every instance on the database must seal credentials with the same master key:
            // QCC_MASTER_KEY, or master.key in the data directory copied to each.
            store::StoreOptions options;
            options.secrets = std::make_shared<const store::SecretBox>(
                store::SecretBox::load_or_create(data_dir));
            store = store::open_postgres(db_path, options);
        } else {
            store = store::open_sqlite(db_path);
        }
    } catch (const std::exception& e) {
        std::cerr << "qcc: cannot open the store: " << e.what() << "\n";
        return 1;
    }

    // Demo upstreams: three simulated Anthropic endpoints and one OpenAI-compatible one on
    // loopback, no API key needed.
    std::vector<std::unique_ptr<sim::Server>> demo_servers;
    std::string demo_key;
    if (o.demo) {
        struct Profile {
            const char* name;
            int tier;
        };
        // demo-openai speaks Chat Completions: QCC translates both ways, so Claude Code cannot
        // tell it from the others.
        for (const Profile& p :
             {Profile{"fast", 1}, Profile{"flaky", 1}, Profile{"openai", 1}, Profile{"slow", 2}}) {
            auto server = sim::make_demo_server(p.name);
            config::EndpointConfig ep;
            ep.name = std::string("demo-") + p.name;
            ep.base_url = server->base_url();
            ep.api_key = "sk-ant-demo-" + std::string(p.name);
            ep.tier = p.tier;
            ep.weight = 100;
            if (std::string_view(p.name) == "openai") {
                ep.kind = config::EndpointKind::kOpenAI;
                ep.auth = config::AuthMode::kBearer;
                ep.api_key = "sk-demo-openai";
                ep.model_map = {{"*", "sim-gpt"}};
            }
            cfg.endpoints.push_back(ep);
            demo_servers.push_back(std::move(server));
        }
        demo_key = crypto::new_client_key();
        cfg.keys.push_back(config::KeyConfig{"demo", demo_key});
    }

    const auto [host, port] = config::parse_listen(cfg.listen);
    if (!is_loopback(host) && cfg.admin_token.empty()) {
        std::cerr << "qcc: refusing to listen on " << cfg.listen
                  << " without an admin token (set admin_token or QCC_ADMIN_TOKEN)\n";
        return 2;
    }
    if (!is_loopback(host) && cfg.admin_token.size() < kMinRemoteAdminToken) {
        std::cerr << "qcc: refusing to listen on " << cfg.listen << " with an admin token of "
                  << cfg.admin_token.size() << " characters: beyond loopback it must have at least "
                  << kMinRemoteAdminToken << " (e.g. `openssl rand -hex 24`)\n";
        return 2;
    }
    const bool token_in_file = cfg.admin_token.empty();
    if (cfg.admin_token.empty()) {
        // Loopback without a configured token: a generated one in the data directory (0600),
        // which the CLI on this machine reads.
        try {
            cfg.admin_token = cli::load_or_create_admin_token(data_dir);
        } catch (const std::exception& e) {
            std::cerr << "qcc: " << e.what() << "\n";
            return 1;
        }
    }
    std::unique_ptr<Gateway> gateway;
    try {
        gateway = std::make_unique<Gateway>(cfg, std::move(store));
        gateway->seed_from_config();
    } catch (const std::exception& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return 1;
    }
    std::string first_key;
    try {
        auto& st = gateway->store();
        if (o.demo && !st.get_setting("pricing.overrides")) {
            // The OpenAI demo endpoint answers as model "sim-gpt": priced so that its requests show
            // a cost like the others (a demo store only; a real target's model is priced the same
            // way).
            st.set_setting("pricing.overrides",
                           R"({"sim-gpt":{"input":1,"output":4,"cache_read":0.1}})");
        }

        bool any_key = false;
        for (const auto& k : st.list_client_keys()) any_key = any_key || !k.revoked;
        if (!any_key) {
            // First start: QCC is never an open relay, so it makes a key and shows it once.
            first_key = crypto::new_client_key();
            st.upsert_client_key("default", crypto::hash_client_key(first_key),
                                 crypto::client_key_prefix(first_key));
        }
        if (st.list_endpoints().empty()) {
            spdlog::warn(
                "no upstream endpoints configured: add [[endpoints]] to {} (see "
                "docs/configuration.md)"
                " or run `qcc serve --demo`",
                cfg.source == "<defaults>" ? config::expand_home("~/.qcc/config.toml")
                                           : cfg.source);
        }

        gateway->start();
    } catch (const std::exception& e) {
        // E.g. a shared database whose credentials were sealed with another master key.
        std::cerr << "qcc: cannot start: " << e.what() << "\n";
        if (store::is_postgres_url(db_path) &&
            std::string_view(e.what()).find("master key") != std::string_view::npos) {
            std::cerr << "qcc: every instance sharing the database needs the same master key "
                         "(QCC_MASTER_KEY, or "
                      << data_dir << "/master.key copied from the first instance)\n";
        }
        return 1;
    }
    const std::string base = "http://" + cfg.listen.substr(0, cfg.listen.rfind(':')) + ":" +
                             std::to_string(gateway->port());
    // The flag other commands need to find this server when it is not where they look by default.
    const std::string qcc = cli_command();
    const std::string listen_flag =
        o.listen.empty() ? std::string() : " --listen " + base.substr(base.find("//") + 2);
    const std::size_t workers = gateway->server().worker_count();
    spdlog::info("qcc listening on {} ({} worker{}, store {}, {})", base, workers,
                 workers == 1 ? "" : "s", store::redact_url(db_path), sys::allocator_name());
    spdlog::info(
        "file descriptors: {} → up to {} client connections, {} of them not yet "
        "authenticated (limits.*)",
        fd_ceiling, gateway->server().gate().max_open(),
        gateway->server().gate().max_unauthenticated());
    // The dashboard: where it is and what opens it.
    const std::string token_file = (std::filesystem::path(data_dir) / "admin.token").string();
    spdlog::info("dashboard: {}/ui/ (log in with the admin token{})", base,
                 token_in_file ? " in " + token_file : std::string(" (admin_token)"));
    if (!first_key.empty()) {
        std::cout << "\nCreated client key 'default' (shown once, store it now):\n  " << first_key
                  << "\n\nRun Claude Code through QCC (another terminal):\n  " << qcc << " code"
                  << listen_flag << "\nor by hand:\n  ANTHROPIC_BASE_URL=" << base
                  << " ANTHROPIC_AUTH_TOKEN=" << first_key
                  << " claude\nor for every session: " << qcc << " claude apply" << listen_flag
                  << " --key " << first_key << "\n\n"
                  << std::flush;
    } else if (!o.demo) {
        spdlog::info(
            "run Claude Code through it: {} code{} (or `{} claude apply{}` for every session, or "
            "ANTHROPIC_BASE_URL={} ANTHROPIC_AUTH_TOKEN=<a client key> claude)",
            qcc, listen_flag, qcc, listen_flag, base);
    }
    if (o.demo) {
        std::cout << "\nQCC demo on " << base << " with " << demo_servers.size()
                  << " simulated endpoints:\n";
        for (std::size_t i = 0; i < demo_servers.size(); ++i) {
            const auto& ep = cfg.endpoints[cfg.endpoints.size() - demo_servers.size() + i];
            std::cout << "  " << ep.name << " (tier " << ep.tier << ", "
                      << (ep.kind == config::EndpointKind::kOpenAI
                              ? "OpenAI Chat Completions, translated"
                              : "Anthropic Messages")
                      << ") " << ep.base_url << "\n";
        }
        std::cout << "\nClient key: " << demo_key << "\n\nStream a reply:\n  curl -N " << base
                  << "/v1/messages -H 'x-api-key: " << demo_key
                  << "' -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01'"
                     " -d '{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":200,\"stream\":true,"
                     "\"messages\":[{\"role\":\"user\",\"content\":\"Hello QCC\"}]}'\n"
                  << "\nRun Claude Code through it (another terminal):\n  " << qcc << " code"
                  << listen_flag
                  << " -p 'run `echo hello from qcc`' --allowedTools Bash\nor by hand:\n"
                  << "  ANTHROPIC_BASE_URL=" << base << " ANTHROPIC_AUTH_TOKEN=" << demo_key
                  << " claude -p 'run `echo hello from qcc`' --allowedTools Bash\n"
                  << "\nOpen the dashboard (live requests, failovers, breakers, costs):\n  " << base
                  << "/ui/  and log in with the admin token "
                  << (token_in_file ? cfg.admin_token : std::string("(admin_token)")) << "\n"
                  << "\nWatch it (another terminal):\n  " << qcc << " logs -f" << listen_flag
                  << "\n  " << qcc << " stats --by endpoint" << listen_flag << "\n  " << qcc
                  << " status" << listen_flag << "\n\n"
                  << std::flush;
    }

    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {}: draining (up to {} ms)", sig, cfg.drain_timeout.count());
    gateway->stop();
    for (auto& s : demo_servers) s->stop();
    spdlog::info("stopped");
    log::shutdown();
    spdlog::shutdown();
    return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
    auto opts = std::make_shared<ServeOptions>();
    auto* cmd = app.add_subcommand("serve", "Run the gateway in the foreground");
    cmd->add_option("-c,--config", opts->config_path,
                    "TOML bootstrap config (default: ~/.qcc/config.toml if it exists)");
    cmd->add_option("-l,--listen", opts->listen,
                    "Listen address host:port (default 127.0.0.1:7860)");
    cmd->add_option("-w,--workers", opts->workers,
                    "Worker threads (0 = one per CPU this process may use)");
    cmd->add_flag(
        "--demo", opts->demo,
        "Start four simulated endpoints on loopback (three Anthropic, one OpenAI-compatible) "
        "and route to them");
    cmd->callback([opts] { throw CLI::RuntimeError(serve(*opts)); });
}

}  // namespace qcc::app
