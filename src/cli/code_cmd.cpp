#include "cli/code_cmd.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/claude_settings.hpp"
#include "cli/client_keys.hpp"
#include "cli/command_util.hpp"
#include "cli/format.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kKeyName = "qcc-code";
constexpr auto kProbeTimeout = 1500ms;
constexpr auto kStartPoll = 50ms;
constexpr int kStartPolls = 400;  // 20 s for a started server to listen

struct CodeOptions {
    AdminTarget target;
    bool demo = false;
    std::string key;  // a client key to use (and keep) instead of one qcc code makes
    std::string claude = "claude";
    std::vector<std::string> args;  // passed to claude unchanged
};

/// Where `qcc code` keeps the client key it made (the server stores only its hash).
std::string key_file() { return config::expand_home("~/.qcc/code-key.json"); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// `name` resolved like execvp would (PATH search unless it contains a slash); "" if not found.
std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = (fs::path(dir.empty() ? "." : dir) / name).string();
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return "";
}

/// The authority in the server's "qcc listening on http://HOST:PORT" log line, if written yet.
std::string listening_authority(const std::string& log) {
    static constexpr std::string_view kMark = "qcc listening on http://";
    const auto text = read_file(log);
    const auto at = text.find(kMark);
    if (at == std::string::npos) return "";
    const auto start = at + kMark.size();
    const auto end = text.find_first_of(" \n", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void print_log_tail(const std::string& log) {
    const auto text = read_file(log);
    auto from = text.size();
    for (int lines = 0; lines < 15 && from > 0; ++lines) {
        from = text.rfind('\n', from - 2 < text.size() ? from - 2 : 0);
        if (from == std::string::npos) {
            from = 0;
            break;
        }
        ++from;
    }
    std::cerr << text.substr(from);
}

/// Starts `qcc serve` in the background (its own session, output to `log`); returns its pid.
pid_t spawn_server(const CodeOptions& o, const std::string& log) {
    std::vector<std::string> args{"qcc", "serve"};
    if (o.demo) args.emplace_back("--demo");
    if (!o.target.config_path.empty()) args.insert(args.end(), {"--config", o.target.config_path});
    if (!o.target.listen.empty()) args.insert(args.end(), {"--listen", o.target.listen});
    std::error_code ec;
    fs::create_directories(fs::path(log).parent_path(), ec);
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    ::setsid();
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    ::execvp("qcc", argv.data());
    ::_exit(127);
}

/// Starts a server and waits until it answers; the authority it listens on, or "" (reported).
std::string start_server(const CodeOptions& o) {
    const auto log = config::expand_home("~/.qcc/code-serve.log");
    const pid_t pid = spawn_server(o, log);
    if (pid < 0) {
        std::cerr << "qcc: cannot start qcc serve: " << std::strerror(errno) << "\n";
        return "";
    }
    for (int i = 0; i < kStartPolls; ++i) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            std::cerr << "qcc: qcc serve exited at start; the end of " << log << ":\n";
            print_log_tail(log);
            return "";
        }
        const auto authority = listening_authority(log);
        if (!authority.empty()) {
            AdminTarget t = o.target;
            t.listen = authority;
            int ignored = 0;
            const auto ep = resolve_admin_target(t, &ignored);
            if (ep && probe(*ep, "/healthz", kProbeTimeout) == 200) {
                std::cerr << "qcc: started QCC" << (o.demo ? " (demo)" : "") << " on http://"
                          << authority << " in the background (pid " << pid << ", log " << log
                          << "); it keeps running after Claude Code exits: stop it with kill "
                          << pid << "\n";
                return authority;
            }
        }
        std::this_thread::sleep_for(kStartPoll);  // polling interval of a bounded wait (20 s)
    }
    std::cerr << "qcc: qcc serve (pid " << pid << ") did not answer within 20 s; see " << log
              << "\n";
    return "";
}

