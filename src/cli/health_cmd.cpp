#include "cli/health_cmd.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <boost/json.hpp>
#include <unistd.h>

#include "cli/admin_client.hpp"
#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct HealthOptions {
    std::vector<std::string> endpoints;
    std::string method;
    AdminTarget target;
    bool json = false;
};

void print_checks(const json::array& checks) {
    Table t({"ENDPOINT", "RESULT", "VALID", "SCORE", "LATENCY", "MODEL", "TOKENS", "ERROR"},
            {false, false, false, true, true, false, true, false});
    t.state_column(1).state_column(2);
    for (const auto& row : checks) {
        if (!row.is_object()) continue;
        const auto& r = row.as_object();
        t.add_row({json_str(r, "endpoint"), json_str(r, "result"),
                   json_bool(r, "valid") ? "yes" : "no", std::to_string(json_int(r, "score")),
                   format_ms(json_num(r, "latency_ms")), json_str(r, "model"),
                   format_count(json_int(r, "input_tokens") + json_int(r, "output_tokens")),
                   json_str(r, "error")});
    }
    t.print(std::cout);
}

int run_health(const HealthOptions& o) {
    std::string target = "/api/health/check";
    char sep = '?';
    for (const auto& e : o.endpoints) {
        target += sep;
        target += "endpoint=" + percent_encode(e);
        sep = '&';
    }
    if (!o.method.empty()) target += std::string(1, sep) + "method=" + percent_encode(o.method);
    if (!o.json && ::isatty(STDERR_FILENO) != 0) {
        // The checks take as long as the slowest endpoint's answer (up to the check timeout).
        std::cerr << "checking "
                  << (o.endpoints.empty() ? std::string("every enabled endpoint")
                                          : std::to_string(o.endpoints.size()) + " endpoint(s)")
                  << " (each waits for a real answer; up to 30 s)...\n";
    }
    int exit_code = 0;
    const auto res = admin_request(o.target, "POST", target, &exit_code);
    if (exit_code != 0) return exit_code;
    json::value doc;
    try {
        doc = json::parse(res.body);
    } catch (const std::exception& e) {
        std::cerr << "qcc: unexpected answer from the server: " << e.what() << "\n";
        return kExitUnreachable;
    }
    const bool all_passed = doc.at("all_passed").as_bool();
    if (o.json) {
        std::cout << json::serialize(doc) << "\n";
        return all_passed ? 0 : kExitFailed;
    }
    if (doc.at("checks").as_array().empty()) {
        std::cout << "no enabled endpoint to check: add one with `qcc endpoint add NAME --url URL "
                     "--key KEY` or enable one with `qcc endpoint enable NAME`\n";
        return 0;
    }
    print_checks(doc.at("checks").as_array());
    return all_passed ? 0 : kExitFailed;
}

struct StatusOptions {
    AdminTarget target;
    bool json = false;
};

/// "cuts, last 25s" / "cuts, on trial" for an endpoint tried after every other one (for the hold,
/// then until it completes a stream); "ok" otherwise.
std::string streams_text(const json::object& r) {
    if (!json_bool(r, "cuts_streams")) return "ok";
    const auto demoted = json_int(r, "demoted_ms");
    return demoted > 0 ? "cuts, last " + std::to_string((demoted + 999) / 1000) + "s"
                       : "cuts, on trial";
}

/// A cooldown or quarantine cell: warn / bad when set, dim when "-".
Tone cooldown_tone(std::string_view cell) { return cell == "-" ? Tone::kDim : Tone::kWarn; }
Tone quarantine_tone(std::string_view cell) { return cell == "-" ? Tone::kDim : Tone::kBad; }

