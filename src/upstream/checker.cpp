#include "upstream/checker.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <unordered_set>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/log.hpp"
#include "protocol/anthropic/json_util.hpp"
#include "protocol/openai/translate_response.hpp"
#include "protocol/sse/parser.hpp"
#include "upstream/pool.hpp"

namespace qcc::upstream {

namespace {

namespace http = beast::http;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;
using Deadline = Steady::time_point;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kCodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::size_t kMaxErrorDetail = 200;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool icontains(std::string_view hay, std::string_view needle) {
    if (needle.empty() || needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t j = 0;
        while (j < needle.size() && ascii_lower(hay[i + j]) == ascii_lower(needle[j])) ++j;
        if (j == needle.size()) return true;
    }
    return false;
}

// Characters as a person counts them: UTF-8 code points (continuation bytes are not counted).
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

std::string_view string_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? sv(v->get_string()) : std::string_view{};
}

const json::object* object_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
}

std::int64_t count_field(const json::object* o, std::string_view key) {
    if (o == nullptr) return 0;
    const auto* v = o->if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return std::max<std::int64_t>(0, v->get_int64());
    if (v->is_uint64())
        return static_cast<std::int64_t>(std::min<std::uint64_t>(
            v->get_uint64(), static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
    return 0;
}

/// A reply as the check reads it: its text (valid only if `ok`) and the tokens it reports.
struct ParsedReply {
    bool ok = false;
    std::string text;
    std::int64_t input_tokens = 0, output_tokens = 0;
};

ParsedReply parse_json_reply(const json::object& msg) {
    ParsedReply r;
    if (string_field(msg, "type") == "error") return r;
    const auto* content = msg.if_contains("content");
    if (content == nullptr || !content->is_array()) return r;
    r.ok = true;
    for (const auto& b : content->get_array()) {
        const auto* block = b.if_object();
        if (block == nullptr || string_field(*block, "type") != "text") continue;
        r.text += string_field(*block, "text");
    }
    const auto* usage = object_field(msg, "usage");
    r.input_tokens = count_field(usage, "input_tokens");
    r.output_tokens = count_field(usage, "output_tokens");
    return r;
}

// A relay that streams although the check asked it not to: collect the text deltas.
ParsedReply parse_sse_reply(std::string_view body) {
    ParsedReply r;
    bool error = false;
    bool message = false;
    sse::Parser parser;
    auto on_event = [&](const sse::Event& e) {
        boost::system::error_code ec;
        json::value v = json::parse(e.data, ec);
        const auto* o = ec ? nullptr : v.if_object();
        if (o == nullptr) return;
        const auto type = string_field(*o, "type");
        if (e.name == "error" || type == "error") {
            error = true;
        } else if (type == "message_start") {
            message = true;
            if (const auto* m = object_field(*o, "message")) {
                const auto* usage = object_field(*m, "usage");
                r.input_tokens = count_field(usage, "input_tokens");
                r.output_tokens = count_field(usage, "output_tokens");
            }
        } else if (type == "content_block_start") {
            const auto* block = object_field(*o, "content_block");
            if (block != nullptr && string_field(*block, "type") == "text") {
                r.text += string_field(*block, "text");
            }
        } else if (type == "content_block_delta") {
            const auto* delta = object_field(*o, "delta");
            if (delta != nullptr && string_field(*delta, "type") == "text_delta") {
                r.text += string_field(*delta, "text");
            }
        } else if (type == "message_delta") {
            if (const auto* usage = object_field(*o, "usage");
                usage != nullptr && usage->contains("output_tokens")) {
                r.output_tokens = count_field(usage, "output_tokens");
            }
        }
    };
    parser.feed(body, on_event);
    parser.feed("\n\n", on_event);  // dispatch a last event missing its blank line
    r.ok = message && !error;
    return r;
}

ParsedReply parse_reply(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec) {
        const auto* o = v.if_object();
        return o != nullptr ? parse_json_reply(*o) : ParsedReply{};
    }
    return parse_sse_reply(body);
}

// "HTTP 401 authentication_error: invalid x-api-key", bounded, with the credential masked in
// case the upstream echoes it.
std::string http_failure(int status, std::string_view body, const Endpoint& ep) {
    std::string out = "HTTP " + std::to_string(status);
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* err = o != nullptr ? object_field(*o, "error") : nullptr;
    if (err != nullptr) {
        if (auto type = string_field(*err, "type"); !type.empty()) {
            out += ' ';
            out += type;
        }
        if (auto message = string_field(*err, "message"); !message.empty()) {
            out += ": ";
            out += message.substr(0, kMaxErrorDetail);
        }
    }
    const auto& key = ep.cfg.api_key;
    if (!key.empty()) {
        for (auto at = out.find(key); at != std::string::npos; at = out.find(key, at)) {
            out.replace(at, key.size(), "[redacted]");
        }
    }
    return out;
}

std::int64_t ms_since(Steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t).count();
}

