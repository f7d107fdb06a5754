#include "cli/claude_cmd.hpp"

#include <iostream>

#include <boost/json.hpp>

#include "cli/claude_settings.hpp"
#include "cli/client_keys.hpp"
#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

constexpr const char* kKeyName = "claude-code";

struct ClaudeOptions {
    AdminTarget target;
    std::string key, settings;
    bool json = false;
};

/// The client key apply writes, and where it came from.
struct ChosenKey {
    std::string name, key;
    std::string origin;  // "given" | "reused" | "created"
};

/// --key, checked against the server: a key it does not know (or revoked) is a usage error.
std::optional<ChosenKey> given_key(const AdminTarget& t, const std::string& key, int* exit_code) {
    const auto info = check_given_key(t, key, exit_code);
    if (!info) return std::nullopt;
    return ChosenKey{info->name, key, "given"};
}

/// The key an earlier apply wrote, when the file still holds it and the server still accepts it.
std::optional<ChosenKey> earlier_key(const AdminTarget& t, const std::string& path,
                                     const std::string& key_var, int* exit_code) {
    const auto state = load_claude_state(path);
    const auto current = claude_env_value(path, key_var);
    if (!state || !current) return std::nullopt;
    bool written_by_apply = false;
    for (const auto& v : state->vars) written_by_apply |= v.name == key_var && v.value == *current;
    if (!written_by_apply) return std::nullopt;
    const auto info = find_client_key(t, *current, exit_code);
    if (*exit_code != 0 || !info || info->revoked) return std::nullopt;
    return ChosenKey{info->name, *current, "reused"};
}

std::optional<ChosenKey> choose_key(const ClaudeOptions& o, const std::string& path,
                                    const std::string& key_var, int* exit_code) {
    if (!o.key.empty()) return given_key(o.target, o.key, exit_code);
    if (auto earlier = earlier_key(o.target, path, key_var, exit_code)) return earlier;
    if (*exit_code != 0) return std::nullopt;
    auto made = create_client_key(o.target, kKeyName, exit_code);
    if (!made) return std::nullopt;
    return ChosenKey{made->name, made->key, "created"};
}

int run_apply(const ClaudeOptions& o) {
    const auto path = o.settings.empty() ? default_claude_settings_path() : o.settings;
    int exit_code = 0;
    const auto server = resolve_admin_target(o.target, &exit_code);
    if (!server) return exit_code;
    // Fail on a broken settings file before a key is created for nothing.
    check_claude_settings(path);
    const std::string key_var = claude_key_variable(path);
    const auto key = choose_key(o, path, key_var, &exit_code);
    if (!key) return exit_code;
    const std::string base_url = "http://" + server->authority();
    const auto result =
        apply_claude_settings(path, {{"ANTHROPIC_BASE_URL", base_url}, {key_var, key->key}},
                              server->authority(), key->origin == "created" ? key->name : "");
    if (o.json) {
        json::object out;
        out["settings"] = path;
        out["base_url"] = base_url;
        out["key_variable"] = key_var;
        out["key_name"] = key->name;
        out["key"] = key->origin;
        out["created"] = result.created;
        out["backup"] =
            result.created ? json::value(nullptr) : json::value(claude_backup_path(path));
        print_json(out);
        return kExitOk;
    }
    std::cout << (result.created ? "created " : "updated ") << path
              << ": env.ANTHROPIC_BASE_URL = " << base_url << ", env." << key_var
              << " = client key " << key->name << " (" << key->origin << ")\n";
    if (result.backed_up)
        std::cout << "the original is saved as " << claude_backup_path(path) << "\n";
    std::cout << "start a new Claude Code session to use QCC; `qcc claude restore` takes back "
                 "these two settings\n";
    return kExitOk;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "env." : ", env.") + n;
    return out;
}

/// Revokes the keys apply created; returns those that could not be revoked (server unreachable).
std::vector<std::string> revoke_created(const AdminTarget& t, const std::vector<std::string>& keys,
                                        std::vector<std::string>& revoked) {
    std::vector<std::string> pending;
    for (const auto& name : keys) {
        int exit_code = 0;
        const auto res =
            admin_call(t, "DELETE", "/api/keys/" + percent_encode(name), std::nullopt, &exit_code);
        if (exit_code != 0 || (res.status != 200 && res.status != 404)) {
            if (exit_code == 0) report_failure(res);
            pending.push_back(name);
        } else if (res.status == 200) {
            revoked.push_back(name);
        }
    }
    return pending;
}

