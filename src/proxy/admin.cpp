#include "proxy/admin.hpp"

#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "common/crypto.hpp"
#include "protocol/http/headers.hpp"
#include "proxy/gateway.hpp"
#include "proxy/worker.hpp"
#include "upstream/checker.hpp"
#include "upstream/selector.hpp"

namespace qcc::proxy {

namespace {

namespace json = boost::json;
namespace hdr = qcc::http;

bool admin_authorized(const Runtime& rt, const ClientRequest& req) {
    const auto& token = rt.config().admin_token;
    if (token.empty()) return false;
    const std::string_view auth = req[http::field::authorization];
    if (auth.size() <= 7 || !hdr::iequals(auth.substr(0, 7), "bearer ")) return false;
    return crypto::constant_time_equal(auth.substr(7), token);
}

asio::awaitable<bool> write_json(beast::tcp_stream& client, int status, const json::value& v,
                                 bool keep_alive) {
    co_return co_await write_simple(client, status, {}, "application/json", json::serialize(v),
                                    keep_alive);
}

json::object check_row(const std::string& endpoint, const upstream::CheckResult& r) {
    return json::object{{"endpoint", endpoint},
                        {"method", r.method},
                        {"result", r.result.empty() ? std::string("timeout") : r.result},
                        {"valid", r.valid},
                        {"score", r.score},
                        {"latency_ms", r.latency_ms},
                        {"model", r.model},
                        {"input_tokens", r.input_tokens},
                        {"output_tokens", r.output_tokens},
                        {"error", r.error}};
}

/// POST /api/health/check?endpoint=A&endpoint=B&method=conversation|models|connect
/// Runs the checks now, concurrently, on this worker's pool; records and applies the results.
asio::awaitable<bool> health_check(Worker& w, beast::tcp_stream& client, ClientRequest& req,
                                   bool keep_alive) {
    auto& rt = w.runtime();
    const auto policy = rt.policy();
    upstream::CheckOptions options;
    options.model = policy->health_model;
    options.timeout = policy->health_timeout;
    std::string method = policy->health_method;
    std::vector<std::string> names;
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) {
        co_return co_await write_error(client, 400, "invalid_request_error", "bad target",
                                       keep_alive);
    }
    bool explicit_method = false;
    for (const auto& p : url->params()) {
        if (p.key == "endpoint") names.push_back(std::string(p.value));
        if (p.key == "method") {
            method = std::string(p.value);
            explicit_method = true;
        }
    }
    if (method == "models") {
        options.method = upstream::CheckMethod::kModels;
    } else if (method == "connect") {
        options.method = upstream::CheckMethod::kConnect;
    } else if (method != "conversation") {
        co_return co_await write_error(client, 400, "invalid_request_error",
                                       "method must be conversation, models or connect",
                                       keep_alive);
    }
    const auto set = rt.endpoints();
    std::vector<std::shared_ptr<const upstream::Endpoint>> targets;
    for (const auto& ep : set->endpoints) {
        if (names.empty() ? ep->cfg.enabled
                          : std::find(names.begin(), names.end(), ep->cfg.name) != names.end()) {
            targets.push_back(ep);
        }
    }
    for (const auto& n : names) {
        if (set->find(n) == nullptr) {
            co_return co_await write_error(client, 404, "not_found_error",
                                           "no endpoint named '" + n + "'", keep_alive);
        }
    }

