#include "cli/claude_settings.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr mode_t kNewFileMode = 0600;

[[noreturn]] void fail(const std::string& message) { throw ClaudeSettingsError(message); }

std::string sys_error() { return std::strerror(errno); }

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path + ": cannot read: " + sys_error());
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) fail(path + ": cannot read: " + sys_error());
    return bytes;
}

// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a reader (or a
// crash) never sees a half-written settings file.
void write_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
    std::string tmp = path + ".qcc-tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) fail(path + ": cannot create a temporary file beside it: " + sys_error());
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const std::string err = ok ? std::string() : sys_error();
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = ok ? sys_error() : err;
        ::unlink(tmp.c_str());
        fail(path + ": cannot write: " + why);
    }
}

mode_t mode_of(const std::string& path, mode_t fallback) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fallback;
    return st.st_mode & 07777;
}

// Where the bytes of the settings file live: the target of a symlinked settings.json (dotfile
// managers), so that apply and restore edit the real file instead of replacing the link.
std::string write_destination(const std::string& path) {
    std::error_code ec;
    if (fs::is_symlink(path, ec)) {
        auto real = fs::canonical(path, ec);
        if (!ec) return real.string();
    }
    return path;
}

void pretty(std::string& out, const json::value& v, int indent) {
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
    switch (v.kind()) {
        case json::kind::object: {
            const auto& o = v.as_object();
            if (o.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            bool first = true;
            for (const auto& [key, value] : o) {
                if (!first) out += ",\n";
                first = false;
                out += inner + json::serialize(json::string(key)) + ": ";
                pretty(out, value, indent + 1);
            }
            out += "\n" + pad + "}";
            return;
        }
        case json::kind::array: {
            const auto& a = v.as_array();
            if (a.empty()) {
                out += "[]";
                return;
            }
            out += "[\n";
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (i > 0) out += ",\n";
                out += inner;
                pretty(out, a[i], indent + 1);
            }
            out += "\n" + pad + "]";
            return;
        }
        case json::kind::double_: {
            // Shortest round-trip form ("0.5", "1e+100") rather than Boost's "5E-1".
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof buf, v.as_double());
            out.append(buf, r.ptr);
            return;
        }
        default:
            out += json::serialize(v);
    }
}

json::object parse_settings(std::string_view text, const std::string& source) {
    boost::system::error_code ec;
    json::value doc = json::parse(text, ec);
    if (ec) {
        fail(source + ": invalid JSON (" + ec.message() +
             "); fix or move the file, nothing was changed");
    }
    if (!doc.is_object()) fail(source + ": expected a JSON object at the top level");
    auto& o = doc.as_object();
    if (const auto* env = o.if_contains("env"); env != nullptr && !env->is_object()) {
        fail(source + ": \"env\" must be a JSON object");
    }
    return std::move(o);
}

// The settings document of `path`, or an empty object when there is no file.
json::object load_settings(const std::string& path) {
    if (!exists(path)) return {};
    return parse_settings(read_bytes(path), path);
}

std::string render(const json::object& doc) {
    std::string out;
    pretty(out, doc, 0);
    out += "\n";
    return out;
}

const json::object* env_of(const json::object& doc) {
    const auto* env = doc.if_contains("env");
    return env != nullptr ? &env->as_object() : nullptr;
}

ClaudeOwnedVar* owned(ClaudeState& s, const std::string& name) {
    for (auto& v : s.vars) {
        if (v.name == name) return &v;
    }
    return nullptr;
}

json::object state_json(const ClaudeState& s) {
    json::array vars;
    for (const auto& v : s.vars) {
        json::object o;
        o["name"] = v.name;
        o["value"] = v.value;
        if (v.previous) o["previous"] = *v.previous;
        vars.push_back(std::move(o));
    }
    json::array keys;
    for (const auto& k : s.created_keys) keys.push_back(json::value(k));
    json::object o;
    o["written_by"] = "qcc claude apply; qcc claude restore undoes it";
    o["server"] = s.server;
    o["vars"] = std::move(vars);
    o["created_keys"] = std::move(keys);
    o["created_file"] = s.created_file;
    o["created_env"] = s.created_env;
    o["written_sha256"] = s.written_sha256;
    o["edited_after_apply"] = s.edited_after_apply;
    return o;
}

std::string str_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool bool_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

