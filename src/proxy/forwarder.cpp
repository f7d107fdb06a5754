// The attempt loop of one /v1/* request: select the candidates, then for each step of the
// AttemptPlan admit (breaker) -> lease -> send -> read the head -> classify, until an attempt is
// committed (handed to the relay) or the plan runs out and the last upstream answer (or a 502) goes
// back to the client.
#include "proxy/forwarder.hpp"

#include <chrono>
#include <random>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "common/log.hpp"
#include "protocol/anthropic/error_body.hpp"
#include "protocol/anthropic/stream_tap.hpp"
#include "protocol/http/headers.hpp"
#include "protocol/http/response_head.hpp"
#include "protocol/openai/token_estimate.hpp"
#include "protocol/openai/translate_request.hpp"
#include "protocol/openai/translate_response.hpp"
#include "protocol/openai/translate_stream.hpp"
#include "proxy/attempt_plan.hpp"
#include "proxy/classify.hpp"
#include "proxy/client_watch.hpp"
#include "proxy/http_io.hpp"
#include "proxy/relay.hpp"
#include "proxy/translated_relay.hpp"
#include "proxy/unserved.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

namespace hdr = qcc::http;

namespace {

using Clock = std::chrono::steady_clock;
using upstream::Endpoint;
using upstream::Lease;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxErrorBodyBytes = 256 * 1024;  // error bodies are read whole to classify
constexpr std::size_t kMaxPreCommitBytes = 256 * 1024;  // SSE bytes held before content
constexpr std::size_t kMaxTranslatedBody = 8u << 20;    // a whole Chat Completions answer

/// What an endpoint of kind openai can do with a request's route.
enum class OpenAiRoute { kMessages, kCountTokens, kOther };

OpenAiRoute openai_route(const ClientRequest& req) {
    const std::string_view target = req.target();
    const auto path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::post) return OpenAiRoute::kOther;
    if (path == "/v1/messages") return OpenAiRoute::kMessages;
    if (path == "/v1/messages/count_tokens") return OpenAiRoute::kCountTokens;
    return OpenAiRoute::kOther;
}

bool is_count_tokens(const ClientRequest& req) {
    const std::string_view target = req.target();
    return target.substr(0, target.find('?')) == "/v1/messages/count_tokens";
}

TranslatedStreamJob translated_job(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                   openai::StreamTranslator& tr, std::string_view pending,
                                   int attempts) {
    return TranslatedStreamJob{ep, lease, p, tr, pending, attempts};
}

/// {"input_tokens": N}: the local estimate of a Messages request's input tokens.
std::string count_tokens_estimate(std::string_view body) {
    return R"({"input_tokens":)" +
           std::to_string(std::max<std::int64_t>(0, openai::estimate_input_tokens(body))) + "}";
}

/// The last failed upstream response, returned to the client when every candidate failed.
struct SavedResponse {
    int status = 0;
    std::string headers;  // filtered "name: value\r\n" lines, without framing
    std::string body;
};

enum class Outcome { kCommitted, kFailed, kRetryFresh, kClientGone, kSkipped };

/// Sends a request (head, body) upstream: a plain connection takes it at once when its send
/// buffer has room (no timer, no reactor); TLS, or a rest that does not fit, is written
/// asynchronously, within the expiry the caller set (or `timeout` from the moment it has to wait).
asio::awaitable<WriteResult> write_request(upstream::Connection& conn,
                                           const std::array<asio::const_buffer, 4>& out,
                                           std::chrono::nanoseconds timeout) {
    return conn.visit([&](auto& s) -> asio::awaitable<WriteResult> {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, beast::tcp_stream>) {
            return write_all(s, out, timeout);
        } else {
            return asio::async_write(s, out, kUseTuple);  // within the expiry the caller set
        }
    });
}

std::int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// True for the client header fields that are never forwarded: hop-by-hop, framing, Host,
/// credentials and Accept-Encoding. Known fields are matched by their enum (no string compare);
/// every hop-by-hop name has one (Beast recognizes names in any case), so among unknown names only
/// the client's x-api-key is dropped.
bool dropped_field(http::field f, std::string_view name) {
    switch (f) {
        case http::field::connection:
        case http::field::keep_alive:
        case http::field::proxy_authenticate:
        case http::field::proxy_authorization:
        case http::field::proxy_connection:
        case http::field::te:
        case http::field::trailer:
        case http::field::transfer_encoding:
        case http::field::upgrade:
        case http::field::content_length:
        case http::field::host:
        case http::field::authorization:
        case http::field::accept_encoding:
            return true;
        case http::field::unknown:
            return name.size() == 9 && hdr::iequals(name, "x-api-key");
        default:
            return false;
    }
}

/// Client headers minus hop-by-hop, credentials, framing, Host and Accept-Encoding, plus
/// anthropic-version when the client sent none and accept-encoding: identity (the side tap reads
/// usage without decompressing). Built once for all attempts.
std::string forwarded_headers(const ClientRequest& req) {
    std::string out;
    out.reserve(2048);
    bool has_version = false;
    // Extra hop-by-hop names listed in Connection (rare: "keep-alive" and "close" are dropped
    // anyway, so only other tokens make the per-field check necessary).
    auto connection = req[http::field::connection];
    const bool lists_extra = !connection.empty() && !hdr::iequals(connection, "keep-alive") &&
                             !hdr::iequals(connection, "close");
    for (const auto f : req.fields()) {
        const auto name = f.name;
        if (dropped_field(f.id, name) || (lists_extra && hdr::connection_lists(connection, name))) {
            continue;
        }
        if (!has_version && f.id == http::field::unknown &&
            hdr::iequals(name, "anthropic-version")) {
            has_version = true;
        }
        out += name;
        out += ": ";
        out += f.value;
        out += "\r\n";
    }
    if (!has_version) out += "anthropic-version: 2023-06-01\r\n";
    out += "accept-encoding: identity\r\n";
    return out;
}