    // Every check runs concurrently; the handler waits on a timer that the last one cancels.
    struct Shared {
        std::vector<upstream::CheckResult> results;
        std::size_t pending = 0;
        asio::steady_timer done;
        explicit Shared(asio::any_io_executor ex) : done(std::move(ex)) {}
    };
    auto shared = std::make_shared<Shared>(client.get_executor());
    shared->results.resize(targets.size());
    shared->pending = targets.size();
    shared->done.expires_after(options.timeout + std::chrono::seconds(5));
    for (std::size_t i = 0; i < targets.size(); ++i) {
        asio::co_spawn(
            client.get_executor(),
            [&w, shared, i, ep = targets[i], options, explicit_method,
             method_setting = policy->health_method]() -> asio::awaitable<void> {
                static thread_local std::mt19937_64 rng{std::random_device{}()};
                auto opts = options;
                if (!explicit_method) opts.method = check_method_for(*ep, method_setting);
                shared->results[i] = co_await upstream::run_check(w.pool(), *ep, opts, rng);
                w.runtime().record_check(*ep, shared->results[i]);
                if (--shared->pending == 0) shared->done.cancel();
            },
            asio::detached);
    }
    if (shared->pending > 0) {
        co_await shared->done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    json::array rows;
    bool all_passed = true;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        rows.push_back(check_row(targets[i]->cfg.name, shared->results[i]));
        all_passed = all_passed && shared->results[i].result == "pass";
    }
    // (Built outside the co_await: GCC 12 mis-compiles initializer lists inside coroutines.)
    json::object body;
    body["all_passed"] = all_passed;
    body["checks"] = std::move(rows);
    co_return co_await write_json(client, 200, body, keep_alive);
}

/// GET /api/status: the live state of every endpoint (what selection sees now).
json::object endpoint_status(Runtime& rt) {
    const auto now = rt.now();
    const auto now_ns = now.time_since_epoch().count();
    const auto policy = rt.policy();
    json::array rows;
    for (const auto& ep : rt.endpoints()->endpoints) {
        const auto& s = *ep->state;
        const auto cooldown_ns = s.cooldown_until_ns.load();
        const auto cooldown_ms = cooldown_ns > now_ns ? (cooldown_ns - now_ns) / 1'000'000 : 0;
        json::object row;
        row["name"] = ep->cfg.name;
        row["tier"] = ep->cfg.tier;
        row["enabled"] = ep->cfg.enabled;
        row["usable"] = upstream::is_usable(*ep, now);
        row["weight"] = ep->cfg.weight;
        row["effective_weight"] = upstream::effective_weight(*ep, now, policy->soft_limit_factor);
        row["breaker"] = std::string(upstream::to_string(s.breaker.state(now)));
        row["cooldown_ms"] = cooldown_ms;
        row["cooldown_reason"] = cooldown_ms > 0 ? s.cooldown_reason() : std::string();
        row["quarantined"] = s.quarantined.load();
        row["quarantine_reason"] = s.quarantine_reason();
        row["in_flight"] = s.in_flight.load();
        row["successes"] = s.successes.load();
        row["failures"] = s.failures.load();
        row["ewma_ttfb_ms"] = s.stats.ewma_ttfb_ms();
        row["success_ratio"] = s.stats.success_ratio_window();
        rows.push_back(std::move(row));
    }
    json::object body;
    body["endpoints"] = std::move(rows);
    body["sessions"] = rt.affinity().size();
    body["repins"] = rt.counters().repins.load();
    return body;
}

}  // namespace

asio::awaitable<bool> handle_admin(Worker& w, beast::tcp_stream& client, ClientRequest& req,
                                   bool keep_alive) {
    auto& rt = w.runtime();
    if (!admin_authorized(rt, req)) {
        co_return co_await write_error(
            client, 401, "authentication_error",
            rt.config().admin_token.empty()
                ? "the admin API is disabled: no admin token is configured"
                : "the admin API needs the admin token (Authorization: Bearer <token>)",
            keep_alive);
    }
    const std::string_view target = req.target();
    const auto path = target.substr(0, target.find('?'));
    if (path == "/api/status" && req.method() == http::verb::get) {
        const auto body = endpoint_status(rt);
        co_return co_await write_json(client, 200, body, keep_alive);
    }
    if (path == "/api/health/check") {
        if (req.method() != http::verb::post) {
            co_return co_await write_error(client, 405, "invalid_request_error",
                                           "use POST /api/health/check", keep_alive);
        }
        co_return co_await health_check(w, client, req, keep_alive);
    }
    co_return co_await write_error(client, 404, "not_found_error",
                                   "no admin route " + std::string(path), keep_alive);
}

}  // namespace qcc::proxy
