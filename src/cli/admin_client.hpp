// A small blocking client of the running server's admin API , shared by
// every CLI command that needs live state or edits the store through the server.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace qcc::cli {

/// Where the server is and how to authenticate: from flags, else the config file.
struct AdminTarget {
    std::string config_path;  // "" = ~/.qcc/config.toml if it exists
    std::string listen;       // "" = from the config (default 127.0.0.1:7860)
    std::string token;        // "" = QCC_ADMIN_TOKEN, config admin_token, <data_dir>/admin.token
};

/// A resolved target: the address to connect to and the token to present.
struct AdminEndpoint {
    std::string host;  // 0.0.0.0 / :: are replaced by the loopback address
    std::uint16_t port = 0;
    std::string token;
    /// "host:port" as a client would write it in a URL authority ("[::1]:7860" for IPv6).
    std::string authority() const;
};

/// One HTTP answer. status 0 = no answer (the server could not be reached).
struct AdminResponse {
    int status = 0;
    std::string body;
};

/// Exit codes shared by the management commands.
inline constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3,
                     kExitNotFound = 4;

/// Resolves flags + config into an address and token. On a config problem prints it to stderr,
/// sets *exit_code (kExitUsage) and returns nullopt.
std::optional<AdminEndpoint> resolve_admin_target(const AdminTarget& t, int* exit_code);

/// Sends `method target` with the admin token and, when `json_body` is set, that body as
/// application/json. Returns the status and body for every HTTP status. When the server cannot be
/// reached (or the config is bad) prints why to stderr, sets *exit_code and returns status 0;
/// otherwise *exit_code is 0 and callers map the status themselves (see report_failure).
AdminResponse admin_call(const AdminTarget& t, std::string_view method, const std::string& target,
                         const std::optional<std::string>& json_body, int* exit_code);

/// Exit code for a non-2xx status: 400/409/413/405 → 2, 401/403 → 3, 404 → 4, others → 1.
int exit_code_for_status(int status);

/// The human message of an Anthropic-shaped error body (`error.message`), else the body itself
/// (trimmed) or "HTTP <status>" when empty.
std::string server_error_message(int status, std::string_view body);

/// Prints "qcc: <message>" (plus a hint about the admin token for 401/403) to stderr and returns
/// exit_code_for_status(status).
int report_failure(const AdminResponse& r);

/// Legacy helper for `qcc health` / `qcc status`: like admin_call without a body, but any status
/// other than 200 is printed and turned into *exit_code (via report_failure).
AdminResponse admin_request(const AdminTarget& t, std::string_view method,
                            const std::string& target, int* exit_code);

/// Called once per server-sent event; return false to stop reading.
using SseHandler = std::function<bool(std::string_view event, std::string_view data)>;

/// GET `target` as a server-sent-event stream, calling `on_event` per complete event (comments
/// such as ": ping" are skipped). Returns when the server closes the stream (kExitOk), on SIGINT /
/// SIGTERM or when *stop becomes true (kExitOk), when the handler returns false (kExitOk), or on
/// an error (printed; the exit code of the failure).
int admin_stream(const AdminTarget& t, const std::string& target, const SseHandler& on_event,
                 const std::atomic<bool>* stop = nullptr);

/// GET `target` without a token and without printing anything: the status, or 0 when nothing
/// answered within `timeout` (used to find out whether a server is running).
int probe(const AdminEndpoint& ep, const std::string& target, std::chrono::milliseconds timeout);

/// Percent-encodes a query parameter or path segment.
std::string percent_encode(std::string_view s);

}  // namespace qcc::cli
