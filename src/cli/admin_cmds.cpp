#include "cli/admin_cmds.hpp"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <boost/json.hpp>

#include "config/config.hpp"
#include "proxy/gateway.hpp"
#include "proxy/policy.hpp"
#include "store/store.hpp"

namespace qcc::cli {

namespace {

struct StoreOptions {
    std::string config_path;
    std::string data_dir;
    bool json = false;
    bool demo = false;
};

/// Exit codes as for every management command: 0 ok, 1 runtime failure (store), 2 usage or
/// validation error, 4 not found.
constexpr int kExitFailure = 1, kExitUsage = 2, kExitNotFound = 4;

std::unique_ptr<store::Store> open_store(const StoreOptions& o) {
    std::string data_dir = o.data_dir;
    if (data_dir.empty()) {
        std::string path = o.config_path;
        if (path.empty()) {
            const auto fallback = config::expand_home("~/.qcc/config.toml");
            if (std::filesystem::exists(fallback)) path = fallback;
        }
        data_dir = path.empty() ? config::Config{}.data_dir : config::load_file(path).data_dir;
    }
    config::Config cfg;
    cfg.data_dir = data_dir;
    const auto db = config::sqlite_store_path(cfg, o.demo);
    if (!std::filesystem::exists(db)) {
        throw std::runtime_error("no QCC store at " + db +
                                 " (run `qcc serve` once, or pass --data-dir / --config)");
    }
    return store::open_sqlite(db);
}

void add_store_options(CLI::App* cmd, StoreOptions& o) {
    cmd->add_option("-c,--config", o.config_path, "TOML config whose data_dir holds the store");
    cmd->add_option("--data-dir", o.data_dir, "Data directory (default: from the config, ~/.qcc)");
    cmd->add_flag("--demo", o.demo, "Use the store of `qcc serve --demo`");
}

int guarded(const std::function<int()>& f) {
    try {
        return f();
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: config error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return kExitFailure;
    }
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void add_settings(CLI::App& app) {
    auto* cmd =
        app.add_subcommand("settings", "Show or change runtime settings (SPEC §4-§7 knobs)");
    cmd->require_subcommand(1);
    auto o = std::make_shared<StoreOptions>();

    auto* list = cmd->add_subcommand("list", "Every setting with its value and default");
    add_store_options(list, *o);
    list->add_flag("--json", o->json, "JSON output");
    list->callback([o] {
        throw CLI::RuntimeError(guarded([&] {
            auto st = open_store(*o);
            boost::json::array rows;
            for (const auto& s : proxy::known_settings()) {
                const auto stored = st->get_setting(s.key);
                const std::string value = stored ? *stored : std::string(s.default_value);
                if (o->json) {
                    rows.push_back({{"key", s.key},
                                    {"value", value},
                                    {"default", s.default_value},
                                    {"set", stored.has_value()},
                                    {"description", s.doc}});
                } else {
                    std::cout << std::left << std::setw(30) << s.key << std::setw(12) << value
                              << (stored ? "" : "(default) ") << s.doc << "\n";
                }
            }
            if (o->json) std::cout << boost::json::serialize(rows) << "\n";
            return 0;
        }));
    });

    auto key = std::make_shared<std::string>();
    auto value = std::make_shared<std::string>();
    auto* get = cmd->add_subcommand("get", "Print one setting's value");
    add_store_options(get, *o);
    get->add_option("KEY", *key, "Setting key")->required();
    get->callback([o, key] {
        throw CLI::RuntimeError(guarded([&] {
            for (const auto& s : proxy::known_settings()) {
                if (s.key != *key) continue;
                auto stored = open_store(*o)->get_setting(*key);
                std::cout << (stored ? *stored : std::string(s.default_value)) << "\n";
                return 0;
            }
            std::cerr << "qcc: unknown setting '" << *key << "' (see `qcc settings list`)\n";
            return kExitNotFound;
        }));
    });

    auto* set =
        cmd->add_subcommand("set", "Change a setting; a running server applies it within 1 s");
    add_store_options(set, *o);
    set->add_option("KEY", *key, "Setting key")->required();
    set->add_option("VALUE", *value, "New value")->required();
    set->callback([o, key, value] {
        throw CLI::RuntimeError(guarded([&] {
            if (auto err = proxy::validate_setting(*key, *value); !err.empty()) {
                std::cerr << "qcc: " << err << "\n";
                return kExitUsage;
            }
            open_store(*o)->set_setting(*key, *value);
            std::cout << *key << " = " << *value << "\n";
            return 0;
        }));
    });
}

void add_endpoint_actions(CLI::App& app) {
    auto* cmd = app.add_subcommand("endpoint", "Operator actions on an endpoint");
    cmd->require_subcommand(1);
    auto o = std::make_shared<StoreOptions>();
    auto name = std::make_shared<std::string>();
    for (const auto& [verb, prefix, help] :
         {std::tuple{"release", proxy::kReleaseCommandPrefix,
                     "Release a quarantined endpoint and reset its breaker"},
          std::tuple{"quarantine", proxy::kQuarantineCommandPrefix,
                     "Mark an endpoint failed: no traffic until released or a check passes"}}) {
        auto* sub = cmd->add_subcommand(verb, help);
        add_store_options(sub, *o);
        sub->add_option("NAME", *name, "Endpoint name")->required();
        const std::string verb_s = verb;
        const std::string prefix_s(prefix);
        sub->callback([o, name, verb_s, prefix_s] {
            throw CLI::RuntimeError(guarded([&] {
                auto st = open_store(*o);
                bool found = false;
                for (const auto& e : st->list_endpoints()) found = found || e.config.name == *name;
                if (!found) {
                    std::cerr << "qcc: no endpoint named '" << *name << "'\n";
                    return kExitNotFound;
                }
                st->set_setting(prefix_s + *name, std::to_string(unix_ms_now()));
                std::cout << verb_s << " of " << *name
                          << " requested; a running QCC applies it within 1 s\n";
                return 0;
            }));
        });
    }
}

void add_events(CLI::App& app) {
    auto o = std::make_shared<StoreOptions>();
    auto endpoint = std::make_shared<std::string>();
    auto limit = std::make_shared<std::size_t>(50);
    auto* cmd = app.add_subcommand(
        "events", "Health state changes: breaker, cooldown, quarantine, release, re-pin");
    add_store_options(cmd, *o);
    cmd->add_option("--endpoint", *endpoint, "Only this endpoint");
    cmd->add_option("-n,--limit", *limit, "How many (newest first)")->check(CLI::Range(1, 100000));
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o, endpoint, limit] {
        throw CLI::RuntimeError(guarded([&] {
            const auto events = open_store(*o)->recent_events(*limit, *endpoint);
            boost::json::array rows;
            for (const auto& e : events) {
                if (o->json) {
                    rows.push_back({{"id", e.id},
                                    {"ts_unix_ms", e.ts_unix_ms},
                                    {"endpoint", e.endpoint},
                                    {"kind", e.kind},
                                    {"detail", e.detail}});
                    continue;
                }
                const std::time_t t = static_cast<std::time_t>(e.ts_unix_ms / 1000);
                std::tm tm{};
                localtime_r(&t, &tm);
                std::cout << std::put_time(&tm, "%Y-%m-%d %H:%M:%S") << "  " << std::left
                          << std::setw(16) << e.endpoint << std::setw(18) << e.kind << e.detail
                          << "\n";
            }
            if (o->json) std::cout << boost::json::serialize(rows) << "\n";
            if (!o->json && events.empty()) std::cout << "no events\n";
            return 0;
        }));
    });
}

void add_checks(CLI::App& app) {
    auto o = std::make_shared<StoreOptions>();
    auto endpoint = std::make_shared<std::string>();
    auto limit = std::make_shared<std::size_t>(20);
    auto* cmd = app.add_subcommand("checks", "Stored health-check history (newest first)");
    add_store_options(cmd, *o);
    cmd->add_option("--endpoint", *endpoint, "Only this endpoint");
    cmd->add_option("-n,--limit", *limit, "How many")->check(CLI::Range(1, 100000));
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o, endpoint, limit] {
        throw CLI::RuntimeError(guarded([&] {
            const auto checks = open_store(*o)->recent_health_checks(*limit, *endpoint);
            boost::json::array rows;
            for (const auto& c : checks) {
                if (o->json) {
                    rows.push_back({{"ts_unix_ms", c.ts_unix_ms},
                                    {"endpoint", c.endpoint},
                                    {"method", c.method},
                                    {"result", c.result},
                                    {"valid", c.valid},
                                    {"score", c.score},
                                    {"latency_ms", c.latency_ms},
                                    {"model", c.model},
                                    {"error", c.error}});
                    continue;
                }
                const std::time_t t = static_cast<std::time_t>(c.ts_unix_ms / 1000);
                std::tm tm{};
                localtime_r(&t, &tm);
                std::cout << std::put_time(&tm, "%Y-%m-%d %H:%M:%S") << "  " << std::left
                          << std::setw(16) << c.endpoint << std::setw(13) << c.method
                          << std::setw(8) << c.result << "score " << std::setw(4) << c.score
                          << std::setw(9) << (std::to_string(c.latency_ms) + " ms") << c.error
                          << "\n";
            }
            if (o->json) std::cout << boost::json::serialize(rows) << "\n";
            if (!o->json && checks.empty()) std::cout << "no health checks recorded\n";
            return 0;
        }));
    });
}

}  // namespace

void add_admin_commands(CLI::App& app) {
    add_settings(app);
    add_endpoint_actions(app);
    add_events(app);
    add_checks(app);
}

}  // namespace qcc::cli