/// The plan's view of an attempt outcome.
AttemptResult plan_result(Outcome o, const Verdict& last) {
    switch (o) {
        case Outcome::kSkipped:
            return AttemptResult::kSkipped;
        case Outcome::kRetryFresh:
            return AttemptResult::kStale;
        case Outcome::kFailed:
            return last.endpoint == EndpointEffect::kOverloaded ? AttemptResult::kOverloaded
                                                                : AttemptResult::kFailed;
        case Outcome::kCommitted:
        case Outcome::kClientGone:
            break;
    }
    return AttemptResult::kFinished;
}

/// Everything one forward() call shares between its attempts.
class Exchange {
  public:
    Exchange(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
             const anthropic::RequestView* view, RequestContext& ctx, bool keep_alive)
        : w_(worker),
          health_(worker.env().health),
          req_(req),
          view_(view),
          ctx_(ctx),
          keep_alive_(keep_alive),
          policy_(worker.env().snapshots.policy()),
          watch_(std::make_shared<ClientWatch>()),
          out_(client, watch_, ctx,
               policy_->payloads == PayloadCapture::kOff ? 0 : policy_->payload_max_bytes,
               worker.env().config.timeouts.idle) {}

    asio::awaitable<bool> run();

  private:
    AttemptPlan plan();
    asio::awaitable<Outcome> walk(AttemptPlan& plan);
    asio::awaitable<Outcome> attempt(const Endpoint& ep, bool fresh);
    asio::awaitable<Outcome> on_openai_head(const Endpoint& ep, Lease& lease, ResponseParser& p);
    asio::awaitable<Outcome> openai_error(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                          std::string body);
    asio::awaitable<Outcome> openai_stream(const Endpoint& ep, Lease& lease, ResponseParser& p);
    /// A response QCC writes itself for this attempt (a translated answer, a local count): the
    /// attempt is committed.
    asio::awaitable<Outcome> answer(const Endpoint& ep, int status, std::string_view body);
    asio::awaitable<Outcome> after_relay(const Endpoint& ep, const RelayResult& r, bool sse,
                                         bool stream_completed, int status);
    bool admit(const Endpoint& ep);
    asio::awaitable<boost::system::error_code> send(const Endpoint& ep, Lease& lease);
    asio::awaitable<boost::system::error_code> send_translated(const Endpoint& ep, Lease& lease);
    /// Kind openai: the request translated for `ep` into translated_; false when there is nothing
    /// to send (the outcome is in *out).
    asio::awaitable<bool> translate_for(const Endpoint& ep, Outcome* out);
    asio::awaitable<Outcome> on_head(const Endpoint& ep, Lease& lease, ResponseParser& p);
    asio::awaitable<Outcome> pre_commit_sse(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                            std::string& pending, anthropic::StreamTap& tap);
    asio::awaitable<Outcome> on_error_status(const Endpoint& ep, Lease& lease, ResponseParser& p);
    asio::awaitable<Outcome> commit(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                    std::string_view pending, anthropic::StreamTap& tap, bool sse);
    Outcome fail(const Endpoint& ep, const Verdict& v, int status,
                 std::chrono::milliseconds cooldown = {});
    void apply(const Endpoint& ep, const Verdict& v, std::chrono::milliseconds cooldown);
    void note_soft_limit(const Endpoint& ep, const http::response_header<>& h);
    void record_success(const Endpoint& ep);
    asio::awaitable<bool> write_exhausted();
    /// What QCC answers itself when no attempt produced an upstream response to return.
    Unserved no_answer() const;
    bool only_local_failures() const {
        for (const auto& a : ctx_.attempts) {
            if (!a.error_class.starts_with("local_")) return false;
        }
        return true;
    }
    RelayJob relay_job(const Endpoint& ep, Lease& lease, ResponseParser& p,
                       std::string_view pending, anthropic::StreamTap& tap, bool sse) const {
        const int status = p.get().result_int();
        return RelayJob{ep,
                        lease,
                        p,
                        pending,
                        tap,
                        sse,
                        req_.method() == http::verb::head,
                        !sse && status < 300 && view_ != nullptr,
                        static_cast<int>(ctx_.attempts.size())};
    }
    Attempt& current() { return ctx_.attempts.back(); }

