// Internals of the admin REST API (docs/admin-api.md): what a route handler gets and returns, the
// errors it throws, and the small JSON/query readers every handler shares. Not used outside
// src/admin.
#pragma once
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "admin/event_hub.hpp"
#include "admin/json_input.hpp"
#include "admin/run_blocking.hpp"
#include "control/api.hpp"
#include "metrics/metrics.hpp"
#include "proxy/auth_throttle.hpp"
#include "proxy/http_io.hpp"

namespace qcc::admin {

namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using proxy::ClientRequest;

/// What the admin API is given by the composition root.
struct AdminDeps {
    control::ControlApi& control;
    metrics::Registry& metrics;
    EventHub& hub;
    std::string admin_token;                     // "" = the API is disabled
    proxy::AuthThrottlePolicy login_throttle{};  // wrong admin tokens from one address
};

/// One admin request as a handler sees it. Lives for the whole handler call.
struct Call {
    const AdminDeps& deps;
    control::ControlApi& control;
    beast::tcp_stream& client;
    ClientRequest& req;
    bool keep_alive;
    const std::atomic<bool>& draining;                       // the server is shutting down
    std::vector<std::string> params;                         // the route's {placeholders}
    std::vector<std::pair<std::string, std::string>> query;  // decoded, in request order
};

/// A handler's answer: a JSON body with its status, or `written` when the handler wrote the
/// response itself (SSE); `keep` then says whether the connection may be reused.
struct Reply {
    Reply() = default;
    /// A JSON answer.
    explicit Reply(json::value b, int st = 200) : status(st), body(std::move(b)) {}

    int status = 200;
    json::value body;
    bool written = false;
    bool keep = true;
};

using Handler = boost::asio::awaitable<Reply> (*)(Call&);

// ---- request bodies -------------------------------------------------------------------------

/// The body as a JSON object: 413 over kMaxBodyBytes, 400 when it is not a JSON object. An empty
/// body is an empty object when `required` is false, else a 400.
json::object body_object(const Call& c, bool required);
// ---- query strings --------------------------------------------------------------------------

/// 400 naming the first query parameter not in `allowed`.
void reject_unknown_params(const Call& c, std::initializer_list<std::string_view> allowed);
/// The last value of query parameter `key`, if present.
std::optional<std::string> param(const Call& c, std::string_view key);
/// An integer parameter in [lo, hi] (400 otherwise), `fallback` when absent.
std::int64_t int_param(const Call& c, std::string_view key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi);
/// A time span such as 500ms, 90s, 15m, 24h, 7d or 2w, in milliseconds; nullopt when malformed or
/// not positive.
std::optional<std::int64_t> parse_span_ms(std::string_view text);

// ---- shared helpers -------------------------------------------------------------------------

/// True when the request carries the admin token (`Authorization: Bearer <token>`); always false
/// when no token is configured.
bool admin_authorized(std::string_view admin_token, const ClientRequest& req);
/// Writes a complete response with `extra_headers` (each "name: value\r\n") and
/// `cache-control: no-store` (answers may hold a new client key). False when the client is gone.
boost::asio::awaitable<bool> write_reply(beast::tcp_stream& client, int status,
                                         std::string_view content_type, std::string_view body,
                                         bool keep_alive, std::string_view extra_headers = {});

/// Unix ms on the system clock (request rows are stamped with it).
std::int64_t system_unix_ms();
/// EndpointJSON (docs/admin-api.md): the stored endpoint, credential masked, plus its live state.
json::object endpoint_json(control::ControlApi& control, const store::EndpointRecord& rec);
/// 400 unless `name` is a valid endpoint or key name (letters, digits, '.', '_', '-'; 1..64).
void check_name(std::string_view name, std::string_view field = "name");

// ---- handlers (handlers_*.cpp, events.cpp) ------------------------------------------------

boost::asio::awaitable<Reply> get_status(Call& c);
boost::asio::awaitable<Reply> post_health_check(Call& c);
boost::asio::awaitable<Reply> list_endpoints(Call& c);
boost::asio::awaitable<Reply> create_endpoint(Call& c);
boost::asio::awaitable<Reply> get_endpoint(Call& c);
boost::asio::awaitable<Reply> patch_endpoint(Call& c);
boost::asio::awaitable<Reply> delete_endpoint(Call& c);
boost::asio::awaitable<Reply> enable_endpoint(Call& c);
boost::asio::awaitable<Reply> disable_endpoint(Call& c);
boost::asio::awaitable<Reply> release_endpoint(Call& c);
boost::asio::awaitable<Reply> quarantine_endpoint(Call& c);
boost::asio::awaitable<Reply> list_keys(Call& c);
boost::asio::awaitable<Reply> create_key(Call& c);
boost::asio::awaitable<Reply> revoke_key(Call& c);
boost::asio::awaitable<Reply> verify_key(Call& c);
boost::asio::awaitable<Reply> patch_key(Call& c);
boost::asio::awaitable<Reply> list_settings(Call& c);
boost::asio::awaitable<Reply> get_setting(Call& c);
boost::asio::awaitable<Reply> put_setting(Call& c);
boost::asio::awaitable<Reply> get_stats(Call& c);
boost::asio::awaitable<Reply> list_requests(Call& c);
boost::asio::awaitable<Reply> get_request(Call& c);
boost::asio::awaitable<Reply> list_health_checks(Call& c);
boost::asio::awaitable<Reply> list_events_history(Call& c);
boost::asio::awaitable<Reply> list_sessions(Call& c);
boost::asio::awaitable<Reply> stream_events(Call& c);

}  // namespace qcc::admin
