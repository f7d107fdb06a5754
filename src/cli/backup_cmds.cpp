#include "cli/backup_cmds.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/backup_crypto.hpp"
#include "cli/command_util.hpp"
#include "cli/format.hpp"
#include "cli/passphrase.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;
using config::ConfigError;

constexpr std::size_t kMaxBackupBytes = 16u << 20;

struct BackupOptions {
    AdminTarget target;
    std::string file, passphrase_file;
    bool force = false, dry_run = false, json = false;
};

/// Overwrites a string holding a secret when it goes out of scope.
struct WipeOnExit {
    std::string& secret;
    ~WipeOnExit() { wipe(secret); }
};

// ---- files ----------------------------------------------------------------------------------

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

/// Moves `from` to `to`, replacing `to` only when `replace`; 0 or an errno value.
int publish(const std::string& from, const std::string& to, bool replace) {
    if (replace) return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
    // A file system without RENAME_NOREPLACE: link() refuses an existing name as well.
    if (::link(from.c_str(), to.c_str()) != 0) return errno;
    ::unlink(from.c_str());
    return 0;
}

/// Writes `bytes` to a new 0600 file beside `path` and moves it in place, so that no one ever sees
/// half a backup; an existing `path` is replaced only with `force`. Throws std::runtime_error.
void write_private_file(const std::string& path, std::string_view bytes, bool force) {
    std::string tmp = path + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());  // mode 0600
    if (fd < 0) {
        throw std::runtime_error(path +
                                 ": cannot create a file beside it: " + std::strerror(errno));
    }
    int err = 0;
    while (err == 0 && !bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) err = n < 0 ? errno : EIO;
        if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0) err = publish(tmp, path, force);
    if (err != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error(path + ": cannot write: " +
                                 (err == EEXIST ? std::string("it exists (--force replaces it)")
                                                : std::string(std::strerror(err))));
    }
}

/// The bytes of a backup file ('-' = standard input). Throws ConfigError (a usage error).
std::string read_backup_file(const std::string& path) {
    std::ifstream file;
    if (path != "-") {
        file.open(path, std::ios::binary);
        if (!file) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
    }
    std::istream& in = path == "-" ? std::cin : file;
    std::string bytes(kMaxBackupBytes + 1, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > kMaxBackupBytes) throw ConfigError(path + ": too large for a QCC backup");
    return bytes;
}

// ---- output ---------------------------------------------------------------------------------

std::string plural(std::size_t n, std::string_view what) {
    return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

/// "3 endpoints, 2 client keys and 4 settings" of a backup document.
std::string contents_text(const json::object& doc) {
    return plural(json_arr(doc, "endpoints").size(), "endpoint") + ", " +
           plural(json_arr(doc, "keys").size(), "client key") + " and " +
           plural(json_obj(doc, "settings").size(), "setting");
}

void report_backup(const BackupOptions& o, const std::string& path, const json::object& doc) {
    if (o.json) {
        json::object out;
        out["file"] = path;
        out["endpoints"] = json_arr(doc, "endpoints").size();
        out["keys"] = json_arr(doc, "keys").size();
        out["settings"] = json_obj(doc, "settings").size();
        print_json(out);
        return;
    }
    // With '-' standard output is the backup itself.
    auto& out = o.file == "-" ? std::cerr : std::cout;
    out << "backed up " << contents_text(doc) << " (credentials included) to "
        << (o.file == "-" ? std::string("standard output") : path) << "\n"
        << "it is encrypted: keep the passphrase, without it the backup cannot be restored\n";
}

/// "created endpoint relay", "would set setting breaker.open", ...
std::string action_line(std::string_view action, std::string_view what, std::string_view name,
                        bool dry_run) {
    static const std::map<std::string_view, std::pair<std::string_view, std::string_view>> kVerbs{
        {"create", {"created", "would create"}}, {"update", {"updated", "would update"}},
        {"revoke", {"revoked", "would revoke"}}, {"set", {"set", "would set"}},
        {"skip", {"skipped", "would skip"}},     {"unchanged", {"unchanged", "unchanged"}}};
    const auto it = kVerbs.find(action);
    std::string line = it == kVerbs.end()
                           ? std::string(action)
                           : std::string(dry_run ? it->second.second : it->second.first);
    line += " " + std::string(what) + " " + std::string(name);
    if (action == "skip") line += " (revoked in the backup, not active here)";
    return line;
}

void report_restore(const BackupOptions& o, json::object answer, const json::object& doc) {
    if (o.json) {
        answer["file"] = o.file;
        answer["created_at"] = json_int(doc, "created_at");
        answer["qcc_version"] = json_str(doc, "qcc_version");
        print_json(answer);
        return;
    }
    std::size_t changes = 0;
    const std::array<std::array<std::string_view, 3>, 3> sections{
        {{"endpoints", "endpoint", "name"},
         {"keys", "client key", "name"},
         {"settings", "setting", "key"}}};
    for (const auto& [list, what, field] : sections) {
        for (const auto& v : json_arr(answer, list)) {
            if (!v.is_object()) continue;
            const auto action = json_str(v.as_object(), "action");
            if (action != "unchanged" && action != "skip") ++changes;
            std::cout << action_line(action, what, json_str(v.as_object(), field), o.dry_run)
                      << "\n";
        }
    }
    if (o.dry_run) {
        std::cout << "dry run: " << plural(changes, "change") << " (nothing was changed)\n";
    } else {
        std::cout << "restored: " << plural(changes, "change") << ", in use at once\n";
    }
}

// ---- commands -------------------------------------------------------------------------------

int run_backup(const BackupOptions& o) {
    if (o.file == "-" && o.json) {
        throw ConfigError("--json needs a FILE (with '-' standard output is the backup itself)");
    }
    const auto path = o.file.empty() ? default_backup_name(std::time(nullptr)) : o.file;
    if (o.file != "-" && !o.force && path_exists(path)) {
        throw ConfigError(path + " exists (--force replaces it, or name another file)");
    }
    auto passphrase = backup_passphrase(o.passphrase_file, true);
    const WipeOnExit wipe_passphrase{passphrase};
    const auto r = call_json(o.target, "GET", "/api/backup");
    if (r.exit_code != 0) return r.exit_code;
    auto text = json::serialize(r.doc);
    const WipeOnExit wipe_text{text};
    const auto sealed = seal_backup(text, passphrase);
    if (o.file == "-") {
        std::cout << sealed << std::flush;
    } else {
        write_private_file(path, sealed, o.force);
    }
    report_backup(o, path, r.doc.as_object());
    return kExitOk;
}

/// The decrypted document; a damaged one is a BackupFileError like a failed decryption.
json::object backup_document(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object() || json_str(v.as_object(), "format") != "qcc-backup") {
        throw BackupFileError(BackupFileError::Kind::kDecrypt,
                              "damaged file: the decrypted content is not a backup document");
    }
    return std::move(v.as_object());
}