void print_restore(const std::string& path, const ClaudeRestoreResult& r) {
    switch (r.file) {
        case ClaudeFileRestore::kRestoredBytes:
            std::cout << "restored " << path << " as it was before `qcc claude apply`\n";
            break;
        case ClaudeFileRestore::kRemoved:
            std::cout << "removed " << path << " (there was none before `qcc claude apply`)\n";
            break;
        case ClaudeFileRestore::kEdited:
            std::cout << "took back " << join(r.restored) << " in " << path
                      << "; everything else in it is kept\n";
            break;
        case ClaudeFileRestore::kUnchanged:
            std::cout << path << ": nothing of QCC's was left in it\n";
            break;
        case ClaudeFileRestore::kMissing:
            std::cout << path << " no longer exists; nothing to take back\n";
            break;
    }
    if (!r.kept.empty()) {
        std::cout << "left " << join(r.kept) << " as is: changed since `qcc claude apply`\n";
    }
}

int run_restore(const ClaudeOptions& o) {
    const auto path = o.settings.empty() ? default_claude_settings_path() : o.settings;
    const auto state = load_claude_state(path);
    const auto result = restore_claude_settings(path);
    AdminTarget target = o.target;
    if (target.listen.empty() && state) target.listen = state->server;  // the QCC that made them
    std::vector<std::string> revoked;
    const auto pending = revoke_created(target, result.created_keys, revoked);
    if (!pending.empty()) {
        // Remember them so that a later restore (with the server running) finishes the job.
        save_claude_state(path, ClaudeState{{}, pending, target.listen, false, false, ""});
    }
    if (o.json) {
        json::object out;
        out["settings"] = path;
        static constexpr const char* kFile[] = {"restored", "removed", "edited", "unchanged",
                                                "missing"};
        out["file"] = kFile[static_cast<int>(result.file)];
        json::array kept, done, left;
        for (const auto& k : result.kept) kept.push_back(json::value(k));
        for (const auto& k : revoked) done.push_back(json::value(k));
        for (const auto& k : pending) left.push_back(json::value(k));
        out["kept"] = std::move(kept);
        out["revoked_keys"] = std::move(done);
        out["keys_not_revoked"] = std::move(left);
        print_json(out);
    } else {
        print_restore(path, result);
        for (const auto& k : revoked) std::cout << "revoked client key " << k << "\n";
        for (const auto& k : pending) {
            std::cerr << "qcc: client key " << k
                      << " is not revoked yet: run `qcc claude restore` again when QCC runs (or "
                         "`qcc key revoke "
                      << k << "`)\n";
        }
    }
    return pending.empty() ? kExitOk : kExitFailed;
}

int guard_settings(const std::function<int()>& f) {
    try {
        return f();
    } catch (const ClaudeSettingsError& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return kExitFailed;
    }
}

}  // namespace

void add_claude_commands(CLI::App& app) {
    auto* group = app.add_subcommand(
        "claude", "Point Claude Code at this QCC (~/.claude/settings.json) or undo it");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<ClaudeOptions>();
        auto* cmd = group->add_subcommand("apply",
                                          "Set env.ANTHROPIC_BASE_URL and a client key in Claude "
                                          "Code's settings (the rest of the "
                                          "file is kept; the first apply backs it up)");
        cmd->add_option(
            "--key", o->key,
            "Client key to use (default: the one an earlier apply wrote, else a new key "
            "named claude-code)");
        cmd->add_option("--settings", o->settings,
                        "Settings file (default ~/.claude/settings.json)");
        add_target_options(cmd, o->target);
        cmd->add_flag("--json", o->json, "JSON output");
        run_with_exit_code(cmd, [o] { return guard_settings([&] { return run_apply(*o); }); });
    }
    {
        auto o = std::make_shared<ClaudeOptions>();
        auto* cmd = group->add_subcommand(
            "restore",
            "Take back what apply set (other changes to the file stay) and revoke the key it "
            "created");
        cmd->add_option("--settings", o->settings,
                        "Settings file (default ~/.claude/settings.json)");
        add_target_options(cmd, o->target);
        cmd->add_flag("--json", o->json, "JSON output");
        run_with_exit_code(cmd, [o] { return guard_settings([&] { return run_restore(*o); }); });
    }
}

}  // namespace qcc::cli
