// What the client is told when QCC cannot make a single attempt for a request. The answer decides
// what Claude Code does next, so each cause gets the response that makes it do the right thing:
//
//   configuration (nothing configured, nothing enabled, no endpoint serves the requested model,
//   everything quarantined)
//       502 + `x-should-retry: false`: the CLI stops at once and prints the message, which names
//       the cause and the command that fixes it.
//   transient (everything cooling down, every breaker open and its trial failed, or every
//   breaker's one trial already in flight)
//       503 + `retry-after: <seconds until the first endpoint recovers>` + `x-should-retry: true`:
//       the CLI waits exactly that long and retries. (Not 529: Claude Code gives up on 529 after
//       three tries.) A recovery further away than kMaxRetryAfter is reported instead, with
//       `x-should-retry: false`: nobody should watch a silent terminal for minutes.
//
// A pure function of the endpoint set and the time, so every case is unit-tested.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "proxy/key_limits.hpp"
#include "upstream/selector.hpp"

namespace qcc::proxy {

/// The longest wait QCC asks a client to sit through silently.
inline constexpr std::chrono::seconds kMaxRetryAfter{60};

struct Unserved {
    int status = 502;
    std::string type;         // Anthropic error type
    std::string error_class;  // request log / metrics class
    std::string message;
    std::string headers;  // "name: value\r\n" lines (retry-after, x-should-retry)
};

/// `selection` is the request's selection (no candidate was attempted: either it had none, or
/// every breaker refused admission); `model` the requested model. `now_unix_ms` renders the
/// recovery time as a clock time.
Unserved unserved(const upstream::EndpointSet& set, const upstream::Selection& selection,
                  std::string_view model, SteadyTime now, std::int64_t now_unix_ms,
                  const ClientKey* key = nullptr);

/// Every endpoint's breaker was open (the request failed open) and no attempt got an answer:
/// the endpoints are down. `tried` names each with what happened. Transient like a cooldown:
/// 503 + `retry-after` until the first breaker lets a trial through again (reported instead,
/// with `x-should-retry: false`, when that is more than kMaxRetryAfter away).
Unserved all_failing(const upstream::EndpointSet& set, std::string_view tried, SteadyTime now,
                     std::int64_t now_unix_ms);

}  // namespace qcc::proxy
