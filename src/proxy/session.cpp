// One client connection, request by request: the head is read and judged (framing, path, who
// the client is, how big the body may be) before a single body byte is read; only then is the
// body read and the request served — proxied under /v1/, or handed to the local routes.
#include "proxy/session.hpp"

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "common/log.hpp"
#include "protocol/anthropic/request_view.hpp"
#include "protocol/anthropic/session_key.hpp"
#include "protocol/http/headers.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/http_io.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

namespace hdr = qcc::http;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Read sizes: request heads are small; bodies (Claude Code sends 50-100 KB) are read 64 KiB at a
// time.
constexpr std::size_t kHeaderReadBytes = 4096;
constexpr std::size_t kBodyReadBytes = 64 * 1024;

using Parser = ClientRequestParser;

std::string_view presented_key(const ClientRequest& req) {
    if (auto k = req["x-api-key"]; !k.empty()) return k;
    return hdr::bearer_token(req[http::field::authorization]);
}

bool is_json_route(std::string_view path) {
    return path == "/v1/messages" || path == "/v1/messages/count_tokens";
}

std::string peer_address(const beast::tcp_stream& client) {
    boost::system::error_code ec;
    const auto ep = client.socket().remote_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
}

/// An answer that ends the connection: the request is refused before its body is read.
struct Refusal {
    int status = 0;
    std::string type, message, extra_headers;
    std::chrono::milliseconds delay{0};  // held back this long first (a repeat offender)
};

class Session {
  public:
    Session(Worker& w, beast::tcp_stream& client)
        : w_(w), env_(w.env()), client_(client), peer_(peer_address(client)) {
        // Beast sizes each read by the buffer's free capacity (512 bytes at least): without room,
        // a 100 KB request body would take 200 recv calls.
        buffer_.reserve(kHeaderReadBytes);
    }
    ~Session() { env_.gate.closed(authenticated_); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    asio::awaitable<void> run();

  private:
    asio::awaitable<bool> read_head(Parser& parser);
    asio::awaitable<bool> read_body(Parser& parser);
    std::optional<Refusal> judge_head(const ClientRequest& head, std::size_t* body_limit);
    std::optional<Refusal> judge_v1(const ClientRequest& head);
    std::optional<Refusal> judge_key_limits(const ClientRequest& head);
    asio::awaitable<void> refuse(const Refusal& r);
    asio::awaitable<bool> serve(ClientRequest& req, bool keep_alive);
    asio::awaitable<bool> serve_v1(ClientRequest& req, bool keep_alive);
    void mark_authenticated() {
        if (!authenticated_) env_.gate.authenticated();
        authenticated_ = true;
    }

    Worker& w_;
    const WorkerEnv& env_;
    beast::tcp_stream& client_;
    std::string peer_;
    beast::flat_buffer buffer_;
    bool authenticated_ = false;
    std::shared_ptr<const ClientKey> key_;  // the key that authenticated this connection's request
};

asio::awaitable<void> Session::run() {
    for (;;) {
        if (env_.draining.load()) co_return;
        Parser parser;
        parser.header_limit(static_cast<std::uint32_t>(env_.config.max_header_bytes));
        parser.body_limit(env_.config.max_body_bytes);
        const bool have_head = co_await read_head(parser);
        if (!have_head) co_return;
        std::size_t body_limit = env_.config.max_body_bytes;
        if (auto refusal = judge_head(parser.get(), &body_limit)) {
            co_await refuse(*refusal);
            co_return;
        }
        parser.body_limit(body_limit);
        const bool have_body = co_await read_body(parser);
        if (!have_body) co_return;
        auto& req = parser.get();
        const bool keep_alive = req.keep_alive() && !env_.draining.load();
        const bool keep = co_await serve(req, keep_alive);
        if (!keep) co_return;
    }
}

asio::awaitable<bool> Session::read_head(Parser& parser) {
    // A connection nobody has authenticated yet gets a short time for its head (slow clients
    // holding slots); an authenticated keep-alive connection may idle longer between requests.
    const auto& limits = env_.config.limits;
    client_.expires_after(authenticated_ ? limits.keepalive_timeout : limits.header_timeout);
    std::optional<Worker::IdleScope> idle;
    idle.emplace(w_, client_);
    auto [ec, n] = co_await http::async_read_header(client_, buffer_, parser, kUseTuple);
    idle.reset();
    if (!ec) co_return true;
    if (ec == http::error::body_limit) {  // a declared Content-Length over the limit
        // (A named object: GCC 12 destroys a temporary passed by value to a coroutine twice.)
        const Refusal r{
            413,
            "request_too_large",
            "request body exceeds " + std::to_string(env_.config.max_body_bytes) + " bytes",
            {},
            {}};
        co_await refuse(r);
    } else if (ec == http::error::header_limit) {
        const Refusal r{
            431,
            "invalid_request_error",
            "request headers exceed " + std::to_string(env_.config.max_header_bytes) + " bytes",
            {},
            {}};
        co_await refuse(r);
    } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
               ec != asio::error::eof && ec != asio::error::connection_reset &&
               ec != asio::error::operation_aborted) {
        const Refusal r{
            400, "invalid_request_error", "malformed HTTP request: " + ec.message(), {}, {}};
        co_await refuse(r);
    }
    co_return false;
}