std::string timeout_message(std::chrono::milliseconds timeout) {
    return "timed out after " + std::to_string(timeout.count()) + " ms";
}

/// A complete HTTP response, or why there is none.
struct Response {
    int status = 0;
    std::string body;
};
struct Failure {
    std::string result;  // "fail" | "timeout" | "error"
    std::string error;
};
using RoundTrip = std::variant<Response, Failure>;

Failure lease_failure(const ProxyError& e) {
    if (e.kind == ErrorKind::kConnectTimeout) return {"timeout", e.context};
    // The pool's own connection limit says nothing about the endpoint.
    if (e.source == ErrorSource::kInternal) return {"error", e.context};
    return {"fail", e.context};
}

/// A lease in progress, shared by the check and the coroutine doing the leasing.
struct PendingLease {
    explicit PendingLease(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;  // the check's deadline; cancelled when the lease is ready
    std::optional<Result<Lease>> result;
    bool abandoned = false;  // the check gave up: drop the lease when it arrives
};

asio::awaitable<void> lease_into(Pool& pool, Endpoint ep, bool fresh,
                                 std::shared_ptr<PendingLease> pending) {
    auto result = co_await pool.lease(ep, fresh);
    if (pending->abandoned) co_return;  // a connection opened too late is closed right here
    pending->result.emplace(std::move(result));
    pending->timer.cancel();
}

// Pool::lease bounded by `deadline` as a whole. The pool bounds connect and handshake one at a
// time and DNS resolution not at all; rather than wait on it, the check walks away at the deadline
// and the leasing coroutine closes whatever it gets later. (Everything runs on the pool's single
// io_context thread, so the two coroutines never race.)
asio::awaitable<Result<Lease>> lease_by(Pool& pool, const Endpoint& ep, bool fresh,
                                        Deadline deadline, std::chrono::milliseconds timeout) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
        co_return ProxyError{ErrorKind::kConnectTimeout, ErrorSource::kUpstream, true,
                             timeout_message(timeout)};
    }
    Endpoint bounded = ep;
    bounded.connect_timeout = std::min(ep.connect_timeout, left);  // so a late lease ends soon
    auto pending = std::make_shared<PendingLease>(co_await asio::this_coro::executor);
    pending->timer.expires_at(deadline);
    asio::co_spawn(pending->timer.get_executor(),
                   lease_into(pool, std::move(bounded), fresh, pending), asio::detached);
    // co_spawn starts the coroutine inline: an idle pooled connection may already be here, and
    // the timer's cancel() then had no wait to cancel.
    if (!pending->result) co_await pending->timer.async_wait(kUseTuple);
    if (!pending->result) {
        pending->abandoned = true;
        co_return ProxyError{ErrorKind::kConnectTimeout, ErrorSource::kUpstream, true,
                             timeout_message(timeout)};
    }
    co_return std::move(*pending->result);
}