/// The running server's authority, starting one when none answers; "" after a reported failure.
std::string find_or_start_server(const CodeOptions& o, int* exit_code) {
    const auto ep = resolve_admin_target(o.target, exit_code);
    if (!ep) return "";
    if (probe(*ep, "/healthz", kProbeTimeout) == 200) {
        if (o.demo) std::cerr << "qcc: a QCC already runs on " << ep->authority() << "; using it\n";
        return ep->authority();
    }
    auto authority = start_server(o);
    if (authority.empty()) *exit_code = kExitFailed;
    return authority;
}

/// The key `qcc code` saved for this server (not checked), if any.
std::optional<std::string> saved_key(const std::string& server) {
    boost::system::error_code ec;
    const auto doc = json::parse(read_file(key_file()), ec);
    if (ec || !doc.is_object() || json_str(doc.as_object(), "server") != server)
        return std::nullopt;
    const auto key = json_str(doc.as_object(), "key");
    if (key.empty()) return std::nullopt;
    return key;
}

/// Whether this CLI may manage the server (its admin token is accepted).
bool admin_available(const AdminTarget& t) {
    int exit_code = 0;
    const auto res = admin_call(t, "GET", "/api/keys", std::nullopt, &exit_code);
    return exit_code == 0 && res.status == 200;
}

void save_key(const std::string& server, const NewClientKey& k) {
    json::object o;
    o["server"] = server;
    o["name"] = k.name;
    o["key"] = k.key;
    const auto path = key_file();
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const std::string text = json::serialize(o) + "\n";
    const bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0 &&
                    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) ::close(fd);
    if (!ok) {
        std::cerr << "qcc: warning: cannot save the client key in " << path
                  << "; the next `qcc code` makes another\n";
    }
}

/// The client key claude gets: --key (kept for the next run), the saved one while the server
/// accepts it, else a new key named qcc-code. Without the admin token (a server run by systemd
/// keeps it in its own data_dir) only --key or a saved key can be used.
std::optional<std::string> client_key(const CodeOptions& o, const AdminTarget& t,
                                      const std::string& server, bool admin, int* exit_code) {
    if (!o.key.empty()) {
        if (admin && !check_given_key(t, o.key, exit_code)) return std::nullopt;
        save_key(server, NewClientKey{"given", o.key});
        return o.key;
    }
    const auto saved = saved_key(server);
    if (!admin) {
        if (saved) return saved;
        std::cerr
            << "qcc: qcc code needs a client key for the QCC at " << server
            << ", and this user cannot make one (the server's admin token is not readable "
               "here: a server run by systemd keeps it in /var/lib/qcc). Ask for a key (sudo "
               "qcc key create NAME --config /etc/qcc/config.toml) and run qcc code --key KEY "
               "once; later runs reuse it\n";
        *exit_code = kExitUnreachable;
        return std::nullopt;
    }
    if (saved) {
        const auto info = find_client_key(t, *saved, exit_code);
        if (*exit_code != 0) return std::nullopt;
        if (info && !info->revoked) return saved;
    }
    const auto made = create_client_key(t, kKeyName, exit_code);
    if (!made) return std::nullopt;
    save_key(server, *made);
    return made->key;
}

/// Things that would make Claude Code bypass QCC or fail at once, said before it starts.
void warn_before_start(const AdminTarget& t, const std::string& base_url, bool admin) {
    try {
        const auto settings = default_claude_settings_path();
        const auto url = claude_env_value(settings, "ANTHROPIC_BASE_URL");
        if (url && *url != base_url) {
            std::cerr << "qcc: warning: " << settings << " sets env.ANTHROPIC_BASE_URL = " << *url
                      << ", which Claude Code applies over the environment qcc code gives it; "
                         "remove it (or `qcc claude restore`) to go through QCC\n";
        }
    } catch (const ClaudeSettingsError&) {
        // Claude Code itself will complain about a broken settings file.
    }
    if (!admin) return;
    const auto status = call_json(t, "GET", "/api/status");
    if (status.exit_code == 0 && status.doc.is_object() &&
        json_arr(status.doc.as_object(), "endpoints").empty()) {
        std::cerr << "qcc: warning: QCC has no upstream endpoints yet, so Claude Code's requests "
                     "will fail: add one with `qcc endpoint add NAME --url URL --key-file FILE`, "
                     "or try `qcc code --demo` against simulated ones\n";
    }
}

