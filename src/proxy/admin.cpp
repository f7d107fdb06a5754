// The admin API router (docs/admin-api.md): token check, a table of {method, path pattern,
// handler}, and the one place handler failures become Anthropic-shaped errors. Also GET
// /api/status and POST /api/health/check, and the readers shared by every handler.
#include "proxy/admin.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "protocol/anthropic/error_body.hpp"
#include "protocol/http/headers.hpp"
#include "proxy/admin_routes.hpp"
#include "proxy/gateway.hpp"
#include "proxy/worker.hpp"
#include "store/writer.hpp"
#include "upstream/checker.hpp"
#include "upstream/selector.hpp"

namespace qcc::proxy {

namespace admin {

namespace hdr = qcc::http;

// ---- errors and writers ---------------------------------------------------------------------

void bad_request(const std::string& message) {
    throw ApiError(400, "invalid_request_error", message);
}
void not_found(const std::string& message) { throw ApiError(404, "not_found_error", message); }
void conflict(const std::string& message) { throw ApiError(409, "invalid_request_error", message); }

bool admin_authorized(const Runtime& rt, const ClientRequest& req) {
    const auto& token = rt.config().admin_token;
    if (token.empty()) return false;
    const std::string_view auth = req[http::field::authorization];
    if (auth.size() <= 7 || !hdr::iequals(auth.substr(0, 7), "bearer ")) return false;
    return crypto::constant_time_equal(auth.substr(7), token);
}

asio::awaitable<bool> write_reply(beast::tcp_stream& client, int status,
                                  std::string_view content_type, std::string_view body,
                                  bool keep_alive, std::string_view extra_headers) {
    std::string head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += reason_phrase(status);
    head += "\r\ncontent-type: ";
    head += content_type;
    head += "\r\ncontent-length: ";
    head += std::to_string(body.size());
    head += "\r\ncache-control: no-store\r\n";
    head += extra_headers;
    if (!keep_alive) head += "connection: close\r\n";
    head += "\r\n";
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(body.data(), body.size())};
    auto [ec, n] = co_await asio::async_write(client, bufs, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

// ---- request bodies -------------------------------------------------------------------------

json::object body_object(const Call& c, bool required) {
    const auto& body = c.req.body();
    if (body.size() > kMaxBodyBytes) {
        throw ApiError(
            413, "request_too_large",
            "admin request bodies are limited to " + std::to_string(kMaxBodyBytes) + " bytes");
    }
    const std::string_view text(body.data(), body.size());
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (!required) return {};
        bad_request("the request body must be a JSON object");
    }
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) bad_request("the request body is not valid JSON: " + ec.message());
    if (!v.is_object()) bad_request("the request body must be a JSON object");
    return std::move(v.as_object());
}

void reject_unknown_fields(const json::object& o, std::span<const std::string_view> allowed) {
    static constexpr std::array<std::string_view, 7> kReadOnly{
        "id", "created_at", "updated_at", "state", "events", "checks", "prefix"};
    for (const auto& [k, v] : o) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        if (std::find(kReadOnly.begin(), kReadOnly.end(), k) != kReadOnly.end()) {
            bad_request(std::string(k) + ": read-only field");
        }
        std::string list;
        for (auto a : allowed) {
            if (!list.empty()) list += ", ";
            list += a;
        }
        bad_request("unknown field '" + std::string(k) + "' (allowed: " + list + ")");
    }
}

std::string string_value(const json::value& v, std::string_view field) {
    if (!v.is_string()) bad_request(std::string(field) + ": expected a string");
    return std::string(v.get_string());
}

std::int64_t int_value(const json::value& v, std::string_view field) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        return v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)
                   ? INT64_MAX
                   : static_cast<std::int64_t>(v.get_uint64());
    }
    bad_request(std::string(field) + ": expected an integer");
}

bool bool_value(const json::value& v, std::string_view field) {
    if (!v.is_bool()) bad_request(std::string(field) + ": expected true or false");
    return v.get_bool();
}

// ---- query strings --------------------------------------------------------------------------