    Worker& w_;
    HealthState& health_;
    ClientRequest& req_;
    const anthropic::RequestView* view_;
    RequestContext& ctx_;
    bool keep_alive_;
    std::shared_ptr<const Policy> policy_;
    std::shared_ptr<ClientWatch> watch_;
    ClientWriter out_;
    std::string forwarded_headers_;  // client headers as forwarded (built once)
    std::optional<SavedResponse> last_;
    std::string last_endpoint_;
    Verdict last_verdict_;
    Clock::time_point attempt_start_;
    upstream::BreakerPermit permit_;  // the current attempt's breaker admission
    bool fail_open_ = false;
    std::shared_ptr<const upstream::EndpointSet> set_;  // the set the plan's pointers point into
    std::string bound_id_;  // the endpoint the session was bound to when planned ("" = none)
    upstream::Selection why_none_;  // the selection's verdict, without its candidates
    bool reused_ = false;           // the current attempt's connection came from the idle pool
    Clock::time_point head_at_;
    std::string translated_;       // the current OpenAI attempt's Chat Completions body
    bool untranslatable_ = false;  // an OpenAI endpoint was skipped: the route has no translation
};

// ---- endpoint effects -------------------------------------------------------------------------

void Exchange::note_soft_limit(const Endpoint& ep, const http::response_header<>& h) {
    // A soft warning lowers the endpoint's weight for a while without excluding it.
    if (h["anthropic-ratelimit-unified-status"] != "allowed_warning") return;
    const auto until = (health_.now() + policy_->soft_limit_hold).time_since_epoch().count();
    ep.state->soft_limited_until_ns.store(until, std::memory_order_relaxed);
}

void Exchange::apply(const Endpoint& ep, const Verdict& v, std::chrono::milliseconds cooldown) {
    auto& s = *ep.state;
    const auto now = health_.now();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - attempt_start_);
    auto report = [&](std::optional<upstream::BreakerTransition> t) {
        if (t) health_.report(ep, *t);
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
            health_.cool_down(ep, policy_->overload_cooldown, "overloaded");
            return;
        case EndpointEffect::kRateLimited:
            s.breaker.release(now, &permit_);
            health_.cool_down(ep, cooldown.count() > 0 ? cooldown : policy_->rate_limit_cooldown,
                              "rate_limited");
            return;
        case EndpointEffect::kQuarantine:
            s.breaker.release(now, &permit_);
            health_.quarantine(ep, std::string(v.error_class));
            return;
    }
}

Outcome Exchange::fail(const Endpoint& ep, const Verdict& v, int status,
                       std::chrono::milliseconds cooldown) {
    apply(ep, v, cooldown);
    if (!v.error_class.starts_with("local_")) {
        // Kept for the status API and the dashboard (QCC's own limits are not the endpoint's).
        ep.state->set_last_error(status > 0
                                     ? std::to_string(status) + " " + std::string(v.error_class)
                                     : std::string(v.error_class),
                                 health_.unix_ms());
    }
    auto& a = current();
    a.status = status;
    a.error_class = std::string(v.error_class);
    a.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - attempt_start_);
    last_verdict_ = v;
    return v.request == RequestEffect::kRetryFresh ? Outcome::kRetryFresh : Outcome::kFailed;
}

void Exchange::record_success(const Endpoint& ep) {
    const auto end = Clock::now();
    const auto ms = [&](Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t - attempt_start_);
    };
    ep.state->stats.record(
        upstream::AttemptSample{true, ms(head_at_), ms(end),
                                ctx_.usage.input_tokens + ctx_.usage.output_tokens},
        health_.now());
}

// ---- one attempt ------------------------------------------------------------------------------

bool Exchange::admit(const Endpoint& ep) {
    // A half-open endpoint admits exactly one trial at a time.
    const auto now = health_.now();
    std::optional<upstream::BreakerTransition> t;
    permit_ = {};
    const bool admitted = fail_open_ ? ep.state->breaker.try_acquire_fail_open(now, &t, &permit_)
                                     : ep.state->breaker.try_acquire(now, &t, &permit_);
    if (t) health_.report(ep, *t);
    return admitted;
}

asio::awaitable<boost::system::error_code> Exchange::send(const Endpoint& ep, Lease& lease) {
    // Body: forwarded as received, or with only the model token spliced.
    std::string spliced;
    std::string_view body = req_.body();
    if (ep.is_openai()) co_return co_await send_translated(ep, lease);
    ctx_.model_sent = ctx_.model_requested;
    const std::string* mapped = view_ != nullptr && view_->model_length > 0
                                    ? config::mapped_model(ep.cfg, view_->model)
                                    : nullptr;
    if (view_ != nullptr && set_->has_openai && openai::has_unsigned_thinking(body)) {
        // The conversation went through an OpenAI-compatible target whose reasoning came back as
        // unsigned thinking blocks: an Anthropic endpoint would reject them (rare path: rewritten).
        if (auto rewritten = openai::strip_unsigned_thinking(body, mapped)) {
            spliced = std::move(*rewritten);
            body = spliced;
            if (mapped != nullptr) ctx_.model_sent = *mapped;
            mapped = nullptr;
        }
    }
    if (mapped != nullptr) {
        spliced = anthropic::splice_model(body, *view_, *mapped);
        body = spliced;
        ctx_.model_sent = *mapped;
    }
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
    if (!body.empty() || method == http::verb::post || method == http::verb::put ||
        method == http::verb::patch) {
        head += "content-length: " + std::to_string(body.size()) + "\r\n";
    }
    head += "\r\n";
    // One deadline for the request's write and the response head's read (the first byte).
    lease->tcp().expires_after(ep.first_byte_timeout);
    const std::array<asio::const_buffer, 4> out{asio::buffer(head), asio::buffer(body)};
    auto [ec, n] = co_await write_request(*lease, out, ep.first_byte_timeout);
    co_return ec;
}

