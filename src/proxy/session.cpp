#include "proxy/session.hpp"

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
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
// How long an idle keep-alive client connection is kept (nginx's default is 75 s).
constexpr std::chrono::seconds kKeepAliveIdle{120};
// Read sizes: request heads are small; bodies (Claude Code sends 50-100 KB) are read 64 KiB at a
// time.
constexpr std::size_t kHeaderReadBytes = 4096;
constexpr std::size_t kBodyReadBytes = 64 * 1024;

std::string_view presented_key(const ClientRequest& req) {
    if (auto k = req["x-api-key"]; !k.empty()) return k;
    return hdr::bearer_token(req[http::field::authorization]);
}

bool is_json_route(std::string_view path) {
    return path == "/v1/messages" || path == "/v1/messages/count_tokens";
}

/// Handles one parsed request. Returns false when the connection must close.
asio::awaitable<bool> handle(Worker& w, beast::tcp_stream& client, ClientRequest& req,
                             bool keep_alive) {
    const std::string_view target = req.target();
    const auto path = target.substr(0, target.find('?'));
    if (req.method() == http::verb::head && path == "/") {
        co_return co_await write_simple(client, 200, "OK", "text/plain", "", keep_alive, true) &&
            keep_alive;
    }
    if (req.method() == http::verb::get && path == "/healthz") {
        co_return co_await write_simple(client, 200, "OK", "application/json", R"({"status":"ok"})",
                                        keep_alive) &&
            keep_alive;
    }
    const auto& env = w.env();
    if (!path.starts_with("/v1/") && env.local_routes != nullptr) {
        co_return co_await env.local_routes->handle(
            LocalRequest{client, req, keep_alive, env.draining}) &&
            keep_alive;
    }
    if (!path.starts_with("/v1/")) {
        co_return co_await write_error(
            client, 404, "not_found_error",
            "QCC serves /v1/* (and HEAD /, GET /healthz); no route " + std::string(path),
            keep_alive) &&
            keep_alive;
    }

    auto& health = env.health;
    RequestContext ctx;
    ctx.start = std::chrono::steady_clock::now();
    ctx.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ctx.id = w.next_request_id(ctx.start_unix_ms);
    ctx.method = std::string(req.method_string());
    ctx.target = std::string(target);
    ctx.bytes_in = req.body().size();

    health.counters().requests.fetch_add(1, std::memory_order_relaxed);
    // The one exit of every /v1/ request: the finished context goes to the sink.
    auto finish = [&](bool keep) {
        ctx.total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - ctx.start)
                           .count();
        env.sink.on_request_done(ctx);
        return keep;
    };

    auto key = env.snapshots.authenticate(presented_key(req));
    if (!key) {
        health.counters().unauthorized.fetch_add(1, std::memory_order_relaxed);
        ctx.status = 401;
        ctx.error_class = "unauthorized";
        const bool ok = co_await write_error(
            client, 401, "authentication_error",
            "invalid or missing QCC client key (send it as x-api-key or Authorization: Bearer)",
            keep_alive);
        co_return finish(ok && keep_alive);
    }
    ctx.client_key = *key;

    std::optional<anthropic::RequestView> view;
    if (req.method() == http::verb::post && is_json_route(path)) {
        std::string error;
        auto& body = req.body();
        view = anthropic::peek_request(body, body.capacity(), &error);
        if (!view) {
            ctx.status = 400;
            ctx.error_class = "invalid_request";
            const bool ok =
                co_await write_error(client, 400, "invalid_request_error",
                                     "request body is not valid JSON: " + error, keep_alive);
            co_return finish(ok && keep_alive);
        }
        ctx.model_requested = view->model;
        ctx.stream = view->stream;
    }
    ctx.session_key = anthropic::session_key(req["x-claude-code-session-id"],
                                             view ? view->metadata_user_id : std::string_view{},
                                             req["x-conversation-id"]);
    if (const auto policy = env.snapshots.policy(); policy->payloads != PayloadCapture::kOff) {
        // Copied now: the forwarder releases the request body once the response is committed.
        ctx.request_payload.assign(req.body().data(),
                                   std::min(req.body().size(), policy->payload_max_bytes));
    }
    health.counters().in_flight.fetch_add(1, std::memory_order_relaxed);
    const bool keep = co_await forward(w, client, req, view ? &*view : nullptr, ctx, keep_alive);
    health.counters().in_flight.fetch_sub(1, std::memory_order_relaxed);
    co_return finish(keep);
}