ClaudeState state_from_json(const json::value& doc, const std::string& source) {
    if (!doc.is_object()) fail(source + ": not a qcc claude state (expected a JSON object)");
    const auto& o = doc.as_object();
    ClaudeState s;
    s.server = str_field(o, "server");
    s.created_file = bool_field(o, "created_file");
    s.created_env = bool_field(o, "created_env");
    s.written_sha256 = str_field(o, "written_sha256");
    s.edited_after_apply = bool_field(o, "edited_after_apply");
    if (const auto* vars = o.if_contains("vars"); vars != nullptr && vars->is_array()) {
        for (const auto& v : vars->as_array()) {
            if (!v.is_object() || str_field(v.as_object(), "name").empty()) {
                fail(source + ": \"vars\" entries need a name");
            }
            const auto& vo = v.as_object();
            ClaudeOwnedVar var{str_field(vo, "name"), str_field(vo, "value"), std::nullopt};
            if (const auto* prev = vo.if_contains("previous")) var.previous = *prev;
            s.vars.push_back(std::move(var));
        }
    }
    if (const auto* keys = o.if_contains("created_keys"); keys != nullptr && keys->is_array()) {
        for (const auto& k : keys->as_array()) {
            if (k.is_string()) s.created_keys.emplace_back(k.as_string());
        }
    }
    return s;
}

void remove_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        fail(path + ": cannot remove: " + sys_error());
    }
}

// Takes back each variable that still holds what apply wrote; returns whether anything changed.
bool take_back_vars(json::object& doc, const ClaudeState& state, ClaudeRestoreResult& r) {
    auto* env_value = doc.if_contains("env");
    if (env_value == nullptr) return false;
    auto& env = env_value->as_object();
    bool changed = false;
    for (const auto& v : state.vars) {
        const auto* cur = env.if_contains(v.name);
        if (cur == nullptr) continue;
        if (!cur->is_string() || cur->as_string() != v.value) {
            r.kept.push_back(v.name);
            continue;
        }
        if (v.previous) {
            env[v.name] = *v.previous;
        } else {
            env.erase(v.name);
        }
        r.restored.push_back(v.name);
        changed = true;
    }
    if (state.created_env && env.empty()) doc.erase("env");
    return changed;
}

}  // namespace

std::string default_claude_settings_path() {
    return config::expand_home("~/.claude/settings.json");
}

std::string claude_backup_path(const std::string& settings_path) {
    return settings_path + ".qcc-backup";
}

std::string claude_state_path(const std::string& settings_path) {
    return settings_path + ".qcc-state";
}

std::optional<ClaudeState> load_claude_state(const std::string& settings_path) {
    const std::string path = claude_state_path(settings_path);
    if (!exists(path)) return std::nullopt;
    boost::system::error_code ec;
    const auto doc = json::parse(read_bytes(path), ec);
    if (ec) fail(path + ": invalid JSON (" + ec.message() + ")");
    return state_from_json(doc, path);
}

void save_claude_state(const std::string& settings_path, const ClaudeState& state) {
    write_atomically(claude_state_path(settings_path), render(state_json(state)), kNewFileMode);
}

std::string merge_claude_env(std::string_view text, const std::string& source,
                             const std::vector<std::pair<std::string, std::string>>& env) {
    json::object doc = parse_settings(text, source);
    auto* env_value = doc.if_contains("env");
    if (env_value == nullptr) env_value = &(doc["env"] = json::object());
    auto& env_obj = env_value->as_object();
    for (const auto& [name, value] : env) env_obj[name] = value;
    return render(doc);
}

void check_claude_settings(const std::string& settings_path) { load_settings(settings_path); }

