#include "proxy/forwarder.hpp"

#include <chrono>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <sys/socket.h>

#include "common/log.hpp"
#include "protocol/anthropic/error_body.hpp"
#include "protocol/anthropic/stream_tap.hpp"
#include "protocol/anthropic/usage.hpp"
#include "protocol/http/headers.hpp"
#include "proxy/classify.hpp"
#include "proxy/client_watch.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

namespace hdr = qcc::http;

namespace {

using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using upstream::Endpoint;
using upstream::Lease;
using ResponseParser = http::response_parser<http::buffer_body>;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kRelayBufferBytes = RelayBuffers::kBytes;  // per-stream bound (SPEC §2)
constexpr std::size_t kMaxErrorBodyBytes = 256 * 1024;  // error bodies are read whole to classify
constexpr std::size_t kMaxPreCommitBytes = 256 * 1024;  // SSE bytes held before the first event

/// The last failed upstream response, returned to the client when every candidate failed.
struct SavedResponse {
    int status = 0;
    std::string headers;  // filtered "name: value\r\n" lines, without framing
    std::string body;
};

// Largest non-streamed JSON answer whose usage is read (bigger ones are relayed, usage unknown).
constexpr std::size_t kMaxUsageBody = 8u << 20;

enum class Outcome { kCommitted, kFailed, kRetryFresh, kClientGone, kSkipped };

std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool is_framing_or_hop(std::string_view name, std::string_view connection_value) {
    return hdr::is_hop_by_hop(name) || hdr::iequals(name, "content-length") ||
           (!connection_value.empty() && hdr::connection_lists(connection_value, name));
}

/// Response headers to pass to the client: all but hop-by-hop and framing.
std::string filtered_response_headers(const http::response_header<>& h) {
    std::string out;
    const auto connection = h[http::field::connection];
    for (const auto& f : h) {
        const auto name = f.name_string();
        if (is_framing_or_hop(name, connection)) continue;
        out += name;
        out += ": ";
        out += f.value();
        out += "\r\n";
    }
    return out;
}

const std::string* mapped_model(const Endpoint& ep, std::string_view model) {
    for (const auto& [from, to] : ep.cfg.model_map) {
        if (from == model) return &to;
    }
    for (const auto& [from, to] : ep.cfg.model_map) {
        if ((from == "haiku" || from == "sonnet" || from == "opus") &&
            model.find(from) != std::string_view::npos) {
            return &to;
        }
    }
    return nullptr;
}

/// Everything one forward() call shares between its attempts.
class Exchange {
  public:
    Exchange(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
             const anthropic::RequestView* view, RequestContext& ctx, bool keep_alive)
        : w_(worker),
          client_(client),
          req_(req),
          view_(view),
          ctx_(ctx),
          keep_alive_(keep_alive),
          watch_(std::make_shared<ClientWatch>()),
          capture_limit_(worker.runtime().policy()->payloads == PayloadCapture::kOff
                             ? 0
                             : worker.runtime().policy()->payload_max_bytes) {}

    asio::awaitable<bool> run();

  private:
    asio::awaitable<Outcome> attempt(const Endpoint& ep, bool fresh);
    asio::awaitable<Outcome> pre_commit_sse(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                            std::string& pending, anthropic::StreamTap& tap);
    asio::awaitable<Outcome> relay(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                   std::string_view pending, anthropic::StreamTap& tap, bool sse);
    asio::awaitable<Outcome> fail(const Endpoint& ep, const Verdict& v, int status,
                                  std::chrono::milliseconds cooldown = {});
    void emit_transition(const Endpoint& ep, const upstream::BreakerTransition& t);
    void cool_down(const Endpoint& ep, std::chrono::milliseconds d, std::string_view why);
    void note_soft_limit(const Endpoint& ep, const http::response_header<>& h);
    void bind_session(const Endpoint& ep);
    /// Reads the next piece of the response body into `buf` (kRelayBufferBytes) within
    /// `timeout`; returns the error (need_buffer is not one) and how many bytes arrived.
    asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_piece(
        Lease& lease, ResponseParser& p, char* buf, std::chrono::nanoseconds timeout);
    asio::awaitable<bool> write_client(std::string_view head, std::string_view data, bool chunked);
    asio::awaitable<bool> write_exhausted();
    void apply(const Endpoint& ep, const Verdict& v, std::chrono::milliseconds cooldown);
    std::string upstream_head(const Endpoint& ep, std::size_t body_size) const;
    Attempt& current() { return ctx_.attempts.back(); }