asio::awaitable<void> session_loop(Worker& w, beast::tcp_stream& client) {
    const auto& cfg = w.env().config;
    beast::flat_buffer buffer;
    // Beast sizes each read by the buffer's free capacity (512 bytes at least): without room,
    // a 100 KB request body would take 200 recv calls.
    buffer.reserve(kHeaderReadBytes);
    for (;;) {
        http::request_parser<PaddedBody> parser;
        parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
        parser.body_limit(cfg.max_body_bytes);
        if (w.env().draining.load()) co_return;
        client.expires_after(kKeepAliveIdle);
        std::optional<Worker::IdleScope> idle;
        idle.emplace(w, client);
        auto [hec, hn] = co_await http::async_read_header(client, buffer, parser, kUseTuple);
        idle.reset();
        if (hec) {
            if (hec == http::error::body_limit) {  // a declared Content-Length over the limit
                co_await write_error(
                    client, 413, "request_too_large",
                    "request body exceeds " + std::to_string(cfg.max_body_bytes) + " bytes", false);
            } else if (hec == http::error::header_limit) {
                co_await write_error(
                    client, 431, "invalid_request_error",
                    "request headers exceed " + std::to_string(cfg.max_header_bytes) + " bytes",
                    false);
            } else if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
                       hec != asio::error::eof && hec != asio::error::connection_reset &&
                       hec != asio::error::operation_aborted) {
                co_await write_error(client, 400, "invalid_request_error",
                                     "malformed HTTP request: " + hec.message(), false);
            }
            co_return;
        }
        if (hdr::iequals(parser.get()[http::field::expect], "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [cec, cn] = co_await asio::async_write(client, asio::buffer(kContinue), kUseTuple);
            if (cec) co_return;
        }
        client.expires_after(std::chrono::seconds(60));  // time to receive the body
        const auto length = parser.content_length().value_or(0);
        if (length > buffer.capacity()) {
            buffer.reserve(
                static_cast<std::size_t>(std::min<std::uint64_t>(length, kBodyReadBytes)));
        }
        auto [bec, bn] = co_await http::async_read(client, buffer, parser, kUseTuple);
        if (buffer.capacity() > kHeaderReadBytes && buffer.size() <= kHeaderReadBytes) {
            buffer.shrink_to_fit();  // idle keep-alive connections stay small
            buffer.reserve(kHeaderReadBytes);
        }
        if (bec) {
            if (bec == http::error::body_limit) {
                co_await write_error(
                    client, 413, "request_too_large",
                    "request body exceeds " + std::to_string(cfg.max_body_bytes) + " bytes", false);
            } else if (bec != http::error::end_of_stream && bec != beast::error::timeout &&
                       bec != asio::error::eof && bec != asio::error::connection_reset) {
                co_await write_error(client, 400, "invalid_request_error",
                                     "malformed HTTP request: " + bec.message(), false);
            }
            co_return;
        }
        client.expires_never();
        auto& req = parser.get();
        const bool keep_alive = req.keep_alive() && !w.env().draining.load();
        const bool keep = co_await handle(w, client, req, keep_alive);
        if (!keep) co_return;
    }
}

}  // namespace

asio::awaitable<void> run_session(Worker& worker, asio::ip::tcp::socket socket) {
    const Worker::SessionScope scope(worker);
    boost::system::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    beast::tcp_stream client(std::move(socket));
    try {
        co_await session_loop(worker, client);
    } catch (const std::exception& e) {
        // The one catch-all per session: a bug must not take the process down.
        spdlog::error("session: unexpected exception: {}", e.what());
    }
    client.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    client.close();
}

}  // namespace qcc::proxy