// Sends `request` (head and body) and reads the whole response by `deadline`. A stale pooled
// connection (closed before any response byte) is retried once on a fresh one. The connection
// goes back to the pool only after a complete keep-alive response; on any failure it is closed.
asio::awaitable<RoundTrip> round_trip(Pool& pool, const Endpoint& ep, const std::string& request,
                                      Deadline deadline, std::chrono::milliseconds timeout) {
    for (bool fresh = false;; fresh = true) {
        auto leased = co_await lease_by(pool, ep, fresh, deadline, timeout);
        if (!leased) co_return lease_failure(leased.error());
        Lease lease = std::move(leased.value());
        const bool retry_allowed = lease.reused() && !fresh;

        lease->tcp().expires_at(deadline);
        auto [wec, wn] = co_await lease->visit(
            [&](auto& s) { return asio::async_write(s, asio::buffer(request), kUseTuple); });
        if (wec == beast::error::timeout) co_return Failure{"timeout", timeout_message(timeout)};
        if (wec) {
            if (retry_allowed) continue;
            co_return Failure{"fail", "sending the check failed: " + wec.message()};
        }

        http::response_parser<http::string_body> parser;
        parser.header_limit(64 * 1024);
        parser.body_limit(kMaxCheckBodyBytes);
        auto [rec, rn] = co_await lease->visit(
            [&](auto& s) { return http::async_read(s, lease->buffer(), parser, kUseTuple); });
        if (rec == beast::error::timeout) co_return Failure{"timeout", timeout_message(timeout)};
        if (rec) {
            if (retry_allowed && !parser.got_some()) continue;
            if (rec == http::error::body_limit) {
                co_return Failure{"fail", "response body larger than " +
                                              std::to_string(kMaxCheckBodyBytes) + " bytes"};
            }
            co_return Failure{"fail", (parser.is_header_done() ? "connection failed mid-response: "
                                                               : "no response: ") +
                                          rec.message()};
        }
        Response response{static_cast<int>(parser.get().result_int()),
                          std::move(parser.get().body())};
        if (parser.keep_alive()) {
            lease->tcp().expires_never();
            pool.release(std::move(lease));
        }
        co_return response;
    }
}

CheckResult failed(CheckResult r, const Failure& f) {
    r.result = f.result;
    r.error = f.error;
    return r;
}

int probe_score(bool pass, std::int64_t latency_ms) {
    return pass ? check_score(true, latency_ms, 0) : 0;
}

}  // namespace

// ---- Pure pieces ----------------------------------------------------------------------------

std::string make_check_code(std::mt19937_64& rng) {
    std::uniform_int_distribution<std::size_t> pick(0, kCodeAlphabet.size() - 1);
    std::string code(kCheckCodeLength, ' ');
    for (auto& c : code) c = kCodeAlphabet[pick(rng)];
    return code;
}

std::string check_request_body(std::string_view model, std::string_view code) {
    std::string body;
    body.reserve(256);
    body += R"({"model":")";
    anthropic::append_json_escaped(body, model);
    body += R"(","max_tokens":)";
    body += std::to_string(kCheckMaxTokens);
    body += R"(,"stream":false,"messages":[{"role":"user","content":")";
    body += "This is a connectivity check. Reply with only this code and nothing else: ";
    anthropic::append_json_escaped(body, code);
    body += R"("}]})";
    return body;
}

std::optional<std::string> reply_text(std::string_view body) {
    auto parsed = parse_reply(body);
    if (!parsed.ok) return std::nullopt;
    return std::move(parsed.text);
}

bool reply_contains_code(std::string_view response, std::string_view code) {
    if (code.empty()) return false;
    const auto text = reply_text(response);
    return text && icontains(*text, code);
}

int check_score(bool valid, std::int64_t latency_ms, std::size_t reply_chars) {
    int score = valid ? 50 : 0;
    if (latency_ms < 500) {
        score += 30;
    } else if (latency_ms < 1000) {
        score += 20;
    } else if (latency_ms < 2000) {
        score += 10;
    }
    if (reply_chars < 50) {
        score += 20;
    } else if (reply_chars < 100) {
        score += 15;
    } else {
        score += 10;
    }
    return score;
}

