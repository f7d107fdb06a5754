// Active health checks: the conversational check (a real, tiny Messages request whose
// reply must echo a random code), the cheap `models` and `connect` probes, and CheckRunner, which
// runs checks for many endpoints with bounded concurrency and no pile-up.
//
// Checks only observe: they never touch EndpointState (breaker, quarantine, statistics). The
// caller (the recovery loop, `qcc health`, the admin API) decides what a result means.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "upstream/endpoint.hpp"

namespace qcc::upstream {

class Pool;

/// The check model when none is configured: Claude Haiku 4.5, the cheapest current model
/// (a check costs ~30 input and <= 20 output tokens). Older Haikus cost less per token but are
/// being retired and relays often no longer serve them. The undated alias is used so that relays
/// mapping model names by family still recognise it.
inline constexpr std::string_view kDefaultCheckModel = "claude-haiku-4-5";
/// The Claude Code version the checks claim to be (the newest captured fixture): relays that only
/// serve Claude Code look at the user agent.
inline constexpr std::string_view kCheckClientVersion = "2.1.332";
inline constexpr std::string_view kCheckUserAgent = "claude-cli/2.1.332 (external, cli)";
inline constexpr std::string_view kCheckApp = "cli";  // the x-app header
inline constexpr std::string_view kCheckAnthropicVersion = "2023-06-01";
inline constexpr int kCheckMaxTokens = 20;
inline constexpr std::size_t kCheckCodeLength = 6;
inline constexpr std::size_t kDefaultCheckConcurrency = 2;
inline constexpr std::chrono::milliseconds kDefaultCheckTimeout{30'000};
/// Largest response body a check reads; a bigger one fails the check (a 20-token reply is tiny).
inline constexpr std::size_t kMaxCheckBodyBytes = 1 << 20;

// ---- Pure pieces ----------------------------------------------------------------------------

/// A random code of kCheckCodeLength characters from [A-Z0-9].
std::string make_check_code(std::mt19937_64& rng);

/// The JSON body of the conversational check: a non-streaming Messages request for `model` with
/// max_tokens 20 and one user message asking to reply with only `code`.
std::string check_request_body(std::string_view model, std::string_view code);

/// The concatenated text of the content blocks of type "text" of a Messages response, either a
/// JSON message or (for relays that stream regardless of `stream: false`) an SSE body. nullopt
/// when the body is neither (empty, not JSON, an error object, no content array).
std::optional<std::string> reply_text(std::string_view body);

/// True only if reply_text(response) contains `code`, compared case-insensitively. An empty or
/// error body, a reply without text blocks, or an empty `code` gives false.
bool reply_contains_code(std::string_view response, std::string_view code);

/// Score, 0..100: 50 if valid; latency < 500 ms 30, < 1000 ms 20, < 2000 ms 10, else 0;
/// reply < 50 chars 20, < 100 chars 15, else 10.
int check_score(bool valid, std::int64_t latency_ms, std::size_t reply_chars);

/// The request head (request line, host, Claude-Code-like headers, anthropic-version, the
/// endpoint credential per its auth mode, accept-encoding identity, content-length when
/// `body_size` > 0 or the method is POST) for `method` {prefix}`path`, ending with the blank line.
std::string check_request_head(const Endpoint& ep, std::string_view method, std::string_view path,
                               std::size_t body_size);

// ---- Checks ---------------------------------------------------------------------------------

/// Which check to run. to_string gives the stored spelling.
enum class CheckMethod { kConversation, kModels, kConnect };
/// "conversation" | "models" | "connect".
std::string_view to_string(CheckMethod method);
/// The method spelled `text` ("conversation" | "models" | "connect"), nullopt for anything else.
std::optional<CheckMethod> parse_check_method(std::string_view text);
/// The method to use for `ep`: its "health:<method>" tag when it has one, else `fallback` (the
/// health.method setting); an unknown spelling means the conversational check.
CheckMethod check_method_for(const Endpoint& ep, std::string_view fallback);

/// The outcome of one check.
/// result: "pass"; "fail" (the endpoint answered or refused, and did not pass: non-2xx, no code,
/// connection refused/reset, TLS failure); "timeout" (the check's deadline passed first);
/// "error" (the check could not be run: unsupported endpoint kind, local connection limit).
/// valid: the conversational reply held the code / the probe passed. score: check_score for a
/// conversational check that got a 2xx reply (reply length in Unicode code points); for a passing
/// probe 50 + latency points + 20 (no reply text); 0 otherwise. latency_ms: from the start of the
/// check to the last response byte (probes: to the 2xx head and body / the open connection).
struct CheckResult {
    std::string method;
    std::string result;
    bool valid = false;
    int score = 0;
    std::int64_t latency_ms = 0;
    std::string model;  // the model asked for (conversational checks only)
    std::string error;  // why it did not pass ("" on pass)
    std::int64_t input_tokens = 0, output_tokens = 0;
};

/// Sends the conversational check to `ep` within `timeout` from the start,
/// connect included; `model` empty = kDefaultCheckModel. Never throws. Uses a pooled connection
/// (a stale pooled one is retried once on a fresh connection) and returns it to `pool` only after
/// a complete keep-alive response. Must run on the io_context that owns `pool`. `ep` is copied
/// and `rng` used when the coroutine starts, so both need only live until then (always true when
/// it is co_awaited directly).
boost::asio::awaitable<CheckResult> conversational_check(Pool& pool, const Endpoint& ep,
                                                         std::string model,
                                                         std::chrono::milliseconds timeout,
                                                         std::mt19937_64& rng);

/// GET {prefix}/v1/models with the endpoint's credential; passes on 2xx. Spends no tokens.
/// Otherwise as conversational_check.
boost::asio::awaitable<CheckResult> models_probe(Pool& pool, const Endpoint& ep,
                                                 std::chrono::milliseconds timeout);

/// Opens a fresh connection (TCP, plus the TLS handshake for https) within `timeout`, sends
/// nothing and closes it; passes if it opened. Works for every endpoint kind.
boost::asio::awaitable<CheckResult> connect_probe(Pool& pool, const Endpoint& ep,
                                                  std::chrono::milliseconds timeout);

/// What to run and how long to give it.
struct CheckOptions {
    CheckMethod method = CheckMethod::kConversation;
    std::string model;  // conversational checks; "" = kDefaultCheckModel
    std::chrono::milliseconds timeout = kDefaultCheckTimeout;
};

/// Dispatches on options.method. Never throws. `ep`, `options` and `rng` must outlive it.
boost::asio::awaitable<CheckResult> run_check(Pool& pool, const Endpoint& ep,
                                              const CheckOptions& options, std::mt19937_64& rng);

// ---- CheckRunner ----------------------------------------------------------------------------

/// Runs checks for many endpoints on one io_context (run by a single thread, the one that owns
/// `pool`), at most `concurrency` at a time, in submission order. An endpoint (by id) is "busy"
/// from its submission until its callback has returned; submitting a busy endpoint again does
/// nothing, so slow checks never pile up. submit() may be called from any thread, including
/// from the callback.
///
/// Lifetime: `ioc` and `pool` must outlive every running check (stop the io_context before
/// destroying the pool). The runner itself may be destroyed at any time: queued checks are
/// dropped, running ones finish (within their timeout) without calling back. A callback already
/// running on the io thread is not waited for, so destroy the runner on that thread (or after the
/// io_context stopped) when the callback uses objects that die with the runner's owner.
class CheckRunner {
  public:
    /// Called on the io_context thread after each check, with the endpoint and its result.
    /// Exceptions it throws are logged and swallowed.
    using Callback = std::function<void(const Endpoint&, const CheckResult&)>;

    CheckRunner(boost::asio::io_context& ioc, Pool& pool, Callback on_done,
                std::size_t concurrency = kDefaultCheckConcurrency,
                std::uint64_t seed = std::random_device{}());
    ~CheckRunner();
    CheckRunner(const CheckRunner&) = delete;
    CheckRunner& operator=(const CheckRunner&) = delete;

    /// Queues one check per endpoint that is not busy (nulls and duplicates in the list are
    /// skipped); returns how many were queued.
    std::size_t submit(const std::vector<std::shared_ptr<const Endpoint>>& endpoints,
                       const CheckOptions& options = {});
    /// Queues one check; false when the endpoint is busy (or null).
    bool submit(std::shared_ptr<const Endpoint> endpoint, const CheckOptions& options = {});

    /// True while a check of `endpoint_id` is queued or running.
    bool busy(const std::string& endpoint_id) const;
    /// Checks running now (at most the concurrency bound).
    std::size_t running() const;
    /// Checks waiting for a slot.
    std::size_t queued() const;
    /// Drops every queued check (running ones finish and call back).
    void cancel_queued();

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace qcc::upstream
