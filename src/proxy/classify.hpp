// Classification: one table that turns an attempt's outcome (transport error, or HTTP
// status + Anthropic error.type) into what happens to the endpoint and to the request.
#pragma once
#include <chrono>
#include <optional>
#include <string_view>

#include "common/error.hpp"

namespace qcc::proxy {

enum class EndpointEffect {
    kNone,         // client's fault or not the endpoint's business
    kSuccess,      // breaker success
    kFailure,      // breaker failure
    kOverloaded,   // breaker failure + short cooldown (529)
    kRateLimited,  // cooldown until the rate limit resets (429)
    kQuarantine,   // authentication / billing: excluded until a health check passes
};

enum class RequestEffect {
    kCommit,         // relay this response to the client (2xx, or a client error returned as is)
    kNextCandidate,  // try the next endpoint
    kRetryFresh,     // retry once on a fresh connection to the same endpoint (stale pooled socket)
};

struct Verdict {
    EndpointEffect endpoint = EndpointEffect::kNone;
    RequestEffect request = RequestEffect::kCommit;
    std::string_view error_class;  // "" for success; a stable name for logs, metrics and rows
    bool operator==(const Verdict&) const = default;
};

/// Classifies an attempt that produced no usable response head. QCC's own limits (a full pool,
/// no file descriptors) have no endpoint effect and move to the next candidate. `reused_connection`
/// is true when the connection came from the idle pool and no response byte was received.
Verdict classify_transport(ErrorKind kind, bool reused_connection);

/// Classifies a response by status, then by Anthropic error.type ("" when unknown). An error event
/// that opens an SSE stream is classified with the status it stands for (see status_for_sse_error).
Verdict classify_response(int status, std::string_view error_type);

/// The HTTP status an Anthropic error type stands for when it arrives as an SSE `event: error`
/// before the commit point (overloaded_error -> 529, rate_limit_error -> 429, ...).
int status_for_sse_error(std::string_view error_type);

/// Cooldown after a 429: `retry-after` (seconds or an HTTP date is not supported: seconds only)
/// or the earliest `anthropic-ratelimit-*-reset` (RFC 3339) relative to `now_unix_ms`; else
/// `fallback` (30 s by default).
std::chrono::milliseconds rate_limit_cooldown(
    std::string_view retry_after, std::initializer_list<std::string_view> resets,
    std::int64_t now_unix_ms,
    std::chrono::milliseconds fallback = std::chrono::milliseconds{30'000});

/// Cooldown after a 429 from an OpenAI-compatible target: `retry-after` (seconds), else the
/// `x-ratelimit-reset-requests` / `-tokens` duration ("1s", "6m0s", "59.6s", "20ms") of the limit
/// whose `x-ratelimit-remaining-*` is 0 (the later one when both are), else the earlier reset;
/// else `fallback`.
std::chrono::milliseconds openai_rate_limit_cooldown(std::string_view retry_after,
                                                     std::string_view reset_requests,
                                                     std::string_view remaining_requests,
                                                     std::string_view reset_tokens,
                                                     std::string_view remaining_tokens,
                                                     std::chrono::milliseconds fallback);

/// Parses a duration as OpenAI's rate-limit headers write it ("1h2m3.5s", "20ms", "6m0s") into
/// milliseconds; nullopt when it is not one.
std::optional<std::int64_t> parse_duration_ms(std::string_view s);

inline constexpr std::chrono::milliseconds kOverloadCooldown{5'000};
inline constexpr std::chrono::milliseconds kDefaultRateLimitCooldown{30'000};

/// Parses an RFC 3339 timestamp ("2026-11-26T22:52:03Z", optional fraction and offset) into Unix
/// milliseconds; nullopt if it is not one.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s);

}  // namespace qcc::proxy