asio::awaitable<boost::system::error_code> Exchange::send_translated(const Endpoint& ep,
                                                                     Lease& lease) {
    // Only what a Chat Completions server needs: no anthropic-* or client headers leak to it.
    std::string head;
    head.reserve(512);
    head += "POST ";
    head += ep.path_prefix;
    head += "/chat/completions HTTP/1.1\r\nhost: ";
    head += ep.host_header;
    head += "\r\ncontent-type: application/json\r\naccept: ";
    head += ctx_.stream ? "text/event-stream" : "application/json";
    head += "\r\naccept-encoding: identity\r\n";
    upstream::append_credentials(head, ep);
    head += "content-length: " + std::to_string(translated_.size()) + "\r\n\r\n";
    // One deadline for the request's write and the response head's read (the first byte).
    lease->tcp().expires_after(ep.first_byte_timeout);
    const std::array<asio::const_buffer, 4> out{asio::buffer(head), asio::buffer(translated_)};
    auto [ec, n] = co_await write_request(*lease, out, ep.first_byte_timeout);
    co_return ec;
}

asio::awaitable<bool> Exchange::translate_for(const Endpoint& ep, Outcome* out) {
    const auto route = openai_route(req_);
    if (route == OpenAiRoute::kOther) {
        // Only the Messages routes have a translation: another endpoint may serve this one.
        untranslatable_ = true;
        *out = Outcome::kSkipped;
        co_return false;
    }
    ctx_.attempts.push_back(Attempt{ep.cfg.name, 0, {}, {}, {}});
    ctx_.attempts.back().start =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ctx_.start);
    if (route == OpenAiRoute::kCountTokens) {
        // A Chat Completions server has no counting route: a local estimate answers at once.
        const std::string estimate = count_tokens_estimate(req_.body());
        *out = co_await answer(ep, 200, estimate);
        co_return false;
    }
    const auto* target = config::mapped_model(ep.cfg, ctx_.model_requested);
    ctx_.model_sent = target != nullptr ? *target : ctx_.model_requested;
    std::string error;
    auto t = openai::translate_request(req_.body(), ctx_.model_sent, ep.openai, &error);
    if (!t) {
        ctx_.error_class = "invalid_request";
        const std::string body = anthropic::error_body("invalid_request_error", error);
        *out = co_await answer(ep, 400, body);
        co_return false;
    }
    translated_ = std::move(t->body);
    ctx_.attempts.pop_back();  // attempt() records the real one
    co_return true;
}

asio::awaitable<Outcome> Exchange::attempt(const Endpoint& ep, bool fresh) {
    if (ep.is_openai()) {
        Outcome o = Outcome::kSkipped;
        const bool go_on = co_await translate_for(ep, &o);
        if (!go_on) co_return o;
    }
    if (!admit(ep)) co_return Outcome::kSkipped;
    attempt_start_ = Clock::now();
    ctx_.attempts.push_back(Attempt{ep.cfg.name, 0, {}, {}, {}});
    ctx_.attempts.back().start =
        std::chrono::duration_cast<std::chrono::milliseconds>(attempt_start_ - ctx_.start);
    last_endpoint_ = ep.cfg.name;
    ep.state->attempts.fetch_add(1, std::memory_order_relaxed);

    auto leased = co_await w_.pool().lease(ep, fresh);
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (!leased) co_return fail(ep, classify_transport(leased.error().kind, false), 0);
    Lease lease = std::move(leased.value());
    reused_ = lease.reused();
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

    const auto wec = co_await send(ep, lease);
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (wec) {
        const auto kind = wec == beast::error::timeout ? ErrorKind::kFirstByteTimeout
                                                       : ErrorKind::kConnectionReset;
        co_return fail(ep, classify_transport(kind, reused_), 0);
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
        co_return fail(ep, classify_transport(kind, reused_ && hn == 0), 0);
    }
    co_return co_await on_head(ep, lease, p);
}

asio::awaitable<Outcome> Exchange::on_head(const Endpoint& ep, Lease& lease, ResponseParser& p) {
    if (ep.is_openai()) co_return co_await on_openai_head(ep, lease, p);
    const int status = p.get().result_int();
    note_soft_limit(ep, p.get());
    if (status < 200 || status >= 300) co_return co_await on_error_status(ep, lease, p);
    const bool sse = p.get()[http::field::content_type].starts_with("text/event-stream");
    anthropic::StreamTap tap;
    std::string pending;
    if (sse) {
        const auto outcome = co_await pre_commit_sse(ep, lease, p, pending, tap);
        if (outcome != Outcome::kCommitted) co_return outcome;
    }
    apply(ep, classify_response(status, ""), {});
    health_.bind_session(ctx_.session_key, ep, bound_id_);
    co_return co_await commit(ep, lease, p, pending, tap, sse);
}