void reject_unknown_params(const Call& c, std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : c.query) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string list;
        for (auto a : allowed) {
            if (!list.empty()) list += ", ";
            list += a;
        }
        bad_request(
            "unknown query parameter '" + k + "'" +
            (list.empty() ? std::string(" (this route takes none)") : " (allowed: " + list + ")"));
    }
}

std::optional<std::string> param(const Call& c, std::string_view key) {
    std::optional<std::string> out;
    for (const auto& [k, v] : c.query) {
        if (k == key) out = v;
    }
    return out;
}

std::int64_t int_param(const Call& c, std::string_view key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) {
    const auto text = param(c, key);
    if (!text) return fallback;
    std::int64_t v = 0;
    const auto* end = text->data() + text->size();
    auto r = std::from_chars(text->data(), end, v);
    if (text->empty() || r.ec != std::errc{} || r.ptr != end || v < lo || v > hi) {
        bad_request(std::string(key) + ": expected an integer from " + std::to_string(lo) + " to " +
                    std::to_string(hi) + ", got '" + *text + "'");
    }
    return v;
}

std::optional<std::int64_t> parse_span_ms(std::string_view text) {
    std::int64_t n = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (r.ec != std::errc{} || r.ptr == text.data() || n <= 0) return std::nullopt;
    const std::string_view unit(r.ptr, static_cast<std::size_t>(text.data() + text.size() - r.ptr));
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60'000;
    if (unit == "h") scale = 3'600'000;
    if (unit == "d") scale = 86'400'000;
    if (unit == "w") scale = 7 * 86'400'000LL;
    if (scale == 0 || n > INT64_MAX / scale) return std::nullopt;
    return n * scale;
}

// ---- shared helpers -------------------------------------------------------------------------

store::Store& store_of(Runtime& rt) {
    if (rt.store == nullptr) throw std::runtime_error("this server runs without a store");
    return *rt.store;
}

std::int64_t system_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void check_name(std::string_view name, std::string_view field) {
    if (name.empty() || name.size() > 64) {
        bad_request(std::string(field) + ": must be 1 to 64 characters");
    }
    for (char ch : name) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) {
            bad_request(std::string(field) +
                        ": may contain only letters, digits, '.', '_' and '-'");
        }
    }
}

json::object endpoint_status_row(Runtime& rt, const upstream::Endpoint& ep) {
    const auto now = rt.now();
    const auto now_ns = now.time_since_epoch().count();
    const auto policy = rt.policy();
    const auto& s = *ep.state;
    const auto cooldown_ns = s.cooldown_until_ns.load();
    const auto cooldown_ms = cooldown_ns > now_ns ? (cooldown_ns - now_ns) / 1'000'000 : 0;
    json::object row;
    row["name"] = ep.cfg.name;
    row["tier"] = ep.cfg.tier;
    row["enabled"] = ep.cfg.enabled;
    row["usable"] = upstream::is_usable(ep, now);
    row["weight"] = ep.cfg.weight;
    row["effective_weight"] = upstream::effective_weight(ep, now, policy->soft_limit_factor);
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
    return row;
}

// ---- GET /api/status, POST /api/health/check ------------------------------------------------

