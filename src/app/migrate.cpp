#include "app/migrate.hpp"

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "config/config.hpp"
#include "proxy/policy.hpp"
#include "store/copy.hpp"
#include "store/secret.hpp"
#include "store/store.hpp"

namespace qcc::app {
namespace {

struct MigrateOptions {
    std::string from, to, config_path;
};

// "sqlite:PATH" or a plain path = an SQLite file; postgres://… as is.
std::string sqlite_path(const std::string& location) {
    if (location.starts_with("sqlite:")) return config::expand_home(location.substr(7));
    return config::expand_home(location);
}

std::unique_ptr<store::Store> open_location(const std::string& location,
                                            const std::shared_ptr<const store::SecretBox>& box,
                                            bool must_exist) {
    store::StoreOptions options;
    options.secrets = box;
    if (store::is_postgres_url(location)) return store::open_postgres(location, options);
    const auto path = sqlite_path(location);
    if (must_exist && !std::filesystem::exists(path)) {
        throw std::runtime_error("no SQLite store at " + path);
    }
    return store::open_sqlite(path, options);
}

int migrate(const MigrateOptions& o) {
    if (o.from == o.to) {
        std::cerr << "qcc migrate: --from and --to name the same store\n";
        return 2;
    }
    config::Config cfg;
    try {
        if (!o.config_path.empty()) cfg = config::load_file(o.config_path);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: config error: " << e.what() << "\n";
        return 2;
    }
    // One master key for both sides: QCC_MASTER_KEY, or master.key beside the SQLite file (or in
    // the data directory when both sides are PostgreSQL). Instances on the target need the same.
    std::string key_dir = config::expand_home(cfg.data_dir);
    for (const auto* side : {&o.from, &o.to}) {
        if (!store::is_postgres_url(*side)) {
            auto dir = std::filesystem::path(sqlite_path(*side)).parent_path();
            key_dir = dir.empty() ? "." : dir.string();
            break;
        }
    }
    try {
        const auto box =
            std::make_shared<const store::SecretBox>(store::SecretBox::load_or_create(key_dir));
        auto from = open_location(o.from, box, true);
        auto to = open_location(o.to, box, false);
        std::vector<std::string> settings;
        for (const auto& s : proxy::known_settings()) settings.emplace_back(s.key);
        std::cout << "copying " << store::redact_url(o.from) << " → " << store::redact_url(o.to)
                  << "\n";
        const auto report = store::copy_store(*from, *to, settings, [](const std::string& line) {
            std::cout << "  " << line << "\n" << std::flush;
        });
        bool same = true;
        std::cout << fmt::format("\n  {:<18} {:>10} {:>10}\n", "TABLE", "SOURCE", "TARGET");
        for (const auto& t : report) {
            std::cout << fmt::format("  {:<18} {:>10} {:>10}{}\n", t.name, t.source, t.target,
                                     t.source == t.target ? "" : "  MISMATCH");
            same = same && t.source == t.target;
        }
        if (!same) {
            std::cerr << "qcc migrate: row counts differ (see MISMATCH above)\n";
            return 1;
        }
        std::cout << "\nverified: every row count matches. Credentials are sealed with the master "
                     "key in "
                  << key_dir
                  << "/master.key (or QCC_MASTER_KEY): give every instance on the target the "
                     "same key.\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "qcc migrate: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

void add_migrate_command(CLI::App& app) {
    auto o = std::make_shared<MigrateOptions>();
    auto* cmd = app.add_subcommand(
        "migrate",
        "Copy a whole store into an empty one (stop the servers first): endpoints with their "
        "credentials, keys, settings, state, history, the request log; row counts verified");
    cmd->add_option("--from", o->from, "Source: sqlite:PATH (or a path) or postgres://…")
        ->required();
    cmd->add_option("--to", o->to, "Target: postgres://… or sqlite:PATH (must be empty)")
        ->required();
    cmd->add_option("-c,--config", o->config_path,
                    "TOML config (its data_dir holds the master key when both sides are "
                    "PostgreSQL)");
    cmd->callback([o] { throw CLI::RuntimeError(migrate(*o)); });
}

}  // namespace qcc::app