std::string check_request_head(const Endpoint& ep, std::string_view method, std::string_view path,
                               std::size_t body_size) {
    std::string head;
    head.reserve(512);
    head += method;
    head += ' ';
    head += ep.path_prefix;
    head += path;
    head += " HTTP/1.1\r\nhost: ";
    head += ep.host_header;
    head += "\r\naccept: application/json\r\n";
    if (body_size > 0) head += "content-type: application/json\r\n";
    head += "anthropic-version: ";
    head += kCheckAnthropicVersion;
    head += "\r\nuser-agent: ";
    head += kCheckUserAgent;
    head += "\r\nx-app: ";
    head += kCheckApp;
    head += "\r\naccept-encoding: identity\r\n";
    append_credentials(head, ep);
    if (body_size > 0 || method == "POST") {
        head += "content-length: ";
        head += std::to_string(body_size);
        head += "\r\n";
    }
    head += "\r\n";
    return head;
}

std::string_view to_string(CheckMethod method) {
    switch (method) {
        case CheckMethod::kConversation:
            return "conversation";
        case CheckMethod::kModels:
            return "models";
        case CheckMethod::kConnect:
            return "connect";
    }
    return "conversation";
}

std::optional<CheckMethod> parse_check_method(std::string_view text) {
    for (auto m : {CheckMethod::kConversation, CheckMethod::kModels, CheckMethod::kConnect}) {
        if (text == to_string(m)) return m;
    }
    return std::nullopt;
}

CheckMethod check_method_for(const Endpoint& ep, std::string_view fallback) {
    // Per endpoint: a tag "health:conversation|models|connect" overrides the setting (operators
    // who do not want to spend tokens on one relay).
    std::string_view method = fallback;
    for (const auto& tag : ep.cfg.tags) {
        if (tag.starts_with("health:")) method = std::string_view(tag).substr(7);
    }
    return parse_check_method(method).value_or(CheckMethod::kConversation);
}

// ---- Checks ---------------------------------------------------------------------------------

asio::awaitable<CheckResult> conversational_check(Pool& pool, const Endpoint& endpoint,
                                                  std::string model,
                                                  std::chrono::milliseconds timeout,
                                                  std::mt19937_64& rng) {
    CheckResult r;
    r.method = to_string(CheckMethod::kConversation);
    try {
        r.model = config::check_model_for(endpoint.cfg, model.empty()
                                                            ? std::string_view(kDefaultCheckModel)
                                                            : std::string_view(model));
        const std::string code = make_check_code(rng);
        const Endpoint ep = endpoint;  // the caller's may be gone after the first suspension
        const auto start = Steady::now();
        std::string body = check_request_body(r.model, code);
        std::string_view path = "/v1/messages";
        if (ep.is_openai()) {
            // The same check in Chat Completions form; the answer is translated back below.
            std::string error;
            auto translated = openai::translate_request(body, r.model, ep.openai, &error);
            if (!translated) throw std::runtime_error(error);
            body = std::move(translated->body);
            path = "/chat/completions";
        }
        const std::string request = check_request_head(ep, "POST", path, body.size()) + body;
        auto outcome = co_await round_trip(pool, ep, request, start + timeout, timeout);
        r.latency_ms = ms_since(start);
        if (const auto* f = std::get_if<Failure>(&outcome)) co_return failed(std::move(r), *f);
        auto& response = std::get<Response>(outcome);
        if (ep.is_openai()) {
            const bool ok = response.status >= 200 && response.status < 300;
            std::string type, message;
            auto translated =
                ok ? openai::translate_response(response.body, r.model, nullptr, &type, &message)
                   : std::nullopt;
            response.body =
                translated ? std::move(*translated)
                           : openai::anthropic_error_from_openai(response.status, response.body);
            if (ok && !translated) response.status = 502;  // a 200 carrying an error
        }
        if (response.status < 200 || response.status >= 300) {
            r.result = "fail";
            r.error = http_failure(response.status, response.body, ep);
            co_return r;
        }
        const auto reply = parse_reply(response.body);
        r.input_tokens = reply.input_tokens;
        r.output_tokens = reply.output_tokens;
        r.valid = reply.ok && icontains(reply.text, code);
        r.score = check_score(r.valid, r.latency_ms, reply.ok ? utf8_length(reply.text) : 0);
        r.result = r.valid ? "pass" : "fail";
        if (!r.valid) {
            r.error = response.body.empty()
                          ? "HTTP " + std::to_string(response.status) + " with an empty body"
                      : !reply.ok ? "HTTP " + std::to_string(response.status) +
                                        " body is not a Messages response"
                      : reply.text.empty() ? "the reply has no text"
                                           : "the reply does not contain the code";
        }
    } catch (const std::exception& e) {
        r.result = "error";
        r.error = std::string("check failed: ") + e.what();
    }
    co_return r;
}