    Worker& w_;
    beast::tcp_stream& client_;
    ClientRequest& req_;
    const anthropic::RequestView* view_;
    RequestContext& ctx_;
    bool keep_alive_;
    std::shared_ptr<ClientWatch> watch_;
    std::size_t capture_limit_;      // bytes of the response kept for the request log (0 = none)
    std::string forwarded_headers_;  // client headers as forwarded (built once)
    std::optional<SavedResponse> last_;
    std::string last_endpoint_;
    Verdict last_verdict_;
    Clock::time_point attempt_start_;
    std::shared_ptr<const Policy> policy_;
    upstream::BreakerPermit permit_;  // the current attempt's breaker admission
    bool fail_open_ = false;
    Clock::time_point head_at_;
};

std::string Exchange::upstream_head(const Endpoint& ep, std::size_t body_size) const {
    std::string head;
    head.reserve(forwarded_headers_.size() + 256);
    head += req_.method_string();
    head += ' ';
    head += ep.path_prefix;
    head += req_.target();
    head += " HTTP/1.1\r\nhost: ";
    head += ep.host_header;
    head += "\r\n";
    head += forwarded_headers_;
    upstream::append_credentials(head, ep);
    const auto method = req_.method();
    if (body_size > 0 || method == http::verb::post || method == http::verb::put ||
        method == http::verb::patch) {
        head += "content-length: ";
        head += std::to_string(body_size);
        head += "\r\n";
    }
    head += "\r\n";
    return head;
}

void Exchange::emit_transition(const Endpoint& ep, const upstream::BreakerTransition& t) {
    using upstream::BreakerState;
    const char* kind = t.to == BreakerState::kOpen       ? "breaker_open"
                       : t.to == BreakerState::kHalfOpen ? "breaker_half_open"
                                                         : "breaker_closed";
    ep.state->dirty = true;
    w_.runtime().emit(ep.cfg.name, kind, t.reason);
}

void Exchange::cool_down(const Endpoint& ep, std::chrono::milliseconds d, std::string_view why) {
    auto& s = *ep.state;
    const auto now_ns = w_.runtime().now().time_since_epoch().count();
    const auto until = now_ns + std::chrono::nanoseconds(d).count();
    auto prev = s.cooldown_until_ns.load(std::memory_order_relaxed);
    while (prev < until && !s.cooldown_until_ns.compare_exchange_weak(prev, until)) {
    }
    if (prev != 0 && prev <= now_ns) {
        // The previous cooldown ended but the control thread has not reported it yet.
        w_.runtime().emit(ep.cfg.name, "cooldown_end", s.cooldown_reason());
    }
    if (prev < until) {
        s.set_cooldown_reason(std::string(why));
        s.dirty = true;
    }
    if (prev <= now_ns) {
        w_.runtime().emit(ep.cfg.name, "cooldown_start",
                          std::string(why) + " for " + std::to_string(d.count()) + " ms");
    }
}

void Exchange::note_soft_limit(const Endpoint& ep, const http::response_header<>& h) {
    // A soft warning lowers the endpoint's weight for a while without excluding it (SPEC §4).
    if (h["anthropic-ratelimit-unified-status"] != "allowed_warning") return;
    const auto until = (w_.runtime().now() + policy_->soft_limit_hold).time_since_epoch().count();
    ep.state->soft_limited_until_ns.store(until, std::memory_order_relaxed);
}

asio::awaitable<std::pair<boost::system::error_code, std::size_t>> Exchange::read_piece(
    Lease& lease, ResponseParser& p, char* buf, std::chrono::nanoseconds timeout) {
    p.get().body().data = buf;
    p.get().body().size = kRelayBufferBytes;
    lease->tcp().expires_after(timeout);
    auto [ec, n] = co_await lease->visit(
        [&](auto& s) { return http::async_read_some(s, lease->buffer(), p, kUseTuple); });
    if (ec == http::error::need_buffer) ec = {};
    co_return std::pair{ec, kRelayBufferBytes - p.get().body().size};
}

void Exchange::bind_session(const Endpoint& ep) {
    // SPEC §5: bound at the first successful commit, refreshed on every use; a move is a re-pin.
    if (ctx_.session_key.empty()) return;
    auto& rt = w_.runtime();
    if (rt.affinity().bind(ctx_.session_key, ep.id, rt.unix_ms())) {
        rt.emit(ep.cfg.name, "repin", "session " + ctx_.session_key);
    }
}

void Exchange::apply(const Endpoint& ep, const Verdict& v, std::chrono::milliseconds cooldown) {
    auto& s = *ep.state;
    auto& rt = w_.runtime();
    const auto now = rt.now();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - attempt_start_);
    auto report = [&](std::optional<upstream::BreakerTransition> t) {
        if (t) emit_transition(ep, *t);
    };
    auto failed = [&] {
        s.failures.fetch_add(1, std::memory_order_relaxed);
        s.stats.record(upstream::AttemptSample{false, elapsed, elapsed, 0}, now);
        report(s.breaker.on_failure(now, &permit_));
    };
    switch (v.endpoint) {
        case EndpointEffect::kNone:
            s.breaker.release(now, &permit_);
            return;
        case EndpointEffect::kSuccess:
            s.successes.fetch_add(1, std::memory_order_relaxed);
            report(s.breaker.on_success(now, &permit_));
            return;
        case EndpointEffect::kFailure:
            failed();
            return;
        case EndpointEffect::kOverloaded:
            failed();
            cool_down(ep, policy_->overload_cooldown, "overloaded");
            return;
        case EndpointEffect::kRateLimited:
            s.breaker.release(now, &permit_);
            cool_down(ep, cooldown.count() > 0 ? cooldown : policy_->rate_limit_cooldown,
                      "rate_limited");
            return;
        case EndpointEffect::kQuarantine:
            s.breaker.release(now, &permit_);
            if (!s.quarantined.exchange(true)) {
                s.set_quarantine_reason(std::string(v.error_class));
                s.dirty = true;
                rt.emit(ep.cfg.name, "quarantine", std::string(v.error_class));
            }
            return;
    }
}