namespace {

json::object status_body(Runtime& rt) {
    json::array rows;
    for (const auto& ep : rt.endpoints()->endpoints) rows.push_back(endpoint_status_row(rt, *ep));
    auto& counters = rt.counters();
    json::object body;
    body["version"] = kVersion;
    body["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - rt.started_at)
                           .count();
    body["requests"] = counters.requests.load();
    body["in_flight"] = counters.in_flight.load();
    body["failovers"] = counters.failovers.load();
    body["log_rows_dropped"] = rt.writer != nullptr ? rt.writer->dropped() : 0;
    body["sessions"] = rt.affinity().size();
    body["repins"] = counters.repins.load();
    body["endpoints"] = std::move(rows);
    return body;
}

json::object check_row(const std::string& endpoint, const upstream::CheckResult& r) {
    json::object row;
    row["endpoint"] = endpoint;
    row["method"] = r.method;
    row["result"] = r.result.empty() ? std::string("timeout") : r.result;
    row["valid"] = r.valid;
    row["score"] = r.score;
    row["latency_ms"] = r.latency_ms;
    row["model"] = r.model;
    row["input_tokens"] = r.input_tokens;
    row["output_tokens"] = r.output_tokens;
    row["error"] = r.error;
    return row;
}

}  // namespace

asio::awaitable<Reply> get_status(Call& c) {
    reject_unknown_params(c, {});
    Reply reply;
    reply.body = status_body(c.rt);
    co_return reply;
}

/// POST /api/health/check?endpoint=A&endpoint=B&method=conversation|models|connect
/// Runs the checks now, concurrently, on this worker's pool; records and applies the results.
asio::awaitable<Reply> post_health_check(Call& c) {
    reject_unknown_params(c, {"endpoint", "method"});
    auto& w = c.worker;
    auto& rt = c.rt;
    const auto policy = rt.policy();
    upstream::CheckOptions options;
    options.model = policy->health_model;
    options.timeout = policy->health_timeout;
    std::vector<std::string> names;
    for (const auto& [k, v] : c.query) {
        if (k == "endpoint") names.push_back(v);
    }
    const auto explicit_method = param(c, "method");
    const std::string method = explicit_method.value_or(policy->health_method);
    if (method == "models") {
        options.method = upstream::CheckMethod::kModels;
    } else if (method == "connect") {
        options.method = upstream::CheckMethod::kConnect;
    } else if (method != "conversation") {
        bad_request("method: expected conversation, models or connect");
    }
    const auto set = rt.endpoints();
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

    // Every check runs concurrently; the handler waits on a timer that the last one cancels.
    struct Shared {
        std::vector<upstream::CheckResult> results;
        std::size_t pending = 0;
        asio::steady_timer done;
        explicit Shared(asio::any_io_executor ex) : done(std::move(ex)) {}
    };
    auto shared = std::make_shared<Shared>(c.client.get_executor());
    shared->results.resize(targets.size());
    shared->pending = targets.size();
    shared->done.expires_after(options.timeout + std::chrono::seconds(5));
    for (std::size_t i = 0; i < targets.size(); ++i) {
        asio::co_spawn(
            c.client.get_executor(),
            [&w, shared, i, ep = targets[i], options, use_tag = !explicit_method,
             method_setting = policy->health_method]() -> asio::awaitable<void> {
                static thread_local std::mt19937_64 rng{std::random_device{}()};
                auto opts = options;
                if (use_tag) opts.method = upstream::check_method_for(*ep, method_setting);
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
    // (Built outside any co_await: GCC 12 mis-compiles initializer lists inside coroutines.)
    json::object body;
    body["all_passed"] = all_passed;
    body["checks"] = std::move(rows);
    Reply reply;
    reply.body = std::move(body);
    co_return reply;
}

// ---- the route table ------------------------------------------------------------------------

namespace {

struct Route {
    http::verb method;
    std::string_view pattern;  // "/api/endpoints/{name}": a {placeholder} matches one segment
    Handler handler;
};

const std::array kRoutes{
    Route{http::verb::get, "/api/status", &get_status},
    Route{http::verb::get, "/api/endpoints", &list_endpoints},
    Route{http::verb::post, "/api/endpoints", &create_endpoint},
    Route{http::verb::get, "/api/endpoints/{name}", &get_endpoint},
    Route{http::verb::patch, "/api/endpoints/{name}", &patch_endpoint},
    Route{http::verb::delete_, "/api/endpoints/{name}", &delete_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/enable", &enable_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/disable", &disable_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/release", &release_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/quarantine", &quarantine_endpoint},
    Route{http::verb::get, "/api/keys", &list_keys},
    Route{http::verb::post, "/api/keys", &create_key},
    Route{http::verb::delete_, "/api/keys/{name}", &revoke_key},
    Route{http::verb::get, "/api/settings", &list_settings},
    Route{http::verb::get, "/api/settings/{key}", &get_setting},
    Route{http::verb::put, "/api/settings/{key}", &put_setting},
    Route{http::verb::get, "/api/stats", &get_stats},
    Route{http::verb::get, "/api/requests", &list_requests},
    Route{http::verb::get, "/api/requests/{id}", &get_request},
    Route{http::verb::get, "/api/health/checks", &list_health_checks},
    Route{http::verb::post, "/api/health/check", &post_health_check},
    Route{http::verb::get, "/api/events/history", &list_events_history},
    Route{http::verb::get, "/api/events", &stream_events},
    Route{http::verb::get, "/api/sessions", &list_sessions},
};

/// Whether `segments` (decoded) match `pattern`; placeholders' values go to `params`.
bool match(std::string_view pattern, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
    params.clear();
    std::size_t i = 0;
    pattern.remove_prefix(1);  // leading '/'
    while (!pattern.empty()) {
        const auto slash = pattern.find('/');
        const auto part = pattern.substr(0, slash);
        pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
        if (i >= segments.size()) return false;
        if (part.starts_with('{')) {
            if (segments[i].empty()) return false;
            params.push_back(segments[i]);
        } else if (part != segments[i]) {
            return false;
        }
        ++i;
    }
    return i == segments.size();
}

asio::awaitable<bool> write_api_error(beast::tcp_stream& client, int status, std::string_view type,
                                      std::string_view message, bool keep_alive,
                                      std::string_view extra_headers = {}) {
    co_return co_await write_reply(client, status, "application/json",
                                   anthropic::error_body(type, message), keep_alive, extra_headers);
}

}  // namespace

}  // namespace admin

asio::awaitable<bool> handle_admin(Worker& w, beast::tcp_stream& client, ClientRequest& req,
                                   bool keep_alive) {
    using namespace admin;
    auto& rt = w.runtime();
    if (!admin_authorized(rt, req)) {
        co_return co_await write_api_error(
            client, 401, "authentication_error",
            rt.config().admin_token.empty()
                ? "the admin API is disabled: no admin token is configured"
                : "the admin API needs the admin token (Authorization: Bearer <token>)",
            keep_alive);
    }
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) {
        co_return co_await write_api_error(client, 400, "invalid_request_error",
                                           "malformed request target", keep_alive);
    }
    std::vector<std::string> segments;
    for (auto seg : url->segments()) segments.push_back(std::string(seg));
    Call call{w, rt, client, req, keep_alive, {}, {}};
    for (auto p : url->params()) {
        call.query.emplace_back(std::string(p.key), std::string(p.value));
    }

    const Route* route = nullptr;
    std::string allow;
    for (const auto& r : kRoutes) {
        std::vector<std::string> params;
        if (!match(r.pattern, segments, params)) continue;
        if (!allow.empty()) allow += ", ";
        allow += std::string(http::to_string(r.method));
        if (r.method == req.method()) {
            route = &r;
            call.params = std::move(params);
        }
    }
    const std::string path(url->path());
    if (route == nullptr && allow.empty()) {
        co_return co_await write_api_error(client, 404, "not_found_error",
                                           "no admin route " + path + " (see docs/admin-api.md)",
                                           keep_alive);
    }
    if (route == nullptr) {
        co_return co_await write_api_error(
            client, 405, "invalid_request_error",
            std::string(req.method_string()) + " is not allowed on " + path + "; use " + allow,
            keep_alive, "allow: " + allow + "\r\n");
    }

    Reply reply;
    int error_status = 0;
    std::string error_type, error_message;
    try {
        reply = co_await route->handler(call);
    } catch (const ApiError& e) {
        error_status = e.status();
        error_type = e.type();
        error_message = e.what();
    } catch (const std::exception& e) {
        spdlog::error("admin {} {}: {}", req.method_string(), path, e.what());
        error_status = 500;
        error_type = "api_error";
        error_message = std::string("internal error: ") + e.what();
    } catch (...) {
        spdlog::error("admin {} {}: unknown exception", req.method_string(), path);
        error_status = 500;
        error_type = "api_error";
        error_message = "internal error";
    }
    if (error_status != 0) {
        co_return co_await write_api_error(client, error_status, error_type, error_message,
                                           keep_alive);
    }
    if (reply.written) co_return reply.keep&& keep_alive;
    const auto text = json::serialize(reply.body);
    co_return co_await write_reply(client, reply.status, "application/json", text, keep_alive);
}

}  // namespace qcc::proxy
