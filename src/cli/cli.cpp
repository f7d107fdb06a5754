#include "cli/cli.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/admin_client.hpp"
#include "cli/admin_cmds.hpp"
#include "cli/backup_cmds.hpp"
#include "cli/claude_cmd.hpp"
#include "cli/code_cmd.hpp"
#include "cli/config_cmds.hpp"
#include "cli/endpoint_cmds.hpp"
#include "cli/health_cmd.hpp"
#include "cli/key_cmds.hpp"
#include "cli/logs_cmd.hpp"
#include "cli/sim_cmd.hpp"
#include "cli/stats_cmd.hpp"
#include "common/version.hpp"

namespace qcc::cli {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

/// The closest of `names` to `word` when it is close enough to be a typo ("" otherwise).
std::string closest(std::string_view word, const std::vector<std::string>& names) {
    // Words people reach for that mean a command of another name.
    static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kSynonyms{
        {"rm", {"revoke"}},
        {"remove", {"rm", "revoke"}},
        {"delete", {"rm", "revoke"}},
        {"del", {"rm", "revoke"}},
        {"ls", {"list"}},
        {"new", {"add", "create"}},
        {"add", {"create"}},
        {"create", {"add"}},
        {"edit", {"set"}},
        {"get", {"show"}},
        {"log", {"logs"}},
        {"stat", {"stats"}},
        {"restore", {"restore-backup"}},
    };
    for (const auto& [alias, meanings] : kSynonyms) {
        if (alias != word) continue;
        for (const auto meaning : meanings) {
            if (std::find(names.begin(), names.end(), meaning) != names.end()) {
                return std::string(meaning);
            }
        }
    }
    std::string best;
    std::size_t best_d = 3;  // at most 2 edits
    for (const auto& n : names) {
        const auto d = edit_distance(word, n);
        if (d < best_d || (d == best_d && !best.empty() && n < best)) {
            best = n;
            best_d = d;
        }
    }
    return best;
}

std::string command_path(const CLI::App* level) {
    std::string path;
    for (auto* a = level; a != nullptr; a = a->get_parent()) {
        path = a->get_name() + (path.empty() ? "" : " " + path);
    }
    return path;
}

/// What is wrong with the commands named in argv, before CLI11 sees it (it would only say "A
/// subcommand is required"): an unknown command at a level that needs one (with the nearest
/// command as a suggestion), a missing command, or an unknown option before any command. "" when
/// the commands are fine.
std::string command_problem(CLI::App& app, int argc, char** argv) {
    CLI::App* level = &app;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::vector<std::string> names;
        for (const auto* sub : level->get_subcommands([](CLI::App*) { return true; })) {
            names.push_back(sub->get_name());
        }
        if (arg.starts_with("-")) {
            if (level != &app) return {};  // a command's options: CLI11 judges them
            if (arg == "--help" || arg == "-h" || arg == "--version") return {};
            const auto hint = closest(arg, {"--help", "--version"});
            return "unknown option '" + std::string(arg) + "'" +
                   (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)") +
                   "; run 'qcc --help' for the commands";
        }
        CLI::App* next = nullptr;
        for (auto* sub : level->get_subcommands([](CLI::App*) { return true; })) {
            if (sub->check_name(std::string(arg))) next = sub;
        }
        if (next == nullptr) {
            if (level->get_require_subcommand_min() == 0) return {};  // an argument, not a command
            const auto hint = closest(arg, names);
            std::string known;
            for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
            return "unknown command '" + command_path(level) + " " + std::string(arg) + "'" +
                   (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)") +
                   "; commands: " + known;
        }
        level = next;
    }
    if (level != &app && level->get_require_subcommand_min() > 0) {
        std::string known;
        for (const auto* sub : level->get_subcommands([](CLI::App*) { return true; })) {
            known += (known.empty() ? "" : ", ") + sub->get_name();
        }
        return "'" + command_path(level) + "' needs a command: " + known;
    }
    return {};
}

}  // namespace

int run(int argc, char** argv, const std::function<void(CLI::App&)>& more) {
    CLI::App app{"qcc: a fast, resilient gateway for Claude Code", "qcc"};
    app.set_version_flag("--version", "qcc " + std::string(kVersion));
    app.require_subcommand(1);
    if (more) more(app);
    auto claude_args = std::make_shared<std::vector<std::string>>();
    argc = split_code_args(argc, argv, claude_args.get());
    add_code_command(app, claude_args);
    add_sim_command(app);
    add_admin_commands(app);  // creates the `endpoint` group (release, quarantine)
    add_endpoint_commands(app);
    add_key_commands(app);
    add_health_command(app);
    add_stats_command(app);
    add_logs_command(app);
    add_config_commands(app);
    add_backup_commands(app);
    add_claude_commands(app);
    if (argc <= 1) {
        // Bare `qcc`: what it can do.
        std::cout << app.help();
        return kExitUsage;
    }
    if (const auto problem = command_problem(app, argc, argv); !problem.empty()) {
        std::cerr << "qcc: " << problem << "\n";
        return kExitUsage;
    }
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
