// A small blocking client of the running server's admin API, shared by the CLI commands that
// need live state (`qcc health`, `qcc status`).
#pragma once
#include <string>

namespace qcc::cli {

/// Where the server is and how to authenticate: from flags, else the config file.
struct AdminTarget {
    std::string config_path;  // "" = ~/.qcc/config.toml if it exists
    std::string listen;       // "" = from the config (default 127.0.0.1:7860)
    std::string token;        // "" = QCC_ADMIN_TOKEN, config admin_token, <data_dir>/admin.token
};

struct AdminResponse {
    int status = 0;
    std::string body;
};

/// Exit codes shared by these commands.
inline constexpr int kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3;

/// Sends `method target` with the admin token. On failure prints a helpful message to stderr
/// and returns nullopt-like status 0 with `exit_code` set (kExitUsage or kExitUnreachable).
AdminResponse admin_request(const AdminTarget& t, std::string_view method,
                            const std::string& target, int* exit_code);

/// Percent-encodes a query parameter value.
std::string percent_encode(std::string_view s);

}  // namespace qcc::cli
