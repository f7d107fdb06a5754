// Admin API: GET /api/status (live endpoint states and process figures) and POST
// /api/health/check (checks run now, on the health-check thread).
#include <algorithm>

#include "admin/call.hpp"
#include "admin/json.hpp"
#include "common/version.hpp"
#include "control/check_service.hpp"

namespace qcc::admin {

asio::awaitable<Reply> get_status(Call& c) {
    reject_unknown_params(c, {});
    json::array rows;
    // Held for the loop: a snapshot published meanwhile must not free it.
    const auto endpoint_set = c.control.snapshots().endpoints();
    for (const auto& ep : endpoint_set->endpoints) {
        rows.push_back(endpoint_status_row(c.control, *ep));
    }
    const auto f = c.control.figures();
    json::object body;
    body["version"] = kVersion;
    body["uptime_s"] = f.uptime_s;
    body["requests"] = f.requests;
    body["in_flight"] = f.in_flight;
    body["failovers"] = f.failovers;
    body["log_rows_dropped"] = f.log_rows_dropped;
    body["sessions"] = f.sessions;
    body["repins"] = f.repins;
    body["endpoints"] = std::move(rows);
    body["instance_id"] = f.instance_id;
    json::array fleet;
    for (const auto& i : f.fleet) {
        json::object o;
        o["id"] = i.id;
        o["address"] = i.address;
        o["version"] = i.version;
        o["started_at"] = i.started_at_unix_ms;
        o["heartbeat_at"] = i.heartbeat_unix_ms;
        o["self"] = i.id == f.instance_id;
        fleet.push_back(std::move(o));
    }
    body["instances"] = std::move(fleet);
    co_return Reply(std::move(body));
}

/// POST /api/health/check?endpoint=A&endpoint=B&method=conversation|models|connect
/// Runs the checks now, concurrently; records and applies the results.
asio::awaitable<Reply> post_health_check(Call& c) {
    reject_unknown_params(c, {"endpoint", "method"});
    std::vector<std::string> names;
    for (const auto& [k, v] : c.query) {
        if (k == "endpoint") names.push_back(v);
    }
    std::optional<upstream::CheckMethod> method;
    if (const auto m = param(c, "method")) {
        method = upstream::parse_check_method(*m);
        if (!method) bad_request("method: expected conversation, models or connect");
    }
    const auto set = c.control.snapshots().endpoints();
    for (const auto& n : names) {
        if (set->find(n) == nullptr) not_found("no endpoint named '" + n + "'");
    }
    std::vector<std::shared_ptr<const upstream::Endpoint>> targets;
    for (const auto& ep : set->endpoints) {
        if (names.empty() ? ep->cfg.enabled
                          : std::find(names.begin(), names.end(), ep->cfg.name) != names.end()) {
            targets.push_back(ep);
        }
    }
    const auto results = co_await c.control.run_checks(targets, method);
    json::array rows;
    bool all_passed = true;
    const auto now = system_unix_ms();
    for (std::size_t i = 0; i < targets.size() && i < results.size(); ++i) {
        rows.push_back(check_json(control::check_record(targets[i]->cfg.name, results[i], now)));
        all_passed = all_passed && results[i].result == "pass";
    }
    // (Built outside any co_await: GCC 12 mis-compiles initializer lists inside coroutines.)
    json::object body;
    body["all_passed"] = all_passed;
    body["checks"] = std::move(rows);
    co_return Reply(std::move(body));
}

}  // namespace qcc::admin