asio::awaitable<Outcome> Exchange::fail(const Endpoint& ep, const Verdict& v, int status,
                                        std::chrono::milliseconds cooldown) {
    apply(ep, v, cooldown);
    auto& a = current();
    a.status = status;
    a.error_class = std::string(v.error_class);
    a.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - attempt_start_);
    last_verdict_ = v;
    co_return v.request == RequestEffect::kRetryFresh ? Outcome::kRetryFresh : Outcome::kFailed;
}

asio::awaitable<bool> Exchange::write_client(std::string_view head, std::string_view data,
                                             bool chunked) {
    char size_line[24];
    std::size_t size_len = 0;
    if (chunked && !data.empty()) {
        size_len = static_cast<std::size_t>(
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size()));
    }
    const bool framed = chunked && !data.empty();
    std::array<asio::const_buffer, 4> bufs{asio::buffer(head), asio::buffer(size_line, size_len),
                                           asio::buffer(data),
                                           asio::buffer("\r\n", framed ? 2 : 0)};
    client_.expires_after(w_.runtime().config().timeouts.idle);
    auto [ec, n] = co_await asio::async_write(client_, bufs, kUseTuple);
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

asio::awaitable<Outcome> Exchange::attempt(const Endpoint& ep, bool fresh) {
    // Breaker admission: a half-open endpoint admits exactly one trial at a time.
    {
        const auto now = w_.runtime().now();
        std::optional<upstream::BreakerTransition> t;
        permit_ = {};
        const bool admitted = fail_open_
                                  ? ep.state->breaker.try_acquire_fail_open(now, &t, &permit_)
                                  : ep.state->breaker.try_acquire(now, &t, &permit_);
        if (t) emit_transition(ep, *t);
        if (!admitted) co_return Outcome::kSkipped;
    }
    attempt_start_ = Clock::now();
    ctx_.attempts.push_back(Attempt{ep.cfg.name, 0, {}, {}});
    last_endpoint_ = ep.cfg.name;
    ep.state->attempts.fetch_add(1, std::memory_order_relaxed);

    auto leased = co_await w_.pool().lease(ep, fresh);
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (!leased) {
        co_return co_await fail(ep, classify_transport(leased.error().kind, false), 0);
    }
    Lease lease = std::move(leased.value());
    const bool reused = lease.reused();
    watch_->upstream = &lease->tcp();
    struct Unwatch {
        ClientWatch& w;
        ~Unwatch() { w.upstream = nullptr; }
    } unwatch{*watch_};

    ep.state->in_flight.fetch_add(1, std::memory_order_relaxed);
    struct InFlight {
        upstream::EndpointState& s;
        ~InFlight() { s.in_flight.fetch_sub(1, std::memory_order_relaxed); }
    } in_flight{*ep.state};

    // Body: forwarded as received, or with only the model token spliced (SPEC §3).
    std::string spliced;
    std::string_view body = req_.body();
    ctx_.model_sent = ctx_.model_requested;
    if (view_ != nullptr && view_->model_length > 0 && !ep.cfg.model_map.empty()) {
        if (const auto* target = mapped_model(ep, view_->model)) {
            spliced = anthropic::splice_model(body, *view_, *target);
            body = spliced;
            ctx_.model_sent = *target;
        }
    }
    boost::system::error_code wec;
    {
        // Scoped: a held stream keeps neither the request head nor a spliced body copy.
        const auto head = upstream_head(ep, body.size());
        lease->tcp().expires_after(ep.first_byte_timeout);
        std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(body)};
        auto [ec, wn] =
            co_await lease->visit([&](auto& s) { return asio::async_write(s, out, kUseTuple); });
        wec = ec;
        std::string().swap(spliced);
    }
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (wec) {
        const auto kind = wec == beast::error::timeout ? ErrorKind::kFirstByteTimeout
                                                       : ErrorKind::kConnectionReset;
        co_return co_await fail(ep, classify_transport(kind, reused), 0);
    }

    ResponseParser p;
    p.body_limit(boost::none);
    p.header_limit(64 * 1024);
    if (req_.method() == http::verb::head) p.skip(true);
    auto [hec, hn] = co_await lease->visit(
        [&](auto& s) { return http::async_read_header(s, lease->buffer(), p, kUseTuple); });
    if (watch_->client_gone) co_return Outcome::kClientGone;
    head_at_ = Clock::now();
    if (hec) {
        ErrorKind kind = ErrorKind::kConnectionReset;
        if (hec == beast::error::timeout) {
            kind = ErrorKind::kFirstByteTimeout;
        } else if (hec != http::error::end_of_stream && hec != asio::error::eof &&
                   hec != asio::error::connection_reset && hec != asio::error::broken_pipe &&
                   hec != asio::ssl::error::stream_truncated) {  // TLS close without close_notify
            kind = ErrorKind::kMalformedResponse;
        }
        const bool nothing_received = hn == 0;
        co_return co_await fail(ep, classify_transport(kind, reused && nothing_received), 0);
    }

    const int status = p.get().result_int();
    note_soft_limit(ep, p.get());
    const auto content_type = p.get()[http::field::content_type];
    const bool sse = content_type.starts_with("text/event-stream");
    anthropic::StreamTap tap;

    if (status >= 200 && status < 300) {
        std::string pending;
        if (sse) {
            auto outcome = co_await pre_commit_sse(ep, lease, p, pending, tap);
            if (outcome != Outcome::kCommitted) co_return outcome;
        }
        apply(ep, classify_response(status, ""), {});
        bind_session(ep);
        co_return co_await relay(ep, lease, p, pending, tap, sse);
    }

    // Not 2xx: read the (small) error body whole, then classify by status and error.type.
    std::string err_body;
    // Borrowed from the worker, not on the coroutine frame: frames of held streams stay small.
    const auto buf = w_.relay_buffers().acquire();
    while (!p.is_done() && err_body.size() < kMaxErrorBodyBytes) {
        const auto [ec, got] = co_await read_piece(lease, p, buf.data(), ep.idle_timeout);
        err_body.append(buf.data(), got);
        if (watch_->client_gone) co_return Outcome::kClientGone;
        if (ec) break;
    }
    const Verdict v = classify_response(status, anthropic::parse_error_type(err_body));
    if (v.request == RequestEffect::kCommit) {
        // The client's own error (400, 404, 413, 422...): returned as is, endpoint untouched.
        co_return co_await relay(ep, lease, p, err_body, tap, false);
    }
    std::chrono::milliseconds cooldown{};
    if (v.endpoint == EndpointEffect::kRateLimited) {
        const auto& h = p.get();
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        cooldown = rate_limit_cooldown(
            h["retry-after"],
            {h["anthropic-ratelimit-requests-reset"], h["anthropic-ratelimit-tokens-reset"],
             h["anthropic-ratelimit-input-tokens-reset"],
             h["anthropic-ratelimit-output-tokens-reset"]},
            now_ms, policy_->rate_limit_cooldown);
    }
    last_ = SavedResponse{status, filtered_response_headers(p.get()), std::move(err_body)};
    if (p.is_done() && p.keep_alive()) {
        lease->requests++;
        w_.pool().release(std::move(lease));
    }
    co_return co_await fail(ep, v, status, cooldown);
}