asio::awaitable<Outcome> Exchange::pre_commit_sse(const Endpoint& ep, Lease& lease,
                                                  ResponseParser& p, std::string& pending,
                                                  anthropic::StreamTap& tap) {
    // Hold the stream back until its first content event (a delta, or the message's end): until
    // then the client has received nothing it needs, so a failure — an `event: error` (e.g.
    // overloaded after a 200), a reset, a stall — is a failed attempt that may still move to
    // another endpoint, and an endpoint that cuts streams right after message_start costs the
    // client nothing. Bounded by the stream.hold_for_content setting (then committed as is; off =
    // commit at the first event). The first token reaches the client no later: it is what ends
    // the hold.
    const auto buf = w_.relay_buffers().acquire();
    const auto hold = policy_->hold_for_content;
    const auto hold_until = Clock::now() + hold;
    const auto holding = [&] {
        if (pending.size() >= kMaxPreCommitBytes) return false;
        if (hold.count() <= 0) return !tap.first_event_seen();
        return !tap.content_seen() && !tap.error_seen() && Clock::now() < hold_until;
    };
    // (The hold's end is checked as pieces arrive: a socket timeout would close the upstream
    // connection. Silence longer than the idle timeout fails the attempt, here still before the
    // commit point.)
    while (!p.is_done() && holding()) {
        const auto [ec, got] = co_await read_body_piece(lease, p, buf.data(), ep.idle_timeout);
        if (got > 0) {
            pending.append(buf.data(), got);
            tap.feed(std::string_view(buf.data(), got));
        }
        if (watch_->client_gone) co_return Outcome::kClientGone;
        if (ec) {
            const auto kind =
                ec == beast::error::timeout ? ErrorKind::kIdleTimeout : ErrorKind::kConnectionReset;
            co_return fail(ep, classify_transport(kind, false), 200);
        }
    }
    if (tap.first_event_is_error() || (hold.count() > 0 && tap.error_before_content())) {
        const auto& type = tap.error_type();
        const int as_status = status_for_sse_error(type);
        last_ = SavedResponse{
            as_status, "content-type: application/json\r\n",
            anthropic::error_body(type.empty() ? "api_error" : type,
                                  "upstream " + ep.cfg.name + " opened the stream with an error")};
        co_return fail(ep, classify_response(as_status, type), 200);
    }
    co_return Outcome::kCommitted;
}

asio::awaitable<Outcome> Exchange::on_error_status(const Endpoint& ep, Lease& lease,
                                                   ResponseParser& p) {
    // Not 2xx: read the (small) error body whole, then classify by status and error.type.
    const int status = p.get().result_int();
    std::string err_body;
    {
        // Borrowed from the worker, not on the coroutine frame: frames of held streams stay small.
        const auto buf = w_.relay_buffers().acquire();
        co_await read_rest(lease, p, buf.data(), err_body, kMaxErrorBodyBytes, ep.idle_timeout,
                           *watch_);
    }
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (status == 404 && is_count_tokens(req_)) {
        // Many relays have no counting route: Claude Code gets the local estimate, not an error
        // it cannot handle; the endpoint did nothing wrong.
        apply(ep, Verdict{}, {});
        if (p.is_done() && p.keep_alive()) {
            lease->requests++;
            w_.pool().release(std::move(lease));
        }
        const std::string estimate = count_tokens_estimate(req_.body());
        co_return co_await answer(ep, 200, estimate);
    }
    const Verdict v = classify_response(status, anthropic::parse_error_type(err_body));
    if (v.request == RequestEffect::kCommit) {
        // The client's own error (400, 404, 413, 422...): returned as is, endpoint untouched.
        anthropic::StreamTap tap;
        co_return co_await commit(ep, lease, p, err_body, tap, false);
    }
    std::chrono::milliseconds cooldown{};
    if (v.endpoint == EndpointEffect::kRateLimited) {
        const auto& h = p.get();
        cooldown = rate_limit_cooldown(
            h["retry-after"],
            {h["anthropic-ratelimit-requests-reset"], h["anthropic-ratelimit-tokens-reset"],
             h["anthropic-ratelimit-input-tokens-reset"],
             h["anthropic-ratelimit-output-tokens-reset"]},
            health_.unix_ms(), policy_->rate_limit_cooldown);
    }
    last_ = SavedResponse{status, filtered_response_headers(p.get()), std::move(err_body)};
    if (p.is_done() && p.keep_alive()) {
        lease->requests++;
        w_.pool().release(std::move(lease));
    }
    co_return fail(ep, v, status, cooldown);
}

asio::awaitable<Outcome> Exchange::commit(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                          std::string_view pending, anthropic::StreamTap& tap,
                                          bool sse) {
    current().status = p.get().result_int();
    // Committed: no other attempt will need the request, so a long stream does not hold a
    // 100 KB Claude Code body (or the forwarded headers) for its whole life.
    std::string().swap(req_.body());
    std::string().swap(forwarded_headers_);
    const int status = p.get().result_int();
    // (Built by a plain function: GCC 12 mis-compiles brace-initialized aggregates holding
    // references inside coroutines.)
    const RelayJob job = relay_job(ep, lease, p, pending, tap, sse);
    const auto r =
        co_await relay(job, out_, ctx_, w_.relay_buffers(), w_.pool(), *watch_, keep_alive_);
    co_return co_await after_relay(ep, r, sse, sse && tap.message_stop_seen(), status);
}