asio::awaitable<bool> Session::read_body(Parser& parser) {
    if (hdr::iequals(parser.get()[http::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await asio::async_write(client_, asio::buffer(kContinue), kUseTuple);
        if (cec) co_return false;
    }
    client_.expires_after(env_.config.limits.body_timeout);
    const auto length = parser.content_length().value_or(0);
    if (length > buffer_.capacity()) {
        buffer_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(length, kBodyReadBytes)));
    }
    auto [ec, n] = co_await http::async_read(client_, buffer_, parser, kUseTuple);
    if (buffer_.capacity() > kHeaderReadBytes && buffer_.size() <= kHeaderReadBytes) {
        buffer_.shrink_to_fit();  // idle keep-alive connections stay small
        buffer_.reserve(kHeaderReadBytes);
    }
    client_.expires_never();
    if (!ec) co_return true;
    if (ec == http::error::body_limit) {
        const Refusal r{
            413, "request_too_large", "request body exceeds the limit of this route", {}, {}};
        co_await refuse(r);
    } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
               ec != asio::error::eof && ec != asio::error::connection_reset) {
        const Refusal r{
            400, "invalid_request_error", "malformed HTTP request: " + ec.message(), {}, {}};
        co_await refuse(r);
    }
    co_return false;
}

std::optional<Refusal> Session::judge_head(const ClientRequest& head, std::size_t* body_limit) {
    // Framing first: a head the next hop could read differently is never passed on.
    if (head.version() == 11 && head[http::field::host].empty()) {
        return Refusal{
            400, "invalid_request_error", "HTTP/1.1 request without a Host header", {}, {}};
    }
    if (auto problem = hdr::transfer_encoding_problem(head[http::field::transfer_encoding]);
        !problem.empty()) {
        return Refusal{400, "invalid_request_error", problem, {}, {}};
    }
    const std::string_view target = head.target();
    const auto path = target.substr(0, target.find('?'));
    if (path.starts_with("/v1/")) return judge_v1(head);
    if ((head.method() == http::verb::head && path == "/") ||
        (head.method() == http::verb::get && path == "/healthz")) {
        *body_limit = 0;
        return std::nullopt;
    }
    if (env_.local_routes == nullptr) {
        *body_limit = 0;
        return std::nullopt;  // answered with a 404 by serve()
    }
    auto admission = env_.local_routes->admit(head, peer_);
    if (!admission.accept) {
        return Refusal{admission.status, std::move(admission.error_type),
                       std::move(admission.message), std::move(admission.extra_headers),
                       admission.delay};
    }
    if (admission.authenticated) mark_authenticated();
    *body_limit = admission.body_limit;
    return std::nullopt;
}

std::optional<Refusal> Session::judge_v1(const ClientRequest& head) {
    if (auto problem = hdr::path_problem(head.target()); !problem.empty()) {
        return Refusal{400, "invalid_request_error", "request path contains " + problem, {}, {}};
    }
    auto key = env_.snapshots.authenticate(presented_key(head));
    if (key) {
        mark_authenticated();
        key_ = std::move(key);
        if (!key_->limits.any()) return std::nullopt;
        return judge_key_limits(head);
    }
    // Counted and handed to the sink as a refused request; the body is never read.
    env_.health.counters().unauthorized.fetch_add(1, std::memory_order_relaxed);
    RequestContext ctx;
    ctx.start = std::chrono::steady_clock::now();
    ctx.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ctx.id = w_.next_request_id(ctx.start_unix_ms);
    ctx.method = std::string(head.method_string());
    ctx.target = std::string(head.target());
    ctx.status = 401;
    ctx.error_class = "unauthorized";
    ctx.peer = peer_;
    env_.sink.on_request_done(ctx);
    const auto delay = env_.throttle.on_failure(peer_, SteadyClock::instance().now());
    return Refusal{401,
                   "authentication_error",
                   "invalid or missing QCC client key (send it as x-api-key or Authorization: "
                   "Bearer)",
                   {},
                   delay};
}