asio::awaitable<CheckResult> models_probe(Pool& pool, const Endpoint& endpoint,
                                          std::chrono::milliseconds timeout) {
    CheckResult r;
    r.method = to_string(CheckMethod::kModels);
    try {
        const Endpoint ep = endpoint;
        const auto start = Steady::now();
        // OpenAI-compatible servers list models under their own base path ("/v1/models" there
        // too when the base URL has no path).
        const std::string request =
            check_request_head(ep, "GET", ep.is_openai() ? "/models" : "/v1/models", 0);
        auto outcome = co_await round_trip(pool, ep, request, start + timeout, timeout);
        r.latency_ms = ms_since(start);
        if (const auto* f = std::get_if<Failure>(&outcome)) co_return failed(std::move(r), *f);
        const auto& response = std::get<Response>(outcome);
        r.valid = response.status >= 200 && response.status < 300;
        r.result = r.valid ? "pass" : "fail";
        r.score = probe_score(r.valid, r.latency_ms);
        if (!r.valid) r.error = http_failure(response.status, response.body, ep);
    } catch (const std::exception& e) {
        r.result = "error";
        r.error = std::string("probe failed: ") + e.what();
    }
    co_return r;
}

asio::awaitable<CheckResult> connect_probe(Pool& pool, const Endpoint& endpoint,
                                           std::chrono::milliseconds timeout) {
    CheckResult r;
    r.method = to_string(CheckMethod::kConnect);
    try {
        // lease_by copies the endpoint before it first suspends; nothing here reads it later.
        const auto start = Steady::now();
        auto leased = co_await lease_by(pool, endpoint, /*fresh=*/true, start + timeout, timeout);
        r.latency_ms = ms_since(start);
        if (!leased) co_return failed(std::move(r), lease_failure(leased.error()));
        // Nothing was sent: the lease closes the connection when it goes out of scope.
        r.valid = true;
        r.result = "pass";
        r.score = probe_score(true, r.latency_ms);
    } catch (const std::exception& e) {
        r.result = "error";
        r.error = std::string("probe failed: ") + e.what();
    }
    co_return r;
}

asio::awaitable<CheckResult> run_check(Pool& pool, const Endpoint& ep, const CheckOptions& options,
                                       std::mt19937_64& rng) {
    switch (options.method) {
        case CheckMethod::kModels:
            co_return co_await models_probe(pool, ep, options.timeout);
        case CheckMethod::kConnect:
            co_return co_await connect_probe(pool, ep, options.timeout);
        case CheckMethod::kConversation:
            break;
    }
    co_return co_await conversational_check(pool, ep, options.model, options.timeout, rng);
}

// ---- CheckRunner ----------------------------------------------------------------------------

struct CheckRunner::State {
    struct Job {
        std::shared_ptr<const Endpoint> endpoint;
        CheckOptions options;
    };

    State(asio::io_context& io, Pool& p, Callback cb, std::size_t limit, std::uint64_t seed)
        : ioc(io),
          pool(p),
          on_done(std::move(cb)),
          concurrency(std::max<std::size_t>(1, limit)),
          rng(seed) {}