asio::awaitable<Outcome> Exchange::pre_commit_sse(const Endpoint& ep, Lease& lease,
                                                  ResponseParser& p, std::string& pending,
                                                  anthropic::StreamTap& tap) {
    // Hold the stream until its first non-ping event: an `event: error` there (e.g. overloaded
    // after a 200) is a failed attempt that may still move to another endpoint (SPEC §2.6).
    const auto buf = w_.relay_buffers().acquire();
    while (!p.is_done() && !tap.first_event_seen() && pending.size() < kMaxPreCommitBytes) {
        const auto [ec, got] = co_await read_piece(lease, p, buf.data(), ep.idle_timeout);
        if (got > 0) {
            pending.append(buf.data(), got);
            tap.feed(std::string_view(buf.data(), got));
        }
        if (watch_->client_gone) co_return Outcome::kClientGone;
        if (ec) {
            const auto kind =
                ec == beast::error::timeout ? ErrorKind::kIdleTimeout : ErrorKind::kConnectionReset;
            co_return co_await fail(ep, classify_transport(kind, false), 200);
        }
    }
    if (tap.first_event_is_error()) {
        const auto& type = tap.error_type();
        const int as_status = status_for_sse_error(type);
        last_ = SavedResponse{
            as_status, "content-type: application/json\r\n",
            anthropic::error_body(type.empty() ? "api_error" : type,
                                  "upstream " + ep.cfg.name + " opened the stream with an error")};
        co_return co_await fail(ep, classify_response(as_status, type), 200);
    }
    co_return Outcome::kCommitted;
}

