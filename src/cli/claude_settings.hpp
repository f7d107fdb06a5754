// `qcc claude apply|restore` file logic, separate from the server calls so tests can drive it
// with paths. apply merges env entries into Claude Code's settings.json and records exactly what
// it changed (<settings>.qcc-state); restore takes back only those entries, so everything the user
// added to the file after apply stays.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace qcc::cli {

/// Any problem with the settings file, its backup or state; what() names the file.
class ClaudeSettingsError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// ~/.claude/settings.json.
std::string default_claude_settings_path();
/// <settings>.qcc-backup: the file's bytes before the first apply (kept until restore).
std::string claude_backup_path(const std::string& settings_path);
/// <settings>.qcc-state: what apply changed (0600; holds the client key, like the file itself).
std::string claude_state_path(const std::string& settings_path);

/// One env variable apply set, with what the file had before the first apply.
struct ClaudeOwnedVar {
    std::string name;
    std::string value;                           // what apply wrote
    std::optional<boost::json::value> previous;  // the value before (nullopt: there was none)
};

/// What apply changed, so that restore undoes exactly that.
struct ClaudeState {
    std::vector<ClaudeOwnedVar> vars;
    std::vector<std::string> created_keys;  // client keys apply created; restore revokes them
    std::string server;                     // host:port of the QCC the file points at
    bool created_file = false;              // there was no settings file before the first apply
    bool created_env = false;               // the file had no "env" object before
    std::string written_sha256;             // SHA-256 of the bytes apply wrote last
    bool edited_after_apply = false;        // changed by someone else between two applies
};

/// The recorded state, or nullopt when apply has not run for this file. Throws
/// ClaudeSettingsError for a state file that cannot be read or parsed.
std::optional<ClaudeState> load_claude_state(const std::string& settings_path);
/// Writes the state atomically (0600).
void save_claude_state(const std::string& settings_path, const ClaudeState& state);

/// Parses `text` (the settings file `source` names) and returns it with `env` merged into the
/// "env" object, every other key and value kept in order, pretty-printed with 2-space indents.
/// Throws ClaudeSettingsError naming `source` for invalid JSON, a non-object document or a
/// non-object "env".
std::string merge_claude_env(std::string_view text, const std::string& source,
                             const std::vector<std::pair<std::string, std::string>>& env);

/// Checks that the settings file is absent or valid for merging (throws like merge_claude_env);
/// lets a command fail before it creates a client key.
void check_claude_settings(const std::string& settings_path);

/// The string value of env.<name> in the settings file; nullopt when the file, "env" or the
/// variable is absent (or not a string).
std::optional<std::string> claude_env_value(const std::string& settings_path,
                                            const std::string& name);

/// The env var Claude Code should receive the client key in: the one an earlier apply used, else
/// ANTHROPIC_API_KEY when the file already uses that one (and not ANTHROPIC_AUTH_TOKEN), else
/// ANTHROPIC_AUTH_TOKEN.
std::string claude_key_variable(const std::string& settings_path);

/// What apply_claude_settings did.
struct ClaudeApplyResult {
    bool created = false;    // there was no settings file before the first apply
    bool backed_up = false;  // this call wrote the backup (false: an earlier apply did, or no file)
};

/// Sets `env` in the file's "env" object (keeping everything else), atomically (0600 for a new
/// file, the mode of the old one otherwise), creating the directory (0700) and the file when
/// missing. The first apply keeps a byte-exact backup; every apply records in the state what each
/// variable was before the first apply, and `created_key` (when not empty) among the keys restore
/// revokes. Nothing is written when the existing file is invalid. Throws ClaudeSettingsError.
ClaudeApplyResult apply_claude_settings(const std::string& settings_path,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        const std::string& server,
                                        const std::string& created_key = "");

/// What restore_claude_settings did to the file.
enum class ClaudeFileRestore {
    kRestoredBytes,  // unchanged since apply: the backup is back byte for byte
    kRemoved,        // apply created it and nothing else is in it: deleted
    kEdited,         // QCC's variables taken back, the user's later changes kept
    kUnchanged,      // nothing of QCC's was left in it
    kMissing,        // the file is gone
};

struct ClaudeRestoreResult {
    ClaudeFileRestore file = ClaudeFileRestore::kUnchanged;
    std::vector<std::string> restored;      // variables put back as they were (or removed)
    std::vector<std::string> kept;          // variables changed since apply, left as they are
    std::vector<std::string> created_keys;  // keys apply created: the caller revokes them
};

/// Undoes what apply recorded: each variable still holding the value apply wrote gets its old
/// value back (or is removed); variables changed since are left alone; the backup and the state are
/// removed. Throws ClaudeSettingsError when apply has not run for this file.
ClaudeRestoreResult restore_claude_settings(const std::string& settings_path);

}  // namespace qcc::cli
