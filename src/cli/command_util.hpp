// Plumbing shared by the admin-API commands: the common target flags, JSON calls that turn HTTP
// failures into exit codes (printing the server's message), and an exception guard.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cli/admin_client.hpp"

namespace qcc::cli {

/// Adds -c/--config, -l/--listen and --token, filling `t`.
void add_target_options(CLI::App* cmd, AdminTarget& t);

/// Outcome of call_json: exit_code 0 and the parsed body, or the exit code of a failure that was
/// already reported on stderr.
struct JsonResult {
    int exit_code = 0;
    int status = 0;
    boost::json::value doc;
};

/// Sends the request (with `body` as JSON when given) and parses a 2xx answer. Non-2xx answers
/// are reported with the server's error message and mapped with exit_code_for_status; an answer
/// that is not JSON is reported as kExitFailed.
JsonResult call_json(const AdminTarget& t, std::string_view method, const std::string& target,
                     const std::optional<boost::json::object>& body = std::nullopt);

/// Runs `f`, turning exceptions into a printed "qcc: ..." and kExitFailed (kExitUsage for
/// config::ConfigError).
int guarded(const std::function<int()>& f);

/// Prints `v` as one line of JSON to stdout.
void print_json(const boost::json::value& v);

/// "/api/endpoints/<percent-encoded name><suffix>".
std::string endpoint_path(std::string_view name, std::string_view suffix = "");

/// Registers `cmd`'s callback to run `f` and end parsing with its exit code.
void run_with_exit_code(CLI::App* cmd, std::function<int()> f);

}  // namespace qcc::cli