asio::awaitable<Outcome> Exchange::relay(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                         std::string_view pending, anthropic::StreamTap& tap,
                                         bool sse) {
    const auto& h = p.get();
    const int status = h.result_int();
    const bool no_body = req_.method() == http::verb::head || status == 204 || status == 304 ||
                         (status >= 100 && status < 200);
    const bool chunked = !no_body && !p.content_length().has_value();
    std::string head;
    head.reserve(1024);
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += h.reason().empty() ? reason_phrase(status) : std::string_view(h.reason());
    head += "\r\n";
    head += filtered_response_headers(h);
    head += "x-qcc-endpoint: ";
    head += ep.cfg.name;
    head += "\r\nx-qcc-attempts: ";
    head += std::to_string(ctx_.attempts.size());
    head += "\r\n";
    if (chunked) {
        head += "transfer-encoding: chunked\r\n";
    } else if (no_body) {
        if (auto cl = h[http::field::content_length]; !cl.empty()) {
            head += "content-length: ";
            head += cl;
            head += "\r\n";
        }
    } else {
        head += "content-length: ";
        head += std::to_string(*p.content_length());
        head += "\r\n";
    }
    if (!keep_alive_) head += "connection: close\r\n";
    head += "\r\n";

    ctx_.status = status;
    ctx_.endpoint = ep.cfg.name;
    auto& a = current();
    a.status = status;
    // Committed: no other attempt will need the request, so a long stream does not hold a
    // 100 KB Claude Code body (or the forwarded headers) for its whole life.
    std::string().swap(req_.body());
    std::string().swap(forwarded_headers_);
    // A plain (non-SSE) body goes out in the same write as the head when its first bytes are
    // already here or come at once: one send instead of two. Streams are never held back.
    bool head_sent = false;
    if (sse || !pending.empty() || no_body) {
        if (!co_await write_client(head, pending, chunked)) {
            ctx_.error_class = "client_cancelled";
            co_return Outcome::kClientGone;
        }
        head_sent = true;
        ctx_.ttfb_ms = ms_since(ctx_.start);
    }

    const bool streaming = ctx_.stream || sse;
    // A plain JSON Messages answer carries its usage in the body: keep a copy (bounded) to read
    // it once complete. SSE usage comes from the tap instead.
    const bool keep_json = !sse && status < 300 && !no_body && view_ != nullptr;
    std::string json_body;
    if (keep_json) json_body.assign(pending);
    const auto total_deadline = Clock::now() + ep.total_timeout;
    auto buf = w_.relay_buffers().acquire();
    bool upstream_failed = false;
    std::string failure;
    while (!no_body && !p.is_done()) {
        auto idle = std::chrono::duration_cast<std::chrono::nanoseconds>(ep.idle_timeout);
        if (!streaming) idle = std::min(idle, total_deadline - Clock::now());
        const auto [ec, got] = co_await read_piece(lease, p, buf.data(), idle);
        if (got > 0) {
            const std::string_view data(buf.data(), got);
            if (sse) tap.feed(data);
            if (keep_json && json_body.size() + data.size() <= kMaxUsageBody) json_body += data;
            if (!co_await write_client(head_sent ? std::string_view{} : head, data, chunked)) {
                ctx_.usage = tap.usage();
                ctx_.error_class = "client_cancelled";
                co_return Outcome::kClientGone;
            }
            if (!head_sent) {
                head_sent = true;
                ctx_.ttfb_ms = ms_since(ctx_.start);
            }
        }
        if (watch_->client_gone) {
            ctx_.usage = tap.usage();
            ctx_.error_class = "client_cancelled";
            co_return Outcome::kClientGone;
        }
        if (ec) {
            upstream_failed = true;
            failure = ec == beast::error::timeout
                          ? "upstream idle timeout"
                          : "upstream connection failed mid-response: " + ec.message();
            break;
        }
    }
    if (!head_sent) {
        if (!co_await write_client(head, {}, false)) {
            ctx_.error_class = "client_cancelled";
            co_return Outcome::kClientGone;
        }
        ctx_.ttfb_ms = ms_since(ctx_.start);
    }
    if (!upstream_failed && sse && status < 300 && !tap.message_stop_seen() && !tap.error_seen()) {
        upstream_failed = true;
        failure = "upstream stream ended without message_stop";
    }
    ctx_.usage = keep_json ? anthropic::parse_usage_json(json_body) : tap.usage();
    if (upstream_failed) {
        // After the commit point: never retry, never truncate silently (SPEC §2.8).
        apply(ep, Verdict{EndpointEffect::kFailure, RequestEffect::kCommit, "mid_stream"}, {});
        w_.runtime().counters().mid_stream_failures.fetch_add(1, std::memory_order_relaxed);
        ctx_.error_class = "mid_stream_failure";
        a.error_class = "mid_stream_failure";
        spdlog::warn("request {}: endpoint {}: {}", ctx_.id, ep.cfg.name, failure);
        if (!chunked) {
            keep_alive_ = false;  // a Content-Length body cannot be ended early: close
            co_return Outcome::kCommitted;
        }
        if (sse) {
            const auto event = anthropic::sse_error_event("api_error", failure);
            if (!co_await write_client({}, event, true)) co_return Outcome::kClientGone;
        }
        if (!co_await write_client("0\r\n\r\n", {}, false)) co_return Outcome::kClientGone;
        co_return Outcome::kCommitted;
    }
    if (chunked && !co_await write_client("0\r\n\r\n", {}, false)) {
        co_return Outcome::kClientGone;
    }
    if (status >= 400 && ctx_.error_class.empty()) ctx_.error_class = "client_error";
    if (status < 300) {
        const auto end = Clock::now();
        ep.state->stats.record(
            upstream::AttemptSample{
                true,
                std::chrono::duration_cast<std::chrono::milliseconds>(head_at_ - attempt_start_),
                std::chrono::duration_cast<std::chrono::milliseconds>(end - attempt_start_),
                ctx_.usage.input_tokens + ctx_.usage.output_tokens},
            w_.runtime().now());
    }
    lease->requests++;
    if (!no_body && p.keep_alive()) w_.pool().release(std::move(lease));
    co_return Outcome::kCommitted;
}