std::optional<std::string> claude_env_value(const std::string& settings_path,
                                            const std::string& name) {
    const auto doc = load_settings(settings_path);
    const auto* env = env_of(doc);
    if (env == nullptr) return std::nullopt;
    const auto* v = env->if_contains(name);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::string claude_key_variable(const std::string& settings_path) {
    if (auto state = load_claude_state(settings_path)) {
        for (const auto& v : state->vars) {
            if (v.name == "ANTHROPIC_API_KEY" || v.name == "ANTHROPIC_AUTH_TOKEN") return v.name;
        }
    }
    const auto doc = load_settings(settings_path);
    if (const auto* e = env_of(doc)) {
        if (e->contains("ANTHROPIC_API_KEY") && !e->contains("ANTHROPIC_AUTH_TOKEN")) {
            return "ANTHROPIC_API_KEY";
        }
    }
    return "ANTHROPIC_AUTH_TOKEN";
}

ClaudeApplyResult apply_claude_settings(const std::string& settings_path,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        const std::string& server, const std::string& created_key) {
    auto loaded = load_claude_state(settings_path);
    const bool first_apply = !loaded;
    ClaudeState state = loaded ? std::move(*loaded) : ClaudeState{};
    const bool had_file = exists(settings_path);
    const std::string original = had_file ? read_bytes(settings_path) : std::string("{}");
    // Validate before touching anything: a broken file must stay exactly as the user left it.
    json::object doc =
        parse_settings(original, had_file ? settings_path : std::string("(new file)"));
    if (first_apply) {
        state.created_file = !had_file;
        state.created_env = !doc.contains("env");
    } else if (crypto::sha256_hex(original) != state.written_sha256) {
        // Someone changed the file since the last apply: from now on the backup's bytes are no
        // longer the file minus QCC's settings, so restore must edit instead of copying them back.
        state.edited_after_apply = true;
    }
    auto* env_value = doc.if_contains("env");
    if (env_value == nullptr) env_value = &(doc["env"] = json::object());
    auto& env_obj = env_value->as_object();
    for (const auto& [name, value] : env) {
        if (auto* var = owned(state, name)) {
            var->value = value;  // `previous` stays what the file had before the first apply
        } else {
            const auto* cur = env_obj.if_contains(name);
            state.vars.push_back(
                ClaudeOwnedVar{name, value, cur != nullptr ? std::optional(*cur) : std::nullopt});
        }
        env_obj[name] = value;
    }
    if (!created_key.empty()) state.created_keys.push_back(created_key);
    state.server = server;
    const std::string merged = render(doc);

    ClaudeApplyResult result;
    if (!had_file) {
        const fs::path dir = fs::path(settings_path).parent_path();
        std::error_code ec;
        if (!dir.empty() && !fs::exists(dir, ec)) {
            fs::create_directories(dir, ec);
            if (ec) fail(dir.string() + ": cannot create: " + ec.message());
            fs::permissions(dir, fs::perms::owner_all, ec);
        }
    }
    if (first_apply && had_file) {
        write_atomically(claude_backup_path(settings_path), original,
                         mode_of(settings_path, kNewFileMode));
        result.backed_up = true;
    }
    result.created = state.created_file;
    const std::string dest = write_destination(settings_path);
    write_atomically(dest, merged, had_file ? mode_of(dest, kNewFileMode) : kNewFileMode);
    state.written_sha256 = crypto::sha256_hex(merged);
    save_claude_state(settings_path, state);
    return result;
}

ClaudeRestoreResult restore_claude_settings(const std::string& settings_path) {
    const std::string backup = claude_backup_path(settings_path);
    auto state = load_claude_state(settings_path);
    if (!state) {
        fail("nothing to restore: qcc claude apply has not changed " + settings_path + " (no " +
             claude_state_path(settings_path) + ")");
    }
    ClaudeRestoreResult r;
    r.created_keys = state->created_keys;
    const auto finish = [&] {
        remove_file(backup);
        remove_file(claude_state_path(settings_path));
        return r;
    };
    if (state->vars.empty()) return finish();  // only keys were left to revoke
    if (!exists(settings_path)) {
        r.file = ClaudeFileRestore::kMissing;
        return finish();
    }
    const std::string dest = write_destination(settings_path);
    const std::string bytes = read_bytes(settings_path);
    if (!state->edited_after_apply && crypto::sha256_hex(bytes) == state->written_sha256) {
        // Untouched since the first apply: put the original back exactly (formatting and all).
        for (const auto& v : state->vars) r.restored.push_back(v.name);
        if (state->created_file) {
            remove_file(settings_path);
            r.file = ClaudeFileRestore::kRemoved;
        } else if (exists(backup)) {
            write_atomically(dest, read_bytes(backup), mode_of(dest, kNewFileMode));
            r.file = ClaudeFileRestore::kRestoredBytes;
        }
        if (r.file != ClaudeFileRestore::kUnchanged) return finish();
        r.restored.clear();
    }
    json::object doc = parse_settings(bytes, settings_path);
    if (!take_back_vars(doc, *state, r)) return finish();
    if (state->created_file && doc.empty()) {
        remove_file(settings_path);
        r.file = ClaudeFileRestore::kRemoved;
    } else {
        write_atomically(dest, render(doc), mode_of(dest, kNewFileMode));
        r.file = ClaudeFileRestore::kEdited;
    }
    return finish();
}

}  // namespace qcc::cli