// A key over one of its limits: 429 before the body is read, counted in the request log as the
// key's refused request. A spent budget also says not to retry (it lasts until the day or month
// ends); a rate limit says when to.
std::optional<Refusal> Session::judge_key_limits(const ClientRequest& head) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto refusal = key_->meter->admit(key_->name, key_->limits, now_ms);
    if (!refusal) return std::nullopt;
    RequestContext ctx;
    ctx.start = std::chrono::steady_clock::now();
    ctx.start_unix_ms = now_ms;
    ctx.id = w_.next_request_id(ctx.start_unix_ms);
    ctx.method = std::string(head.method_string());
    ctx.target = std::string(head.target());
    ctx.client_key = key_->name;
    ctx.status = 429;
    ctx.error_class = refusal->budget ? "key_budget" : "key_rate_limit";
    ctx.peer = peer_;
    env_.sink.on_request_done(ctx);
    std::string headers = "retry-after: " + std::to_string(refusal->retry_after_s) + "\r\n";
    if (refusal->budget) headers += "x-should-retry: false\r\n";
    return Refusal{429, "rate_limit_error", std::move(refusal->message), std::move(headers), {}};
}

asio::awaitable<void> Session::refuse(const Refusal& r) {
    if (r.delay.count() > 0) {
        asio::steady_timer timer(client_.get_executor());
        timer.expires_after(r.delay);
        co_await timer.async_wait(kUseTuple);
    }
    client_.expires_after(std::chrono::seconds(10));
    co_await write_error(client_, r.status, r.type, r.message, false, r.extra_headers);
}

asio::awaitable<bool> Session::serve(ClientRequest& req, bool keep_alive) {
    const std::string_view target = req.target();
    const auto path = target.substr(0, target.find('?'));
    if (path.starts_with("/v1/")) co_return co_await serve_v1(req, keep_alive);
    bool ok = false;
    if (req.method() == http::verb::head && path == "/") {
        ok = co_await write_simple(client_, 200, "OK", "text/plain", "", keep_alive, true);
    } else if (req.method() == http::verb::get && path == "/healthz") {
        ok = co_await write_simple(client_, 200, "OK", "application/json", R"({"status":"ok"})",
                                   keep_alive);
    } else if (env_.local_routes != nullptr) {
        const LocalRequest local{client_, req, keep_alive, env_.draining, peer_};
        ok = co_await env_.local_routes->handle(local);
    } else {
        ok = co_await write_error(
            client_, 404, "not_found_error",
            "QCC serves /v1/* (and HEAD /, GET /healthz); no route " + std::string(path),
            keep_alive);
    }
    co_return ok&& keep_alive;
}

asio::awaitable<bool> Session::serve_v1(ClientRequest& req, bool keep_alive) {
    auto& health = env_.health;
    RequestContext ctx;
    ctx.start = std::chrono::steady_clock::now();
    ctx.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ctx.id = w_.next_request_id(ctx.start_unix_ms);
    ctx.method = std::string(req.method_string());
    ctx.target = std::string(req.target());
    ctx.bytes_in = req.body().size();
    ctx.client_key = key_->name;
    ctx.key = key_;
    ctx.peer = peer_;
    health.counters().requests.fetch_add(1, std::memory_order_relaxed);

    std::optional<anthropic::RequestView> view;
    bool keep = keep_alive;
    const auto path = ctx.target.substr(0, ctx.target.find('?'));
    if (req.method() == http::verb::post && is_json_route(path)) {
        std::string error;
        auto& body = req.body();
        view = anthropic::peek_request(body, body.capacity(), &error);
        if (!view) {
            ctx.status = 400;
            ctx.error_class = "invalid_request";
            keep = co_await write_error(client_, 400, "invalid_request_error", error, keep_alive);
        }
    }
    if (ctx.status == 0) {
        if (view) {
            ctx.model_requested = view->model;
            ctx.stream = view->stream;
        }
        ctx.session_key = anthropic::session_key(req["x-claude-code-session-id"],
                                                 view ? view->metadata_user_id : std::string_view{},
                                                 req["x-conversation-id"]);
        if (const auto policy = env_.snapshots.policy(); policy->payloads != PayloadCapture::kOff) {
            // Copied now: the forwarder releases the request body at the commit point.
            ctx.request_payload.assign(req.body().data(),
                                       std::min(req.body().size(), policy->payload_max_bytes));
        }
        health.counters().in_flight.fetch_add(1, std::memory_order_relaxed);
        keep = co_await forward(w_, client_, req, view ? &*view : nullptr, ctx, keep_alive);
        health.counters().in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    // The one exit of every proxied request: the finished context goes to the sink.
    ctx.total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - ctx.start)
                       .count();
    env_.sink.on_request_done(ctx);
    co_return keep&& keep_alive;
}

}  // namespace

asio::awaitable<void> run_session(Worker& worker, asio::ip::tcp::socket socket) {
    const Worker::SessionScope scope(worker);
    boost::system::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    beast::tcp_stream client(std::move(socket));
    try {
        Session session(worker, client);
        co_await session.run();
    } catch (const std::exception& e) {
        // The one catch-all per session: a bug must not take the process down.
        spdlog::error("session: unexpected exception: {}", e.what());
    }
    client.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    client.close();
}

}  // namespace qcc::proxy
