#include "cli/config_cmds.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "cli/command_util.hpp"
#include "cli/config_io.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct ConfigOptions {
    AdminTarget target;
    std::string file;
    bool dry_run = false, json = false;
};

/// The endpoints on the server, or the exit code of the failure (already reported).
std::optional<std::vector<config::EndpointConfig>> fetch_endpoints(const AdminTarget& t,
                                                                   int* exit_code) {
    auto r = call_json(t, "GET", "/api/endpoints");
    *exit_code = r.exit_code;
    if (r.exit_code != 0) return std::nullopt;
    std::vector<config::EndpointConfig> out;
    for (const auto& v : json_arr(r.doc.as_object(), "endpoints")) {
        if (v.is_object()) out.push_back(endpoint_from_json(v.as_object()));
    }
    return out;
}

int run_export(const ConfigOptions& o) {
    int exit_code = 0;
    const auto endpoints = fetch_endpoints(o.target, &exit_code);
    if (!endpoints) return exit_code;
    const auto text = endpoints_to_toml(*endpoints);
    if (o.file.empty() || o.file == "-") {
        std::cout << text;
        return kExitOk;
    }
    std::ofstream out(o.file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        std::cerr << "qcc: " << o.file << ": cannot write\n";
        return kExitFailed;
    }
    std::cerr << "exported " << endpoints->size() << " endpoint"
              << (endpoints->size() == 1 ? "" : "s") << " to " << o.file
              << " (without credentials)\n";
    return kExitOk;
}

std::string_view kind_name(ImportAction::Kind k) {
    switch (k) {
        case ImportAction::Kind::kCreate:
            return "create";
        case ImportAction::Kind::kUpdate:
            return "update";
        case ImportAction::Kind::kUnchanged:
            break;
    }
    return "unchanged";
}

int run_import(const ConfigOptions& o) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
        std::cerr << "qcc: " << o.file << ": cannot open: " << std::strerror(errno) << "\n";
        return kExitUsage;
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto entries = parse_import(text.str(), o.file);  // ConfigError → exit 2 (guarded)
    int exit_code = 0;
    const auto existing = fetch_endpoints(o.target, &exit_code);
    if (!existing) return exit_code;
    const auto plan = plan_import(entries, *existing);

    json::array report;
    std::size_t created = 0, updated = 0, unchanged = 0;
    for (const auto& a : plan) {
        if (a.kind == ImportAction::Kind::kCreate) ++created;
        if (a.kind == ImportAction::Kind::kUpdate) ++updated;
        if (a.kind == ImportAction::Kind::kUnchanged) ++unchanged;
        if (!o.dry_run && a.kind != ImportAction::Kind::kUnchanged) {
            const bool create = a.kind == ImportAction::Kind::kCreate;
            auto r =
                call_json(o.target, create ? "POST" : "PATCH",
                          create ? std::string("/api/endpoints") : endpoint_path(a.name), a.body);
            if (r.exit_code != 0) {
                std::cerr << "qcc: import stopped at endpoint " << a.name
                          << "; the endpoints before it were applied\n";
                return r.exit_code;
            }
        }
        if (o.json) {
            json::object row;
            row["name"] = a.name;
            row["action"] = kind_name(a.kind);
            json::array changes;
            for (const auto& c : a.changes) changes.emplace_back(c);
            row["changes"] = std::move(changes);
            report.push_back(std::move(row));
            continue;
        }
        switch (a.kind) {
            case ImportAction::Kind::kCreate:
                std::cout << (o.dry_run ? "would create " : "created ") << a.name << "\n";
                break;
            case ImportAction::Kind::kUpdate: {
                std::cout << (o.dry_run ? "would update " : "updated ") << a.name << ":";
                for (std::size_t i = 0; i < a.changes.size(); ++i) {
                    std::cout << (i == 0 ? " " : "; ") << a.changes[i];
                }
                std::cout << "\n";
                break;
            }
            case ImportAction::Kind::kUnchanged:
                std::cout << "unchanged " << a.name << "\n";
                break;
        }
    }
    if (o.json) {
        json::object out;
        out["dry_run"] = o.dry_run;
        out["endpoints"] = std::move(report);
        print_json(out);
    } else {
        std::cout << (o.dry_run ? "dry run: " : "") << created << " created, " << updated
                  << " updated, " << unchanged << " unchanged"
                  << (o.dry_run ? " (nothing was changed)" : "") << "\n";
    }
    return kExitOk;
}

}  // namespace

void add_config_commands(CLI::App& app) {
    auto* group = app.add_subcommand("config", "Export or import endpoints as TOML");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<ConfigOptions>();
        auto* cmd = group->add_subcommand(
            "export",
            "Write every endpoint as [[endpoints]] TOML (no credentials; use `qcc backup` for a "
            "full backup)");
        cmd->add_option("FILE", o->file, "Output file (default: standard output)");
        add_target_options(cmd, o->target);
        run_with_exit_code(cmd, [o] { return run_export(*o); });
    }
    {
        auto o = std::make_shared<ConfigOptions>();
        auto* cmd = group->add_subcommand(
            "import", "Create or update the endpoints of a TOML file (others are left alone)");
        cmd->add_option("FILE", o->file, "TOML file with [[endpoints]] (config file syntax)")
            ->required();
        cmd->add_flag("-n,--dry-run", o->dry_run, "Only print what would change");
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] { return run_import(*o); });
    }
}

}  // namespace qcc::cli