asio::awaitable<bool> Exchange::write_exhausted() {
    ctx_.endpoint.clear();
    std::string tried;
    for (const auto& a : ctx_.attempts) {
        if (!tried.empty()) tried += ", ";
        tried += a.endpoint + " (" + (a.error_class.empty() ? "failed" : a.error_class) + ")";
    }
    if (!last_) {
        ctx_.status = 502;
        ctx_.error_class = ctx_.attempts.empty() ? "no_endpoint" : "all_endpoints_failed";
        const std::string msg = ctx_.attempts.empty() ? "no usable upstream endpoint is configured"
                                                      : "all upstream endpoints failed: " + tried;
        co_return co_await write_error(client_, 502, "api_error", msg, keep_alive_);
    }
    // Return the last real upstream response: Claude Code's own retries depend on its status.
    ctx_.status = last_->status;
    ctx_.error_class = std::string(last_verdict_.error_class);
    std::string head = "HTTP/1.1 " + std::to_string(last_->status) + " ";
    head += reason_phrase(last_->status);
    head += "\r\n";
    head += last_->headers;
    head += "x-qcc-endpoint: " + last_endpoint_ + "\r\n";
    head += "x-qcc-attempts: " + std::to_string(ctx_.attempts.size()) + "\r\n";
    head += "content-length: " + std::to_string(last_->body.size()) + "\r\n";
    if (!keep_alive_) head += "connection: close\r\n";
    head += "\r\n";
    const bool ok = co_await write_client(head, last_->body, false);
    if (ok) ctx_.ttfb_ms = ms_since(ctx_.start);
    co_return ok;
}