int run_restore(const BackupOptions& o) {
    const auto file = read_backup_file(o.file);
    check_backup_header(file);  // another kind of file is reported before a passphrase is asked
    auto passphrase = backup_passphrase(o.passphrase_file, false);
    const WipeOnExit wipe_passphrase{passphrase};
    auto text = open_backup(file, passphrase);
    const WipeOnExit wipe_text{text};
    const auto doc = backup_document(text);
    if (!o.json) {
        std::cout << (o.dry_run ? "dry run of " : "restoring ") << o.file << ": backup of "
                  << json_time(doc, "created_at") << " by QCC " << json_str(doc, "qcc_version")
                  << " with " << contents_text(doc) << "\n";
    }
    const std::string target =
        std::string("/api/backup/restore") + (o.dry_run ? "?dry_run=true" : "");
    auto r = call_json(o.target, "POST", target, doc);
    if (r.exit_code != 0) return r.exit_code;
    report_restore(o, std::move(r.doc.as_object()), doc);
    return kExitOk;
}

/// run_restore with a problem of the file reported against it: exit 1 when it could not be
/// decrypted (wrong passphrase or damage), 2 when it is not a backup this qcc reads.
int restore_command(const BackupOptions& o) {
    try {
        return run_restore(o);
    } catch (const BackupFileError& e) {
        std::cerr << "qcc: " << o.file << ": " << e.what() << "\n";
        return e.kind() == BackupFileError::Kind::kDecrypt ? kExitFailed : kExitUsage;
    }
}

}  // namespace

std::string default_backup_name(long long unix_s) {
    const auto t = static_cast<std::time_t>(unix_s);
    std::tm local{};
    ::localtime_r(&t, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H%M%S", &local);
    return std::string("qcc-backup-") + stamp + ".qccbak";
}

void add_backup_commands(CLI::App& app) {
    const std::string passphrase_help =
        "Read the passphrase from the first line of FILE (else QCC_BACKUP_PASSPHRASE, else it is "
        "asked on the terminal)";
    {
        auto o = std::make_shared<BackupOptions>();
        auto* cmd = app.add_subcommand("backup",
                                       "Write endpoints with their credentials, client keys and "
                                       "settings to an encrypted file");
        cmd->add_option("FILE", o->file,
                        "Output file, mode 0600 ('-' = standard output; default "
                        "qcc-backup-<date>-<time>.qccbak)");
        cmd->add_option("--passphrase-file", o->passphrase_file, passphrase_help)
            ->type_name("FILE");
        cmd->add_flag("-f,--force", o->force, "Replace FILE if it exists");
        add_target_options(cmd, o->target);
        cmd->add_flag("--json", o->json, "JSON output (the file and what it holds)");
        cmd->footer(
            "The file is sealed with AES-256-GCM under a key derived from the passphrase (scrypt). "
            "`qcc restore-backup FILE` puts it back on any QCC. `qcc config export` writes "
            "endpoints without credentials instead, for sharing.");
        run_with_exit_code(cmd, [o] { return run_backup(*o); });
    }
    {
        auto o = std::make_shared<BackupOptions>();
        auto* cmd = app.add_subcommand(
            "restore-backup",
            "Restore a `qcc backup` file: endpoints (by name), client keys, settings");
        cmd->add_option("FILE", o->file, "Backup file ('-' = standard input)")->required();
        cmd->add_option("--passphrase-file", o->passphrase_file, passphrase_help)
            ->type_name("FILE");
        cmd->add_flag("-n,--dry-run", o->dry_run, "Only print what would change");
        add_target_options(cmd, o->target);
        cmd->add_flag("--json", o->json, "JSON output");
        cmd->footer(
            "Endpoints and client keys of the backup replace those of the same name; others are "
            "left alone. Client keys come back by their hash, so clients keep their keys.");
        run_with_exit_code(cmd, [o] { return restore_command(*o); });
    }
}

}  // namespace qcc::cli
