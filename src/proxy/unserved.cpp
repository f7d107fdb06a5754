#include "proxy/unserved.hpp"

#include <ctime>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "upstream/breaker.hpp"

namespace qcc::proxy {

namespace {

using upstream::Blocked;
using upstream::Endpoint;

std::string join_with(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts) { return join_with(parts, ", "); }

/// "45 s", "3 min 20 s", "2 h 5 min".
std::string duration_text(std::int64_t seconds) {
    if (seconds < 60) return fmt::format("{} s", seconds);
    if (seconds < 3600) {
        return seconds % 60 == 0 ? fmt::format("{} min", seconds / 60)
                                 : fmt::format("{} min {} s", seconds / 60, seconds % 60);
    }
    const auto minutes = (seconds + 59) / 60;
    return minutes % 60 == 0 ? fmt::format("{} h", minutes / 60)
                             : fmt::format("{} h {} min", minutes / 60, minutes % 60);
}

/// "14:05:09 UTC".
std::string clock_text(std::int64_t unix_ms) {
    const std::time_t t = unix_ms / 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:02}:{:02}:{:02} UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/// Whole seconds from `now` to `at`, rounded up, at least 1.
std::int64_t seconds_until(SteadyTime at, SteadyTime now) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at - now).count();
    return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

/// A transient answer: wait `wait` seconds for `first` (`state`: what the endpoints are doing),
/// or, when that is longer than kMaxRetryAfter, say when instead of asking to wait.
Unserved wait_for(std::string error_class, const std::string& state, const std::string& first,
                  std::int64_t wait, std::int64_t now_unix_ms) {
    if (wait <= kMaxRetryAfter.count()) {
        return Unserved{503, "api_error", std::move(error_class),
                        fmt::format("QCC: {}. Retry in {} s.", state, wait),
                        fmt::format("retry-after: {}\r\nx-should-retry: true\r\n", wait)};
    }
    return Unserved{
        503, "api_error", std::move(error_class),
        fmt::format("QCC: {}. The first, {}, is available again in {} (at {}). Add or enable "
                    "another endpoint (qcc endpoint list), or retry then.",
                    state, first, duration_text(wait), clock_text(now_unix_ms + wait * 1000)),
        fmt::format("retry-after: {}\r\nx-should-retry: false\r\n", wait)};
}

Unserved configuration(std::string error_class, std::string message) {
    return Unserved{502, "api_error", std::move(error_class), "QCC: " + std::move(message),
                    "x-should-retry: false\r\n"};
}

/// Names of the disabled endpoints, and the command that enables the first.
std::string disabled_hint(const upstream::EndpointSet& set) {
    std::vector<std::string> names;
    for (const auto& ep : set.endpoints) {
        if (!ep->cfg.enabled) names.push_back(ep->cfg.name);
    }
    if (names.empty()) return {};
    return fmt::format(" Disabled: {} (enable one: qcc endpoint enable {}).", join(names),
                       names.front());
}

}  // namespace

