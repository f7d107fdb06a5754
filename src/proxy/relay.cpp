#include "proxy/relay.hpp"

#include <array>
#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "common/log.hpp"
#include "protocol/anthropic/error_body.hpp"
#include "protocol/anthropic/usage.hpp"
#include "protocol/http/headers.hpp"
#include "protocol/http/response_head.hpp"
#include "proxy/http_io.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace hdr = qcc::http;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Largest non-streamed JSON answer whose usage is read (bigger ones are relayed, usage unknown).
constexpr std::size_t kMaxUsageBody = 8u << 20;
constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// How the body is framed towards the client.
struct Framing {
    bool no_body = false;
    bool chunked = false;
};

Framing framing_of(const RelayJob& job) {
    const int status = job.parser.get().result_int();
    Framing f;
    f.no_body =
        job.head_request || status == 204 || status == 304 || (status >= 100 && status < 200);
    f.chunked = !f.no_body && !job.parser.content_length().has_value();
    return f;
}

std::string client_head(const RelayJob& job, const Framing& f, bool keep_alive) {
    const auto& h = job.parser.get();
    hdr::ResponseHead head(h.result_int(), h.reason());
    head.fields(filtered_response_headers(h))
        .field("x-qcc-endpoint", job.endpoint.cfg.name)
        .field("x-qcc-attempts", std::to_string(job.attempts));
    if (f.chunked) {
        head.chunked();
    } else if (f.no_body) {
        if (auto cl = h[http::field::content_length]; !cl.empty()) head.field("content-length", cl);
    } else {
        head.content_length(static_cast<std::size_t>(*job.parser.content_length()));
    }
    return head.close(!keep_alive).take();
}

/// The pump's state between pieces.
struct Pump {
    std::string head;  // not yet sent while non-empty
    std::string json_body;
    bool upstream_failed = false;
    std::string failure;
};

/// Writes the head (with the bytes already read, unless a plain body's first bytes may still
/// share its write), then moves the body from upstream to client piece by piece until it ends,
/// fails or the client leaves (false). The head goes out in any case.
asio::awaitable<bool> pump_body(const RelayJob& job, ClientWriter& out, RequestContext& ctx,
                                char* buf, const ClientWatch& watch, const Framing& f, Pump& pump) {
    // A plain (non-SSE) body goes out in the same write as the head when its first bytes are
    // already here or come at once: one send instead of two. Streams are never held back.
    if (job.sse || !job.pending.empty() || f.no_body) {
        const bool ok = co_await out.write(pump.head, job.pending, f.chunked);
        if (!ok) co_return false;
        pump.head.clear();
        ctx.ttfb_ms = ms_since(ctx.start);
    }
    const bool streaming = ctx.stream || job.sse;
    const auto total_deadline = Clock::now() + job.endpoint.total_timeout;
    while (!f.no_body && !job.parser.is_done()) {
        auto idle = std::chrono::duration_cast<std::chrono::nanoseconds>(job.endpoint.idle_timeout);
        if (!streaming) idle = std::min(idle, total_deadline - Clock::now());
        const auto [ec, got] = co_await read_body_piece(job.lease, job.parser, buf, idle);
        if (got > 0) {
            const std::string_view data(buf, got);
            if (job.sse) job.tap.feed(data);
            if (job.keep_json && pump.json_body.size() + data.size() <= kMaxUsageBody) {
                pump.json_body += data;
            }
            const bool ok = co_await out.write(pump.head, data, f.chunked);
            if (!ok) co_return false;
            if (!pump.head.empty()) {
                pump.head.clear();
                ctx.ttfb_ms = ms_since(ctx.start);
            }
        }
        if (watch.client_gone) co_return false;
        if (ec) {
            pump.upstream_failed = true;
            pump.failure = ec == beast::error::timeout
                               ? "upstream idle timeout"
                               : "upstream connection failed mid-response: " + ec.message();
            break;
        }
    }
    if (!pump.head.empty()) {
        const bool ok = co_await out.write(pump.head, {}, false);
        if (!ok) co_return false;
        pump.head.clear();
        ctx.ttfb_ms = ms_since(ctx.start);
    }
    co_return true;
}

}  // namespace