    asio::io_context& ioc;
    Pool& pool;
    const Callback on_done;
    const std::size_t concurrency;
    std::mt19937_64 rng;  // only used on the io_context thread

    mutable std::mutex mu;
    std::deque<Job> queue;                 // guarded by mu
    std::unordered_set<std::string> busy;  // ids queued or running; guarded by mu
    std::size_t running = 0;               // guarded by mu
    bool stopped = false;                  // guarded by mu

    // With mu held: moves queued jobs into free slots; the caller spawns them after unlocking.
    std::vector<Job> take_startable() {
        std::vector<Job> out;
        while (!stopped && running < concurrency && !queue.empty()) {
            out.push_back(std::move(queue.front()));
            queue.pop_front();
            ++running;
        }
        return out;
    }

    void drop_queued() {
        for (const auto& job : queue) busy.erase(job.endpoint->id);
        queue.clear();
    }

    // Posted rather than spawned in place: co_spawn runs a coroutine inline up to its first
    // suspension, and checks that finish without one (an early failure) would otherwise nest
    // every following check on the same call stack.
    static void spawn(const std::shared_ptr<State>& self, std::vector<Job> jobs) {
        for (auto& job : jobs) {
            asio::post(self->ioc, [self, job = std::move(job)]() mutable {
                asio::co_spawn(self->ioc, run(self, std::move(job)), asio::detached);
            });
        }
    }

    static asio::awaitable<void> run(std::shared_ptr<State> self, Job job) {
        const CheckResult result =
            co_await run_check(self->pool, *job.endpoint, job.options, self->rng);
        bool stopped = false;
        {
            std::lock_guard lock(self->mu);
            stopped = self->stopped;
        }
        if (!stopped && self->on_done) {
            try {
                self->on_done(*job.endpoint, result);
            } catch (const std::exception& e) {
                spdlog::error("health check callback for endpoint {} threw: {}",
                              job.endpoint->cfg.name, e.what());
            } catch (...) {
                spdlog::error("health check callback for endpoint {} threw",
                              job.endpoint->cfg.name);
            }
        }
        std::vector<Job> next;
        {
            std::lock_guard lock(self->mu);
            self->busy.erase(job.endpoint->id);
            --self->running;
            next = self->take_startable();
        }
        spawn(self, std::move(next));
    }
};

CheckRunner::CheckRunner(asio::io_context& ioc, Pool& pool, Callback on_done,
                         std::size_t concurrency, std::uint64_t seed)
    : state_(std::make_shared<State>(ioc, pool, std::move(on_done), concurrency, seed)) {}

CheckRunner::~CheckRunner() {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    state_->drop_queued();
}

std::size_t CheckRunner::submit(const std::vector<std::shared_ptr<const Endpoint>>& endpoints,
                                const CheckOptions& options) {
    std::size_t queued = 0;
    std::vector<State::Job> start;
    {
        std::lock_guard lock(state_->mu);
        for (const auto& ep : endpoints) {
            if (!ep || !state_->busy.insert(ep->id).second) continue;
            state_->queue.push_back(State::Job{ep, options});
            ++queued;
        }
        start = state_->take_startable();
    }
    State::spawn(state_, std::move(start));
    return queued;
}

bool CheckRunner::submit(std::shared_ptr<const Endpoint> endpoint, const CheckOptions& options) {
    return submit(std::vector<std::shared_ptr<const Endpoint>>{std::move(endpoint)}, options) == 1;
}

bool CheckRunner::busy(const std::string& endpoint_id) const {
    std::lock_guard lock(state_->mu);
    return state_->busy.contains(endpoint_id);
}

std::size_t CheckRunner::running() const {
    std::lock_guard lock(state_->mu);
    return state_->running;
}

std::size_t CheckRunner::queued() const {
    std::lock_guard lock(state_->mu);
    return state_->queue.size();
}

void CheckRunner::cancel_queued() {
    std::lock_guard lock(state_->mu);
    state_->drop_queued();
}

}  // namespace qcc::upstream
