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

}  // namespace

std::string default_claude_settings_path() {
    return config::expand_home("~/.claude/settings.json");
}

std::string claude_backup_path(const std::string& settings_path) {
    return settings_path + ".qcc-backup";
}

std::string claude_marker_path(const std::string& settings_path) {
    return settings_path + ".qcc-none";
}

std::string merge_claude_env(std::string_view text, const std::string& source,
                             const std::vector<std::pair<std::string, std::string>>& env) {
    json::object doc = parse_settings(text, source);
    auto* env_value = doc.if_contains("env");
    if (env_value == nullptr) env_value = &(doc["env"] = json::object());
    auto& env_obj = env_value->as_object();
    for (const auto& [name, value] : env) env_obj[name] = value;
    std::string out;
    pretty(out, doc, 0);
    out += "\n";
    return out;
}

void check_claude_settings(const std::string& settings_path) {
    if (!exists(settings_path)) return;
    parse_settings(read_bytes(settings_path), settings_path);
}

std::string claude_key_variable(const std::string& settings_path) {
    if (exists(settings_path)) {
        const auto doc = parse_settings(read_bytes(settings_path), settings_path);
        if (const auto* env = doc.if_contains("env")) {
            const auto& e = env->as_object();
            if (e.contains("ANTHROPIC_API_KEY") && !e.contains("ANTHROPIC_AUTH_TOKEN")) {
                return "ANTHROPIC_API_KEY";
            }
        }
    }
    return "ANTHROPIC_AUTH_TOKEN";
}

ClaudeApplyResult apply_claude_settings(
    const std::string& settings_path, const std::vector<std::pair<std::string, std::string>>& env) {
    ClaudeApplyResult result;
    const std::string backup = claude_backup_path(settings_path);
    const std::string marker = claude_marker_path(settings_path);
    const bool had_file = exists(settings_path);
    const std::string original = had_file ? read_bytes(settings_path) : std::string("{}");
    // Validate before touching anything: a broken file must stay exactly as the user left it.
    const std::string merged =
        merge_claude_env(original, had_file ? settings_path : std::string("(new file)"), env);

    if (!had_file) {
        const fs::path dir = fs::path(settings_path).parent_path();
        std::error_code ec;
        if (!dir.empty() && !fs::exists(dir, ec)) {
            fs::create_directories(dir, ec);
            if (ec) fail(dir.string() + ": cannot create: " + ec.message());
            fs::permissions(dir, fs::perms::owner_all, ec);
        }
    }
    const bool first_apply = !exists(backup) && !exists(marker);
    if (first_apply) {
        if (had_file) {
            write_atomically(backup, original, mode_of(settings_path, kNewFileMode));
            result.backed_up = true;
        } else {
            write_atomically(
                marker,
                "qcc claude apply created " + settings_path + "; qcc claude restore deletes it\n",
                kNewFileMode);
        }
    }
    result.created = !had_file;
    const std::string dest = write_destination(settings_path);
    write_atomically(dest, merged, had_file ? mode_of(dest, kNewFileMode) : kNewFileMode);
    return result;
}

ClaudeRestoreResult restore_claude_settings(const std::string& settings_path) {
    const std::string backup = claude_backup_path(settings_path);
    const std::string marker = claude_marker_path(settings_path);
    if (exists(backup)) {
        const std::string dest = write_destination(settings_path);
        if (dest == settings_path) {
            if (::rename(backup.c_str(), settings_path.c_str()) != 0) {
                fail(settings_path + ": cannot restore from " + backup + ": " + sys_error());
            }
        } else {
            write_atomically(dest, read_bytes(backup), mode_of(backup, kNewFileMode));
            ::unlink(backup.c_str());
        }
        ::unlink(marker.c_str());
        return ClaudeRestoreResult::kRestored;
    }
    if (exists(marker)) {
        if (exists(settings_path) && ::unlink(settings_path.c_str()) != 0) {
            fail(settings_path + ": cannot remove: " + sys_error());
        }
        ::unlink(marker.c_str());
        return ClaudeRestoreResult::kRemoved;
    }
    fail("no backup to restore: neither " + backup + " nor " + marker +
         " exists (qcc claude apply has not run for " + settings_path +
         ", or restore already ran)");
}

}  // namespace qcc::cli