asio::awaitable<Outcome> Exchange::after_relay(const Endpoint& ep, const RelayResult& r, bool sse,
                                               bool stream_completed, int status) {
    keep_alive_ = r.keep_alive;
    if (r.client_gone) {
        ctx_.error_class = "client_cancelled";
        co_return Outcome::kClientGone;
    }
    if (r.upstream_failed) {
        // After the commit point: never retried, counted against the endpoint; a cut stream
        // also demotes it for longer (upstream::StreamCuts).
        apply(ep, Verdict{EndpointEffect::kFailure, RequestEffect::kCommit, "mid_stream"}, {});
        if (sse) {
            const auto hold = upstream::StreamCuts::on_cut(*ep.state, health_.now());
            health_.emit(ep.cfg.name, "stream_cut",
                         "cut a stream after the commit point: tried after every other endpoint "
                         "for " +
                             std::to_string(hold.count() / 1000) +
                             " s, then until it completes one");
        }
        health_.counters().mid_stream_failures.fetch_add(1, std::memory_order_relaxed);
        ctx_.error_class = "mid_stream_failure";
        current().error_class = "mid_stream_failure";
        spdlog::warn("request {}: endpoint {}: {}", ctx_.id, ep.cfg.name, r.failure);
        if (r.chunked) {
            const bool ended = co_await end_cut_response(out_, r, sse);
            if (!ended) co_return Outcome::kClientGone;
        }
        co_return Outcome::kCommitted;
    }
    if (status >= 400 && ctx_.error_class.empty()) ctx_.error_class = "client_error";
    if (status < 300) record_success(ep);
    if (stream_completed && upstream::StreamCuts::on_completed_stream(*ep.state)) {
        health_.emit(ep.cfg.name, "streams_recovered", "completed a stream after cutting streams");
    }
    co_return Outcome::kCommitted;
}

asio::awaitable<Outcome> Exchange::answer(const Endpoint& ep, int status, std::string_view body) {
    current().status = status;
    ctx_.status = status;
    ctx_.endpoint = ep.cfg.name;
    std::string().swap(forwarded_headers_);
    const auto head = hdr::ResponseHead(status)
                          .field("content-type", "application/json")
                          .field("x-qcc-endpoint", ep.cfg.name)
                          .field("x-qcc-attempts", std::to_string(ctx_.attempts.size()))
                          .content_length(body.size())
                          .close(!keep_alive_)
                          .take();
    const bool ok = co_await out_.write(head, body, false);
    if (!ok) co_return Outcome::kClientGone;
    ctx_.ttfb_ms = ms_since(ctx_.start);
    co_return Outcome::kCommitted;
}

// ---- OpenAI-compatible endpoints --------------------------------------------------------------

asio::awaitable<Outcome> Exchange::on_openai_head(const Endpoint& ep, Lease& lease,
                                                  ResponseParser& p) {
    // The same decisions as for an Anthropic answer (classification, failover, the commit point),
    // on the translated response: the client only ever sees Anthropic Messages.
    const int status = p.get().result_int();
    const bool sse = p.get()[http::field::content_type].starts_with("text/event-stream");
    if (status >= 200 && status < 300 && sse && ctx_.stream) {
        co_return co_await openai_stream(ep, lease, p);
    }
    std::string body;
    boost::system::error_code ec;
    {
        const auto buf = w_.relay_buffers().acquire();
        ec = co_await read_rest(lease, p, buf.data(), body, kMaxTranslatedBody, ep.idle_timeout,
                                *watch_);
    }
    if (watch_->client_gone) co_return Outcome::kClientGone;
    if (status < 200 || status >= 300)
        co_return co_await openai_error(ep, lease, p, std::move(body));
    if (ec || !p.is_done()) {
        const auto kind = ec == beast::error::timeout ? ErrorKind::kIdleTimeout
                          : ec                        ? ErrorKind::kConnectionReset
                                                      : ErrorKind::kMalformedResponse;
        co_return fail(ep, classify_transport(kind, false), status);
    }
    anthropic::Usage usage;
    std::string type = "api_error", message = "answered with a stream to a request without stream";
    std::optional<std::string> translated;
    if (!sse) {
        translated =
            openai::translate_response(body, ctx_.model_requested, &usage, &type, &message);
    }
    if (translated && ctx_.stream) {
        // A whole JSON answer to a streaming request: not what the client can read.
        translated.reset();
        message = "answered without a stream to a streaming request";
    }
    if (!translated) {
        // A 200 that carries an error (or no completion) is a failed attempt, as its status says.
        const int as_status = status_for_sse_error(type);
        last_ =
            SavedResponse{as_status, "content-type: application/json\r\n",
                          anthropic::error_body(type, "upstream " + ep.cfg.name + ": " + message)};
        co_return fail(ep, classify_response(as_status, type), status);
    }
    if (p.keep_alive()) {
        lease->requests++;
        w_.pool().release(std::move(lease));
    }
    apply(ep, classify_response(status, ""), {});
    health_.bind_session(ctx_.session_key, ep, bound_id_);
    ctx_.usage = std::move(usage);
    const auto o = co_await answer(ep, status, *translated);
    if (o == Outcome::kCommitted) record_success(ep);
    co_return o;
}