int run_code(const CodeOptions& o) {
    const auto claude = find_program(o.claude);
    if (claude.empty()) {
        std::cerr << "qcc: the Claude Code CLI (" << o.claude
                  << ") is not on PATH; install it with `npm install -g @anthropic-ai/claude-code`"
                     " or name it with --claude PATH\n";
        return kExitFailed;
    }
    int exit_code = 0;
    const auto server = find_or_start_server(o, &exit_code);
    if (server.empty()) return exit_code;
    AdminTarget t = o.target;
    t.listen = server;
    const bool admin = admin_available(t);
    const auto key = client_key(o, t, server, admin, &exit_code);
    if (!key) return exit_code;
    const std::string base_url = "http://" + server;
    warn_before_start(t, base_url, admin);
    ::setenv("ANTHROPIC_BASE_URL", base_url.c_str(), 1);
    ::setenv("ANTHROPIC_AUTH_TOKEN", key->c_str(), 1);
    ::unsetenv("ANTHROPIC_API_KEY");  // would be sent as well and could be a real Anthropic key
    std::vector<std::string> args{claude};
    args.insert(args.end(), o.args.begin(), o.args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::cout.flush();
    ::execv(claude.c_str(), argv.data());
    std::cerr << "qcc: cannot run " << claude << ": " << std::strerror(errno) << "\n";
    return kExitFailed;
}

}  // namespace

int split_code_args(int argc, char** argv, std::vector<std::string>* claude_args) {
    if (argc < 2 || std::string_view(argv[1]) != "code") return argc;
    static constexpr std::string_view kValued[] = {"--config", "--listen", "--token", "--key",
                                                   "--claude"};
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--demo" || arg == "-h" || arg == "--help") continue;
        bool own = false;
        for (const auto name : kValued) {
            if (arg == name) {
                ++i;  // its value
                own = true;
            } else if (arg.starts_with(name) && arg.substr(name.size()).starts_with("=")) {
                own = true;
            }
        }
        if (own) continue;
        claude_args->assign(argv + i + (arg == "--" ? 1 : 0), argv + argc);
        return i;
    }
    return argc;
}

void add_code_command(CLI::App& app, std::shared_ptr<std::vector<std::string>> claude_args) {
    auto o = std::make_shared<CodeOptions>();
    auto* cmd = app.add_subcommand(
        "code", "Run Claude Code through QCC, starting the server when none runs");
    cmd->add_option("--config", o->target.config_path,
                    "Config file of the server to find or start (default ~/.qcc/config.toml)");
    cmd->add_option("--listen", o->target.listen,
                    "Address of the server (default: the config's listen, 127.0.0.1:7860)");
    cmd->add_option("--token", o->target.token, "Admin token (default: as the other commands)");
    cmd->add_option("--key", o->key,
                    "Client key for claude (kept for later runs; default: one qcc code makes)");
    cmd->add_flag("--demo", o->demo,
                  "When no server runs, start `qcc serve --demo` (simulated endpoints)");
    cmd->add_option("--claude", o->claude, "The Claude Code program (default: claude on PATH)");
    cmd->footer(
        "\nqcc code [OPTIONS] [--] [CLAUDE ARGS...] finds the local server (or starts `qcc serve` "
        "in "
        "the background, log in ~/.qcc/code-serve.log), then runs `claude` with "
        "ANTHROPIC_BASE_URL and a client key of its own (kept in ~/.qcc/code-key.json). Every "
        "argument after these options, or after `--`, goes to claude unchanged; the exit status "
        "is claude's.\n\nExamples:\n  qcc code\n  qcc code --continue\n  qcc code -p 'explain this "
        "repo'\n"
        "  qcc code --demo -- -p 'run `echo hi`' --allowedTools Bash");
    run_with_exit_code(cmd, [o, claude_args] {
        o->args = *claude_args;
        return guarded([&] { return run_code(*o); });
    });
}

}  // namespace qcc::cli
