#include "cli/health_cmd.hpp"

#include <iomanip>
#include <iostream>

#include <boost/json.hpp>
#include <unistd.h>

#include "cli/admin_client.hpp"
#include "cli/command_util.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct HealthOptions {
    std::vector<std::string> endpoints;
    std::string method;
    AdminTarget target;
    bool json = false;
};

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
    std::cout << std::left << std::setw(18) << "ENDPOINT" << std::setw(9) << "RESULT"
              << std::setw(7) << "VALID" << std::setw(7) << "SCORE" << std::setw(10) << "LATENCY"
              << std::setw(20) << "MODEL" << std::setw(10) << "TOKENS"
              << "ERROR\n";
    for (const auto& row : doc.at("checks").as_array()) {
        const auto& r = row.as_object();
        const auto tokens = r.at("input_tokens").to_number<std::int64_t>() +
                            r.at("output_tokens").to_number<std::int64_t>();
        std::cout << std::left << std::setw(18) << json::value_to<std::string>(r.at("endpoint"))
                  << std::setw(9) << json::value_to<std::string>(r.at("result")) << std::setw(7)
                  << (r.at("valid").as_bool() ? "yes" : "no") << std::setw(7)
                  << r.at("score").to_number<std::int64_t>() << std::setw(10)
                  << (std::to_string(r.at("latency_ms").to_number<std::int64_t>()) + " ms")
                  << std::setw(20) << json::value_to<std::string>(r.at("model")) << std::setw(10)
                  << tokens << json::value_to<std::string>(r.at("error")) << "\n";
    }
    return all_passed ? 0 : kExitFailed;
}

struct StatusOptions {
    AdminTarget target;
    bool json = false;
};

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
    std::cout << std::left << std::setw(18) << "ENDPOINT" << std::setw(6) << "TIER" << std::setw(8)
              << "WEIGHT" << std::setw(8) << "USABLE" << std::setw(11) << "BREAKER" << std::setw(22)
              << "COOLDOWN" << std::setw(22) << "QUARANTINE" << std::setw(20) << "STREAMS"
              << std::setw(9) << "INFLIGHT" << std::setw(10) << "OK/FAIL"
              << "TTFB\n";
    for (const auto& row : doc.at("endpoints").as_array()) {
        const auto& r = row.as_object();
        const auto cooldown = r.at("cooldown_ms").to_number<std::int64_t>();
        const auto quarantined = r.at("quarantined").as_bool();
        // "cuts streams": tried after every other endpoint (for the hold, then until it
        // completes a stream).
        std::string streams = "ok";
        if (const auto* c = r.if_contains("cuts_streams");
            c != nullptr && c->is_bool() && c->as_bool()) {
            const auto* d = r.if_contains("demoted_ms");
            const auto demoted = d != nullptr && d->is_number() ? d->to_number<std::int64_t>() : 0;
            streams = demoted > 0 ? "cuts, last " + std::to_string((demoted + 999) / 1000) + "s"
                                  : "cuts, on trial";
        }
        std::cout << std::left << std::setw(18) << json::value_to<std::string>(r.at("name"))
                  << std::setw(6) << r.at("tier").to_number<std::int64_t>() << std::setw(8)
                  << static_cast<std::int64_t>(r.at("effective_weight").to_number<double>())
                  << std::setw(8) << (r.at("usable").as_bool() ? "yes" : "no") << std::setw(11)
                  << json::value_to<std::string>(r.at("breaker")) << std::setw(22)
                  << (cooldown > 0 ? std::to_string(cooldown / 1000) + "s " +
                                         json::value_to<std::string>(r.at("cooldown_reason"))
                                   : std::string("-"))
                  << std::setw(22)
                  << (quarantined ? json::value_to<std::string>(r.at("quarantine_reason"))
                                  : std::string("-"))
                  << std::setw(20) << streams << std::setw(9)
                  << r.at("in_flight").to_number<std::int64_t>() << std::setw(10)
                  << (std::to_string(r.at("successes").to_number<std::int64_t>()) + "/" +
                      std::to_string(r.at("failures").to_number<std::int64_t>()))
                  << static_cast<std::int64_t>(r.at("ewma_ttfb_ms").to_number<double>()) << " ms\n";
    }
    std::cout << "\nsessions bound: " << doc.at("sessions").to_number<std::int64_t>()
              << ", re-pins: " << doc.at("repins").to_number<std::int64_t>() << "\n";
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
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o] { throw CLI::RuntimeError(run_health(*o)); });

    auto s = std::make_shared<StatusOptions>();
    auto* status = app.add_subcommand(
        "status", "Live endpoint states: breaker, cooldown, quarantine, in-flight, weights");
    add_target_options(status, s->target);
    status->add_flag("--json", s->json, "JSON output");
    status->callback([s] { throw CLI::RuntimeError(run_status(*s)); });
}

}  // namespace qcc::cli