Unserved unserved(const upstream::EndpointSet& set, const upstream::Selection& selection,
                  std::string_view model, SteadyTime now, std::int64_t now_unix_ms,
                  const ClientKey* key) {
    switch (selection.blocked) {
        case Blocked::kKeyNotAllowed: {
            std::vector<std::string> allowed;
            if (key != nullptr && !key->limits.tiers.empty()) {
                allowed.push_back(fmt::format("tiers {}", fmt::join(key->limits.tiers, ", ")));
            }
            if (key != nullptr && !key->limits.endpoints.empty()) {
                allowed.push_back(fmt::format("endpoints {}", join(key->limits.endpoints)));
            }
            const std::string name = key != nullptr ? key->name : std::string("this client key");
            return Unserved{403, "permission_error", "key_not_allowed",
                            fmt::format("QCC: client key {} may use only {}, and no enabled "
                                        "endpoint is among them. Change that: qcc key set {} "
                                        "--tiers … / --endpoints … (all: every one).",
                                        name, join_with(allowed, " and "), name),
                            "x-should-retry: false\r\n"};
        }
        case Blocked::kNoEndpoint:
            return configuration("no_endpoint",
                                 "no upstream endpoint is configured. Add one: qcc endpoint add "
                                 "NAME --url https://api.anthropic.com --key YOUR_KEY");
        case Blocked::kNoneEnabled:
            return configuration(
                "no_endpoint_enabled",
                "no upstream endpoint is enabled (qcc endpoint list)." + disabled_hint(set));
        case Blocked::kModelUnserved: {
            std::vector<std::string> parts;
            std::string first;
            for (const auto& ep : set.endpoints) {
                if (!ep->cfg.enabled) continue;
                if (first.empty()) first = ep->cfg.name;
                std::vector<std::string> served = ep->cfg.models;
                for (const auto& [from, to] : ep->cfg.model_map) served.push_back(from);
                parts.push_back(ep->cfg.name + ": " + fmt::format("{}", fmt::join(served, " ")));
            }
            return configuration(
                "model_unserved",
                fmt::format("no enabled upstream endpoint serves model \"{}\" ({}). Let one "
                            "serve it: qcc endpoint set {} --model {} (or rewrite it: --model-map "
                            "{}=ANOTHER_MODEL), or ask for a model listed here.{}",
                            model, join_with(parts, "; "), first, model, model,
                            disabled_hint(set)));
        }
        case Blocked::kAllQuarantined: {
            std::vector<std::string> parts;
            std::string first;
            for (const auto& ep : set.endpoints) {
                if (!ep->cfg.enabled) continue;
                if (first.empty()) first = ep->cfg.name;
                auto reason = ep->state->quarantine_reason();
                parts.push_back(reason.empty() ? ep->cfg.name : ep->cfg.name + " (" + reason + ")");
            }
            return configuration(
                "all_quarantined",
                fmt::format("every enabled upstream endpoint is quarantined: {}. Fix its key "
                            "(qcc endpoint set {} --key NEW_KEY), then release it: qcc endpoint "
                            "release {} (a passing health check also releases it).{}",
                            join(parts), first, first, disabled_hint(set)));
        }
        case Blocked::kAllCooling: {
            std::vector<std::string> parts;
            for (const auto& ep : set.endpoints) {
                if (!ep->cfg.enabled || ep->state->quarantined.load(std::memory_order_relaxed)) {
                    continue;
                }
                const SteadyTime until{SteadyTime::duration(
                    ep->state->cooldown_until_ns.load(std::memory_order_relaxed))};
                if (until <= now) continue;
                auto reason = ep->state->cooldown_reason();
                parts.push_back(fmt::format("{} ({}{}{} left)", ep->cfg.name, reason,
                                            reason.empty() ? "" : ", ",
                                            duration_text(seconds_until(until, now))));
            }
            const auto* first = selection.recovers_first;
            return wait_for("all_cooling",
                            "every upstream endpoint is cooling down: " + join(parts),
                            first != nullptr ? first->cfg.name : "an endpoint",
                            seconds_until(selection.recovers_at, now), now_unix_ms);
        }
        case Blocked::kNone:
            break;
    }
    // There were candidates, but every breaker refused admission: each one's single trial
    // request (half-open, or failing open) is already in flight. It ends within moments.
    return Unserved{503, "api_error", "all_recovering",
                    "QCC: every upstream endpoint is recovering from failures (each one's trial "
                    "request is in flight). Retry in 1 s.",
                    "retry-after: 1\r\nx-should-retry: true\r\n"};
}

Unserved all_failing(const upstream::EndpointSet& set, std::string_view tried, SteadyTime now,
                     std::int64_t now_unix_ms) {
    const upstream::Endpoint* first = nullptr;
    SteadyTime at{};
    for (const auto& ep : set.endpoints) {
        if (!ep->cfg.enabled || ep->state->quarantined.load(std::memory_order_relaxed)) continue;
        const auto& b = ep->state->breaker;
        if (b.state(now) != upstream::BreakerState::kOpen) continue;
        const auto reopens = b.opened_at() + b.open_period();
        if (first == nullptr || reopens < at) {
            first = ep.get();
            at = reopens;
        }
    }
    return wait_for("all_failing",
                    fmt::format("every upstream endpoint is failing ({}); their circuit breakers "
                                "are open",
                                tried),
                    first != nullptr ? first->cfg.name : "an endpoint",
                    first != nullptr ? seconds_until(at, now) : 1, now_unix_ms);
}

}  // namespace qcc::proxy