asio::awaitable<bool> ClientWriter::write(std::string_view head, std::string_view data,
                                          bool chunked) {
    char size_line[24];
    std::size_t size_len = 0;
    if (chunked && !data.empty()) {
        size_len = static_cast<std::size_t>(
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size()));
    }
    const bool framed = chunked && !data.empty();
    const std::array<asio::const_buffer, 4> bufs{
        asio::buffer(head), asio::buffer(size_line, size_len), asio::buffer(data),
        asio::buffer("\r\n", framed ? 2 : 0)};
    auto [ec, n] = co_await write_all(client_, bufs, timeout_);
    if (ec) {
        watch_->client_gone = true;
        co_return false;
    }
    ctx_.bytes_out += n;
    if (capture_limit_ > ctx_.response_payload.size()) {  // log.payloads (opt-in)
        ctx_.response_payload.append(data.substr(0, capture_limit_ - ctx_.response_payload.size()));
    }
    co_return true;
}

asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_body_piece(
    upstream::Lease& lease, ResponseParser& p, char* buf, std::chrono::nanoseconds timeout) {
    p.get().body().data = buf;
    p.get().body().size = RelayBuffers::kBytes;
    lease->tcp().expires_after(timeout);
    auto [ec, n] = co_await lease->visit(
        [&](auto& s) { return http::async_read_some(s, lease->buffer(), p, kUseTuple); });
    if (ec == http::error::need_buffer) ec = {};
    co_return std::pair{ec, RelayBuffers::kBytes - p.get().body().size};
}

asio::awaitable<boost::system::error_code> read_rest(upstream::Lease& lease, ResponseParser& p,
                                                     char* buf, std::string& out, std::size_t limit,
                                                     std::chrono::nanoseconds timeout,
                                                     const ClientWatch& watch) {
    while (!p.is_done() && out.size() < limit) {
        const auto [ec, got] = co_await read_body_piece(lease, p, buf, timeout);
        out.append(buf, got);
        if (ec) co_return ec;
        if (watch.client_gone) break;
    }
    co_return boost::system::error_code{};
}

std::string filtered_response_headers(const http::response_header<>& h) {
    std::string out;
    const auto connection = h[http::field::connection];
    for (const auto& f : h) {
        const auto name = f.name_string();
        if (hdr::is_hop_by_hop(name) || hdr::iequals(name, "content-length") ||
            (!connection.empty() && hdr::connection_lists(connection, name))) {
            continue;
        }
        out += name;
        out += ": ";
        out += f.value();
        out += "\r\n";
    }
    return out;
}

asio::awaitable<RelayResult> relay(const RelayJob& job, ClientWriter& out, RequestContext& ctx,
                                   RelayBuffers& buffers, upstream::Pool& pool,
                                   const ClientWatch& watch, bool keep_alive) {
    RelayResult r;
    r.keep_alive = keep_alive;
    const Framing f = framing_of(job);
    const int status = job.parser.get().result_int();
    ctx.status = status;
    ctx.endpoint = job.endpoint.cfg.name;
    Pump pump;
    pump.head = client_head(job, f, keep_alive);
    if (job.keep_json) pump.json_body.assign(job.pending);
    auto buf = buffers.acquire();
    const bool pumped = co_await pump_body(job, out, ctx, buf.data(), watch, f, pump);
    if (!pumped) {
        ctx.usage = job.tap.usage();
        r.client_gone = true;
        co_return r;
    }
    if (!pump.upstream_failed && job.sse && status < 300 && !job.tap.message_stop_seen() &&
        !job.tap.error_seen()) {
        pump.upstream_failed = true;
        pump.failure = "upstream stream ended without message_stop";
    }
    ctx.usage = job.keep_json ? anthropic::parse_usage_json(pump.json_body) : job.tap.usage();
    r.upstream_failed = pump.upstream_failed;
    r.failure = std::move(pump.failure);
    r.chunked = f.chunked;
    if (r.upstream_failed) {
        // A Content-Length body cannot be ended early: the connection closes instead.
        if (!f.chunked) r.keep_alive = false;
        co_return r;  // the caller counts the failure, then end_cut_response() ends it
    }
    if (f.chunked) {
        const bool ended = co_await out.write(kLastChunk, {}, false);
        if (!ended) {
            r.client_gone = true;
            co_return r;
        }
    }
    job.lease->requests++;
    if (!f.no_body && job.parser.keep_alive()) pool.release(std::move(job.lease));
    co_return r;
}

asio::awaitable<bool> end_cut_response(ClientWriter& out, const RelayResult& r, bool sse) {
    if (sse) {
        const auto event = anthropic::sse_error_event(
            r.error_type.empty() ? std::string_view("api_error") : std::string_view(r.error_type),
            r.failure);
        const bool ok = co_await out.write({}, event, true);
        if (!ok) co_return false;
    }
    co_return co_await out.write(kLastChunk, {}, false);
}

}  // namespace qcc::proxy