asio::awaitable<Outcome> Exchange::openai_error(const Endpoint& ep, Lease& lease, ResponseParser& p,
                                                std::string body) {
    const int status = p.get().result_int();
    std::string anthropic_body = openai::anthropic_error_from_openai(status, body);
    const Verdict v = classify_response(status, anthropic::parse_error_type(anthropic_body));
    const bool reusable = p.is_done() && p.keep_alive();
    std::chrono::milliseconds cooldown{};
    std::string headers = "content-type: application/json\r\n";
    if (v.endpoint == EndpointEffect::kRateLimited) {
        const auto& h = p.get();
        cooldown = openai_rate_limit_cooldown(
            h["retry-after"], h["x-ratelimit-reset-requests"], h["x-ratelimit-remaining-requests"],
            h["x-ratelimit-reset-tokens"], h["x-ratelimit-remaining-tokens"],
            policy_->rate_limit_cooldown);
        headers += "retry-after: " + std::to_string((cooldown.count() + 999) / 1000) + "\r\n";
    }
    if (reusable) {
        lease->requests++;
        w_.pool().release(std::move(lease));
    }
    if (v.request == RequestEffect::kCommit) {
        // The client's own error (400, 404, 422...): returned, translated; endpoint untouched.
        apply(ep, v, {});
        if (ctx_.error_class.empty()) ctx_.error_class = "client_error";
        co_return co_await answer(ep, status, anthropic_body);
    }
    last_ = SavedResponse{status, std::move(headers), std::move(anthropic_body)};
    co_return fail(ep, v, status, cooldown);
}

asio::awaitable<Outcome> Exchange::openai_stream(const Endpoint& ep, Lease& lease,
                                                 ResponseParser& p) {
    // Held back until the first translated content, as for Anthropic streams (pre_commit_sse): an
    // error object or a cut before it is a failed attempt that may still fail over.
    openai::StreamTranslator tr(ctx_.model_requested);
    std::string pending;
    {
        const auto buf = w_.relay_buffers().acquire();
        const auto hold = policy_->hold_for_content;
        const auto hold_until = Clock::now() + hold;
        const auto holding = [&] {
            if (tr.error_seen() || pending.size() >= kMaxPreCommitBytes) return false;
            if (hold.count() <= 0) return pending.empty();
            return !tr.content_started() && Clock::now() < hold_until;
        };
        while (!p.is_done() && holding()) {
            const auto [ec, got] = co_await read_body_piece(lease, p, buf.data(), ep.idle_timeout);
            if (got > 0) tr.feed(std::string_view(buf.data(), got), pending);
            if (watch_->client_gone) co_return Outcome::kClientGone;
            if (ec) {
                const auto kind = ec == beast::error::timeout ? ErrorKind::kIdleTimeout
                                                              : ErrorKind::kConnectionReset;
                co_return fail(ep, classify_transport(kind, false), 200);
            }
        }
    }
    if (tr.error_seen() || (p.is_done() && !tr.content_started())) {
        // Nothing useful reached the client: a failed attempt, as the error's type says (a stream
        // that ended before any content counts as a server error).
        std::string tail;
        const bool ended = !tr.error_seen() && tr.finish(tail);
        pending += tail;
        if (!ended) {
            const std::string type = tr.error_seen() ? tr.error_type() : "api_error";
            const std::string why = tr.error_seen()
                                        ? tr.error_message()
                                        : std::string("the stream ended before any content");
            const int as_status = status_for_sse_error(type);
            last_ =
                SavedResponse{as_status, "content-type: application/json\r\n",
                              anthropic::error_body(type, "upstream " + ep.cfg.name + ": " + why)};
            co_return fail(ep, classify_response(as_status, type), 200);
        }
    }
    apply(ep, classify_response(200, ""), {});
    health_.bind_session(ctx_.session_key, ep, bound_id_);
    current().status = 200;
    std::string().swap(req_.body());
    std::string().swap(forwarded_headers_);
    std::string().swap(translated_);
    bool completed = false;
    // (Built by a plain function: GCC 12 mis-compiles brace-initialized aggregates holding
    // references inside coroutines.)
    const TranslatedStreamJob job =
        translated_job(ep, lease, p, tr, pending, static_cast<int>(ctx_.attempts.size()));
    const auto r = co_await relay_translated_stream(job, out_, ctx_, w_.relay_buffers(), w_.pool(),
                                                    *watch_, keep_alive_, &completed);
    co_return co_await after_relay(ep, r, true, completed, 200);
}

// ---- the loop ---------------------------------------------------------------------------------

AttemptPlan Exchange::plan() {
    const auto set = w_.env().snapshots.endpoints();
    const Endpoint* bound = nullptr;
    if (!ctx_.session_key.empty()) {
        if (auto id = health_.affinity().lookup(ctx_.session_key, health_.unix_ms())) {
            bound = set->find_by_id(*id);
        }
    }
    bound_id_ = bound != nullptr ? bound->id : std::string();
    upstream::SelectionRequest request{set.get(),
                                       health_.now(),
                                       policy_->strategy,
                                       policy_->soft_limit_factor,
                                       ctx_.session_key,
                                       bound,
                                       static_cast<std::size_t>(policy_->max_attempts),
                                       ctx_.model_requested,
                                       ctx_.stream,
                                       {},
                                       {}};
    if (ctx_.key) {
        request.tiers = ctx_.key->limits.tiers;
        request.endpoints = ctx_.key->limits.endpoints;
    }
    auto selection = w_.selector().select(request);
    fail_open_ = selection.fail_open;
    set_ = set;
    why_none_.blocked = selection.blocked;
    why_none_.recovers_first = selection.recovers_first;
    why_none_.recovers_at = selection.recovers_at;
    if (fail_open_ && !selection.candidates.empty()) {
        health_.counters().fail_open.fetch_add(1, std::memory_order_relaxed);
    }
    return AttemptPlan(std::move(selection.candidates),
                       AttemptLimits{policy_->max_attempts, policy_->max_attempts_per_endpoint});
}