/// The instances sharing the server's store, when there are several (one PostgreSQL).
void print_fleet(const json::object& doc) {
    const auto& instances = json_arr(doc, "instances");
    if (instances.size() < 2) return;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::cout << "\n"
              << instances.size()
              << " instances share the store (each admits its share of per-key rate limits):\n";
    Table t({"INSTANCE", "ADDRESS", "VERSION", "STARTED", "LAST SEEN"},
            {false, false, false, false, true});
    for (const auto& row : instances) {
        if (!row.is_object()) continue;
        const auto& r = row.as_object();
        const auto seen = std::max<std::int64_t>(0, now - json_int(r, "heartbeat_at"));
        t.add_row({json_str(r, "id") + (json_bool(r, "self") ? " (this one)" : ""),
                   json_str(r, "address"), json_str(r, "version"),
                   format_time(json_int(r, "started_at")), std::to_string(seen / 1000) + "s ago"});
    }
    t.print(std::cout);
}

void print_status(const json::object& doc) {
    Table t({"ENDPOINT", "TIER", "WEIGHT", "USABLE", "BREAKER", "COOLDOWN", "QUARANTINE", "STREAMS",
             "INFLIGHT", "OK/FAIL", "TTFB"},
            {false, true, true, false, false, false, false, false, true, true, true});
    t.state_column(3).state_column(4).tone_column(5, cooldown_tone);
    t.tone_column(6, quarantine_tone).state_column(7);
    for (const auto& row : json_arr(doc, "endpoints")) {
        if (!row.is_object()) continue;
        const auto& r = row.as_object();
        const auto cooldown = json_int(r, "cooldown_ms");
        t.add_row(
            {json_str(r, "name"), std::to_string(json_int(r, "tier")),
             std::to_string(static_cast<std::int64_t>(json_num(r, "effective_weight"))),
             json_bool(r, "usable") ? "yes" : "no", json_str(r, "breaker", "-"),
             cooldown > 0
                 ? std::to_string((cooldown + 999) / 1000) + "s " + json_str(r, "cooldown_reason")
                 : "-",
             json_bool(r, "quarantined") ? json_str(r, "quarantine_reason") : "-", streams_text(r),
             format_count(json_int(r, "in_flight")),
             format_count(json_int(r, "successes")) + "/" + format_count(json_int(r, "failures")),
             format_ms(json_num(r, "ewma_ttfb_ms"))});
    }
    t.print(std::cout);
    std::cout << "\nsessions bound: " << format_count(json_int(doc, "sessions"))
              << ", re-pins: " << format_count(json_int(doc, "repins")) << "\n";
    print_fleet(doc);
}

int run_status(const StatusOptions& o) {
    int exit_code = 0;
    const auto res = admin_request(o.target, "GET", "/api/status", &exit_code);
    if (exit_code != 0) return exit_code;
    json::value doc;
    try {
        doc = json::parse(res.body);
    } catch (const std::exception& e) {
        std::cerr << "qcc: unexpected answer from the server: " << e.what() << "\n";
        return kExitUnreachable;
    }
    if (o.json) {
        std::cout << json::serialize(doc) << "\n";
        return 0;
    }
    if (doc.at("endpoints").as_array().empty()) {
        std::cout << "no endpoints configured: add one with `qcc endpoint add NAME --url URL --key "
                     "KEY` (or [[endpoints]] in the config file), or try `qcc serve --demo`\n";
        return 0;
    }
    print_status(doc.as_object());
    return 0;
}

}  // namespace

void add_health_command(CLI::App& app) {
    auto o = std::make_shared<HealthOptions>();
    auto* cmd = app.add_subcommand(
        "health", "Run health checks now through the running server and print a score table");
    cmd->add_option("ENDPOINT", o->endpoints, "Endpoints to check (default: every enabled one)");
    cmd->add_option("-m,--method", o->method, "conversation (default setting), models or connect")
        ->check(CLI::IsMember({"conversation", "models", "connect"}));
    add_target_options(cmd, o->target);
    add_output_flags(cmd, o->json);
    cmd->callback([o] { throw CLI::RuntimeError(run_health(*o)); });

    auto s = std::make_shared<StatusOptions>();
    auto* status = app.add_subcommand(
        "status", "Live endpoint states: breaker, cooldown, quarantine, in-flight, weights");
    add_target_options(status, s->target);
    add_output_flags(status, s->json);
    status->callback([s] { throw CLI::RuntimeError(run_status(*s)); });
}

}  // namespace qcc::cli