asio::awaitable<bool> Exchange::run() {
    // Client headers minus hop-by-hop, credentials and framing, computed once for all attempts.
    bool has_version = false;
    const auto connection = req_[http::field::connection];
    forwarded_headers_.reserve(2048);
    for (const auto& f : req_.base()) {
        const auto name = f.name_string();
        if (is_framing_or_hop(name, connection) || hdr::iequals(name, "host") ||
            hdr::iequals(name, "x-api-key") || hdr::iequals(name, "authorization") ||
            hdr::iequals(name, "accept-encoding")) {
            continue;
        }
        if (hdr::iequals(name, "anthropic-version")) has_version = true;
        forwarded_headers_ += name;
        forwarded_headers_ += ": ";
        forwarded_headers_ += f.value();
        forwarded_headers_ += "\r\n";
    }
    if (!has_version) forwarded_headers_ += "anthropic-version: 2023-06-01\r\n";
    forwarded_headers_ += "accept-encoding: identity\r\n";

    auto& rt = w_.runtime();
    policy_ = rt.policy();
    const auto set = rt.endpoints();
    const Endpoint* bound = nullptr;
    if (!ctx_.session_key.empty()) {
        if (auto id = rt.affinity().lookup(ctx_.session_key, rt.unix_ms())) {
            for (const auto& ep : set->endpoints) {
                if (ep->id == *id) {
                    bound = ep.get();
                    break;
                }
            }
        }
    }
    upstream::SelectionRequest request{set.get(),
                                       rt.now(),
                                       policy_->strategy,
                                       policy_->soft_limit_factor,
                                       ctx_.session_key,
                                       bound,
                                       static_cast<std::size_t>(policy_->max_attempts)};
    const auto selection = w_.selector().select(request);
    fail_open_ = selection.fail_open;
    if (fail_open_ && !selection.candidates.empty()) {
        rt.counters().fail_open.fetch_add(1, std::memory_order_relaxed);
    }
    const auto budget = rt.retry_budget();
    budget->on_request(rt.now());

    const ClientWatchScope client_watch(client_, watch_);  // SPEC §2.9: a disconnect cancels

    const auto deadline = Clock::now() + 2 * rt.config().timeouts.first_byte;
    const int max_attempts = policy_->max_attempts;
    const int max_per_endpoint = policy_->max_attempts_per_endpoint;
    int attempts = 0;
    bool budget_exhausted = false;
    const Endpoint* last_ep = nullptr;
    // Attempts per endpoint for this request (a handful of entries: a flat list beats a map).
    std::vector<std::pair<const Endpoint*, int>> tried;
    auto per_endpoint_count = [&tried](const Endpoint* ep) -> int& {
        for (auto& [e, n] : tried) {
            if (e == ep) return n;
        }
        return tried.emplace_back(ep, 0).second;
    };
    Outcome outcome = Outcome::kFailed;
    auto run_on = [&](const Endpoint* ep) -> asio::awaitable<Outcome> {
        bool fresh = false;
        Outcome o = Outcome::kSkipped;
        while (attempts < max_attempts && per_endpoint_count(ep) < max_per_endpoint) {
            if (!fail_open_ && !ep->state->breaker.would_allow(rt.now())) break;
            // Every attempt after the first spends from the process-wide retry budget, so an
            // outage of every endpoint does not multiply the load (SPEC §4).
            if (attempts > 0 && !budget->try_spend_retry(rt.now())) {
                budget_exhausted = true;
                rt.counters().retries_denied.fetch_add(1, std::memory_order_relaxed);
                break;
            }
            o = co_await attempt(*ep, fresh);
            if (o == Outcome::kSkipped) break;
            ++attempts;
            ++per_endpoint_count(ep);
            if (o != Outcome::kRetryFresh || fresh) break;
            fresh = true;  // a stale pooled socket: once more on a fresh connection
        }
        if (o != Outcome::kSkipped) last_ep = ep;
        co_return o == Outcome::kRetryFresh ? Outcome::kFailed : o;
    };
    for (const auto* ep : selection.candidates) {
        if (attempts >= max_attempts || budget_exhausted || Clock::now() >= deadline) break;
        if (attempts > 0) rt.counters().failovers.fetch_add(1, std::memory_order_relaxed);
        const auto o = co_await run_on(ep);
        if (o == Outcome::kSkipped) continue;
        outcome = o;
        if (outcome != Outcome::kFailed) break;
    }
    // 529 with no candidate left: one jittered in-place retry (SPEC §4).
    if (outcome == Outcome::kFailed && last_ep != nullptr && !budget_exhausted &&
        last_verdict_.endpoint == EndpointEffect::kOverloaded && attempts < max_attempts &&
        per_endpoint_count(last_ep) < max_per_endpoint && Clock::now() < deadline) {
        static thread_local std::minstd_rand rng{std::random_device{}()};
        asio::steady_timer timer(client_.get_executor());
        timer.expires_after(std::chrono::milliseconds(100 + rng() % 401));
        co_await timer.async_wait(kUseTuple);
        if (!watch_->client_gone) {
            const auto o = co_await run_on(last_ep);
            if (o != Outcome::kSkipped) outcome = o;
        }
    }

    switch (outcome) {
        case Outcome::kCommitted:
            co_return keep_alive_;
        case Outcome::kClientGone:
            ctx_.error_class = "client_cancelled";
            w_.runtime().counters().client_cancels.fetch_add(1, std::memory_order_relaxed);
            co_return false;
        case Outcome::kFailed:
        case Outcome::kRetryFresh:
        case Outcome::kSkipped:
            break;
    }
    if (watch_->client_gone) {
        ctx_.error_class = "client_cancelled";
        co_return false;
    }
    co_return co_await write_exhausted() && keep_alive_;
}

}  // namespace

asio::awaitable<bool> forward(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
                              const anthropic::RequestView* view, RequestContext& ctx,
                              bool keep_alive) {
    Exchange exchange(worker, client, req, view, ctx, keep_alive);
    co_return co_await exchange.run();
}

}  // namespace qcc::proxy
