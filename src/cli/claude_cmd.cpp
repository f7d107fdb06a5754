#include "cli/claude_cmd.hpp"

#include <iostream>
#include <set>

#include <boost/json.hpp>

#include "cli/claude_settings.hpp"
#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

constexpr const char* kKeyName = "claude-code";
constexpr int kMaxKeyNameTries = 100;

struct ClaudeOptions {
    AdminTarget target;
    std::string key, settings;
    bool json = false;
};

/// Creates a client key named claude-code (or claude-code-2, -3, ... when taken). Returns the
/// name and key, or the exit code of a reported failure.
std::optional<std::pair<std::string, std::string>> create_claude_key(const AdminTarget& t,
                                                                     int* exit_code) {
    auto listed = call_json(t, "GET", "/api/keys");
    *exit_code = listed.exit_code;
    if (listed.exit_code != 0) return std::nullopt;
    std::set<std::string> taken;
    for (const auto& v : json_arr(listed.doc.as_object(), "keys")) {
        if (v.is_object()) taken.insert(json_str(v.as_object(), "name"));
    }
    for (int i = 1; i <= kMaxKeyNameTries; ++i) {
        const std::string name = i == 1 ? kKeyName : kKeyName + ("-" + std::to_string(i));
        if (taken.count(name) > 0) continue;
        json::object body;
        body["name"] = name;
        std::optional<std::string> text = json::serialize(body);
        const auto res = admin_call(t, "POST", "/api/keys", text, exit_code);
        if (*exit_code != 0) return std::nullopt;
        if (res.status == 409) continue;  // created meanwhile by someone else
        if (res.status < 200 || res.status >= 300) {
            *exit_code = report_failure(res);
            return std::nullopt;
        }
        boost::system::error_code ec;
        const auto doc = json::parse(res.body, ec);
        if (ec || !doc.is_object() || json_str(doc.as_object(), "key").empty()) {
            std::cerr << "qcc: unexpected answer from the server to POST /api/keys\n";
            *exit_code = kExitFailed;
            return std::nullopt;
        }
        return std::pair{name, json_str(doc.as_object(), "key")};
    }
    std::cerr << "qcc: every key name from " << kKeyName << " to " << kKeyName << "-"
              << kMaxKeyNameTries << " is taken; pass --key\n";
    *exit_code = kExitFailed;
    return std::nullopt;
}

int run_apply(const ClaudeOptions& o) {
    const auto path = o.settings.empty() ? default_claude_settings_path() : o.settings;
    int exit_code = 0;
    const auto server = resolve_admin_target(o.target, &exit_code);
    if (!server) return exit_code;
    // Fail on a broken settings file before a key is created for nothing.
    check_claude_settings(path);
    std::string key_name = "(given with --key)";
    std::string key = o.key;
    if (key.empty()) {
        auto created = create_claude_key(o.target, &exit_code);
        if (!created) return exit_code;
        std::tie(key_name, key) = *created;
    }
    const std::string base_url = "http://" + server->authority();
    const std::string key_var = claude_key_variable(path);
    const auto result =
        apply_claude_settings(path, {{"ANTHROPIC_BASE_URL", base_url}, {key_var, key}});
    const std::string backup = result.created ? claude_marker_path(path) : claude_backup_path(path);
    if (o.json) {
        json::object out;
        out["settings"] = path;
        out["base_url"] = base_url;
        out["key_variable"] = key_var;
        out["key_name"] = o.key.empty() ? json::value(key_name) : json::value(nullptr);
        out["created"] = result.created;
        out["backup"] =
            result.created ? json::value(nullptr) : json::value(claude_backup_path(path));
        print_json(out);
        return kExitOk;
    }
    std::cout << (result.created ? "created " : "updated ") << path
              << ": env.ANTHROPIC_BASE_URL = " << base_url << ", env." << key_var
              << " = client key " << key_name << "\n";
    if (result.backed_up) {
        std::cout << "the original is saved as " << backup << "\n";
    } else if (!result.created) {
        std::cout << "the original from the first apply stays in " << backup << "\n";
    }
    std::cout << "start a new Claude Code session to use QCC; `qcc claude restore` undoes this\n";
    return kExitOk;
}

int run_restore(const ClaudeOptions& o) {
    const auto path = o.settings.empty() ? default_claude_settings_path() : o.settings;
    const auto result = restore_claude_settings(path);
    if (o.json) {
        json::object out;
        out["settings"] = path;
        out["result"] = result == ClaudeRestoreResult::kRestored ? "restored" : "removed";
        print_json(out);
        return kExitOk;
    }
    if (result == ClaudeRestoreResult::kRestored) {
        std::cout << "restored " << path << " from its backup\n";
    } else {
        std::cout << "removed " << path << " (there was none before `qcc claude apply`)\n";
    }
    return kExitOk;
}

}  // namespace

void add_claude_commands(CLI::App& app) {
    auto* group = app.add_subcommand(
        "claude", "Point Claude Code at this QCC (~/.claude/settings.json) or undo it");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<ClaudeOptions>();
        auto* cmd = group->add_subcommand(
            "apply", "Set env.ANTHROPIC_BASE_URL and a client key; backs the file up first");
        cmd->add_option("--key", o->key,
                        "Client key to use (default: create one named claude-code)");
        cmd->add_option("--settings", o->settings,
                        "Settings file (default ~/.claude/settings.json)");
        add_target_options(cmd, o->target);
        cmd->add_flag("--json", o->json, "JSON output");
        run_with_exit_code(cmd, [o] {
            try {
                return run_apply(*o);
            } catch (const ClaudeSettingsError& e) {
                std::cerr << "qcc: " << e.what() << "\n";
                return kExitFailed;
            }
        });
    }
    {
        auto o = std::make_shared<ClaudeOptions>();
        auto* cmd = group->add_subcommand(
            "restore", "Put back the settings file as it was before the first apply");
        cmd->add_option("--settings", o->settings,
                        "Settings file (default ~/.claude/settings.json)");
        cmd->add_flag("--json", o->json, "JSON output");
        run_with_exit_code(cmd, [o] {
            try {
                return run_restore(*o);
            } catch (const ClaudeSettingsError& e) {
                std::cerr << "qcc: " << e.what() << "\n";
                return kExitFailed;
            }
        });
    }
}

}  // namespace qcc::cli
