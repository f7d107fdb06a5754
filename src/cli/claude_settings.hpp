// `qcc claude apply|restore` file logic, separate from the server calls so tests can
// drive it with paths: merge env entries into Claude Code's settings.json with a byte-exact
// backup, and put the original back.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qcc::cli {

/// Any problem with the settings file, its backup or marker; what() names the file.
class ClaudeSettingsError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// ~/.claude/settings.json.
std::string default_claude_settings_path();
/// <settings>.qcc-backup: the original bytes, written by the first apply only.
std::string claude_backup_path(const std::string& settings_path);
/// <settings>.qcc-none: records that there was no settings file before the first apply.
std::string claude_marker_path(const std::string& settings_path);

/// Parses `text` (the settings file `source` names) and returns it with `env` merged into the
/// "env" object, every other key and value kept in order, pretty-printed with 2-space indents.
/// Throws ClaudeSettingsError naming `source` for invalid JSON, a non-object document or a
/// non-object "env".
std::string merge_claude_env(std::string_view text, const std::string& source,
                             const std::vector<std::pair<std::string, std::string>>& env);

/// Checks that the settings file is absent or valid for merging (throws like merge_claude_env);
/// lets a command fail before it creates a client key.
void check_claude_settings(const std::string& settings_path);

/// The env var Claude Code should receive the client key in: ANTHROPIC_API_KEY when the file
/// already uses that one (and not ANTHROPIC_AUTH_TOKEN), else ANTHROPIC_AUTH_TOKEN.
std::string claude_key_variable(const std::string& settings_path);

/// What apply_claude_settings did.
struct ClaudeApplyResult {
    bool created = false;    // there was no settings file (a marker records it)
    bool backed_up = false;  // this call wrote the backup (false: an earlier apply did)
};

/// Backs the file up (first time only), then merges `env` into it atomically (0600 for a new
/// file, the mode of the old one otherwise); creates the directory (0700) and the file when
/// missing. Nothing is written when the existing file is invalid. Throws ClaudeSettingsError.
ClaudeApplyResult apply_claude_settings(
    const std::string& settings_path, const std::vector<std::pair<std::string, std::string>>& env);

/// What restore_claude_settings did.
enum class ClaudeRestoreResult { kRestored, kRemoved };

/// Puts the backup back byte-identical (kRestored), or deletes the file when there was none before
/// apply (kRemoved), and removes the backup/marker. Throws ClaudeSettingsError when there is
/// neither a backup nor a marker.
ClaudeRestoreResult restore_claude_settings(const std::string& settings_path);

}  // namespace qcc::cli
