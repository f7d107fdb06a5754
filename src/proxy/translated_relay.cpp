#include "proxy/translated_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "protocol/http/response_head.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string stream_head(const TranslatedStreamJob& job, bool keep_alive) {
    return qcc::http::ResponseHead(200)
        .field("content-type", "text/event-stream; charset=utf-8")
        .field("cache-control", "no-cache")
        .field("x-qcc-endpoint", job.endpoint.cfg.name)
        .field("x-qcc-attempts", std::to_string(job.attempts))
        .chunked()
        .close(!keep_alive)
        .take();
}

}  // namespace

asio::awaitable<RelayResult> relay_translated_stream(const TranslatedStreamJob& job,
                                                     ClientWriter& out, RequestContext& ctx,
                                                     RelayBuffers& buffers, upstream::Pool& pool,
                                                     const ClientWatch& watch, bool keep_alive,
                                                     bool* completed) {
    RelayResult r;
    r.keep_alive = keep_alive;
    r.chunked = true;
    *completed = false;
    ctx.status = 200;
    ctx.endpoint = job.endpoint.cfg.name;
    auto& tr = job.translator;
    const auto finish = [&] { ctx.usage = tr.usage(); };
    const bool head_sent = co_await out.write(stream_head(job, keep_alive), job.pending, true);
    if (!head_sent) {
        finish();
        r.client_gone = true;
        co_return r;
    }
    ctx.ttfb_ms = ms_since(ctx.start);
    auto buf = buffers.acquire();
    std::string translated;
    while (!job.parser.is_done() && !tr.error_seen()) {
        const auto [ec, got] =
            co_await read_body_piece(job.lease, job.parser, buf.data(), job.endpoint.idle_timeout);
        if (got > 0) {
            translated.clear();
            tr.feed(std::string_view(buf.data(), got), translated);
            bool written = true;
            if (!translated.empty()) written = co_await out.write({}, translated, true);
            if (!written) {
                finish();
                r.client_gone = true;
                co_return r;
            }
        }
        if (watch.client_gone) {
            finish();
            r.client_gone = true;
            co_return r;
        }
        if (ec) {
            r.upstream_failed = true;
            r.failure = ec == beast::error::timeout
                            ? "upstream idle timeout"
                            : "upstream connection failed mid-response: " + ec.message();
            break;
        }
    }
    if (!r.upstream_failed) {
        translated.clear();
        if (tr.finish(translated)) {
            *completed = true;
        } else {
            r.upstream_failed = true;
            if (tr.error_seen()) {
                r.error_type = tr.error_type();
                r.failure = "upstream " + job.endpoint.cfg.name + ": " + tr.error_message();
            } else {
                r.failure = "upstream stream ended without finish_reason";
            }
        }
    }
    finish();
    if (r.upstream_failed) co_return r;  // the caller counts it, then end_cut_response() ends it
    bool ended = co_await out.write({}, translated, true);
    if (ended) ended = co_await out.write("0\r\n\r\n", {}, false);
    if (!ended) {
        r.client_gone = true;
        co_return r;
    }
    job.lease->requests++;
    if (job.parser.keep_alive()) pool.release(std::move(job.lease));
    co_return r;
}

}  // namespace qcc::proxy