asio::awaitable<Outcome> Exchange::walk(AttemptPlan& plan) {
    static thread_local std::minstd_rand rng{std::random_device{}()};
    const auto budget = health_.retry_budget();
    budget->on_request(health_.now());
    const auto deadline = Clock::now() + 2 * w_.env().config.timeouts.first_byte;
    Outcome outcome = Outcome::kFailed;
    const Endpoint* previous = nullptr;
    while (auto step =
               plan.next(Clock::now() >= deadline, std::chrono::milliseconds(100 + rng() % 401))) {
        if (!fail_open_ && !step->endpoint->state->breaker.would_allow(health_.now())) {
            plan.record(AttemptResult::kSkipped);
            continue;
        }
        // Every attempt after the first spends from the process-wide retry budget, so an outage
        // of every endpoint does not multiply the load. The budget protects upstreams from retry
        // storms, not users from failover: moving on to a different endpoint that is healthy
        // right now is always allowed.
        if (plan.attempts() > 0) {
            const bool to_healthy = !step->in_place && step->endpoint != previous &&
                                    upstream::is_healthy(*step->endpoint, health_.now());
            if (!to_healthy && !budget->try_spend_retry(health_.now())) {
                health_.counters().retries_denied.fetch_add(1, std::memory_order_relaxed);
                break;
            }
        }
        if (step->backoff.count() > 0) {
            asio::steady_timer timer(out_.stream().get_executor());
            timer.expires_after(step->backoff);
            co_await timer.async_wait(kUseTuple);
            if (watch_->client_gone) co_return Outcome::kClientGone;
        }
        if (previous != nullptr && previous != step->endpoint) {
            health_.counters().failovers.fetch_add(1, std::memory_order_relaxed);
        }
        const auto o = co_await attempt(*step->endpoint, step->fresh);
        plan.record(plan_result(o, last_verdict_));
        if (o == Outcome::kSkipped) continue;
        previous = step->endpoint;
        outcome = o == Outcome::kRetryFresh ? Outcome::kFailed : o;
        if (outcome != Outcome::kFailed) break;
    }
    co_return outcome;
}

Unserved Exchange::no_answer() const {
    std::string tried;
    for (const auto& a : ctx_.attempts) {
        if (!tried.empty()) tried += ", ";
        tried += a.endpoint + " (" + (a.error_class.empty() ? "failed" : a.error_class) + ")";
    }
    if (ctx_.attempts.empty() && untranslatable_ && why_none_.blocked == upstream::Blocked::kNone) {
        return Unserved{404, "not_found_error", "untranslatable_route",
                        "this route has no translation for OpenAI-compatible endpoints (they serve "
                        "POST /v1/messages and /v1/messages/count_tokens) and no Anthropic "
                        "endpoint is available for it",
                        ""};
    }
    if (ctx_.attempts.empty()) {
        // Not one attempt was made: say why, in the way that makes the client do the right thing
        // (stop and show the fix, or wait exactly as long as needed).
        return unserved(*set_, why_none_, ctx_.model_requested, health_.now(), health_.unix_ms(),
                        ctx_.key.get());
    }
    if (only_local_failures()) {
        // Every attempt met one of QCC's own limits: QCC is overloaded, no endpoint failed.
        return Unserved{529, "overloaded_error", "local_overload",
                        "QCC is overloaded (its own limits, not an endpoint's failure): " + tried,
                        ""};
    }
    if (fail_open_) {
        // Every breaker was open and the trials got no answer: the endpoints are down. Like a
        // cooldown, the client is told when the first one is tried again.
        return all_failing(*set_, tried, health_.now(), health_.unix_ms());
    }
    return Unserved{502, "api_error", "all_endpoints_failed",
                    "all upstream endpoints failed: " + tried, ""};
}

asio::awaitable<bool> Exchange::write_exhausted() {
    ctx_.endpoint.clear();
    if (!last_) {
        // No upstream answer to return: QCC answers itself (proxy/unserved.hpp).
        const Unserved u = no_answer();
        ctx_.status = u.status;
        ctx_.error_class = u.error_class;
        co_return co_await write_error(out_.stream(), u.status, u.type, u.message, keep_alive_,
                                       u.headers);
    }
    // Return the last real upstream response: Claude Code's own retries depend on its status.
    ctx_.status = last_->status;
    ctx_.error_class = std::string(last_verdict_.error_class);
    const auto head = hdr::ResponseHead(last_->status)
                          .fields(last_->headers)
                          .field("x-qcc-endpoint", last_endpoint_)
                          .field("x-qcc-attempts", std::to_string(ctx_.attempts.size()))
                          .content_length(last_->body.size())
                          .close(!keep_alive_)
                          .take();
    const bool ok = co_await out_.write(head, last_->body, false);
    if (ok) ctx_.ttfb_ms = ms_since(ctx_.start);
    co_return ok;
}

asio::awaitable<bool> Exchange::run() {
    forwarded_headers_ = forwarded_headers(req_);
    auto attempts = plan();
    // A disconnect cancels the upstream attempt at once.
    const ClientWatchScope client_watch(out_.stream(), watch_);
    const auto outcome = co_await walk(attempts);
    if (outcome == Outcome::kCommitted) co_return keep_alive_;
    if (outcome == Outcome::kClientGone) {
        ctx_.error_class = "client_cancelled";
        health_.counters().client_cancels.fetch_add(1, std::memory_order_relaxed);
        co_return false;
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
