#include "proxy/policy.hpp"

#include <charconv>
#include <cmath>

#include "config/config.hpp"
#include "protocol/anthropic/pricing.hpp"

namespace qcc::proxy {

namespace {

const std::vector<SettingInfo> kSettings = {
    {"breaker.consecutive_failures", "int", "3",
     "open the breaker after this many consecutive failures"},
    {"breaker.failure_ratio", "ratio", "0.5",
     "or when the failure ratio in the window reaches this"},
    {"breaker.min_volume", "int", "10", "minimum attempts in the window for the ratio trigger"},
    {"breaker.window", "duration", "60s", "sliding window of the ratio trigger"},
    {"breaker.open", "duration", "60s", "first open period (doubles on each re-open)"},
    {"breaker.open_max", "duration", "10m", "cap of the open period"},
    {"retry.max_attempts", "int", "5", "attempts per request"},
    {"retry.max_per_endpoint", "int", "2", "attempts per request on one endpoint"},
    {"retry.budget_ratio", "ratio", "0.2", "process-wide retries as a share of requests"},
    {"retry.budget_window", "duration", "10s", "window of the retry budget"},
    {"retry.budget_min_per_second", "int", "10", "retries always allowed per second"},
    {"retry.budget_burst", "count", "50",
     "retries allowed beyond the ratio and the floor (start-up bursts); refills this many per "
     "window"},
    {"cooldown.overloaded", "duration", "5s", "cooldown after a 529 / overloaded_error"},
    {"cooldown.rate_limited", "duration", "30s", "cooldown after a 429 without reset headers"},
    {"stream.hold_for_content", "duration_or_off", "10s",
     "hold a stream back until its first content event, at most this long (a failure before it "
     "still fails over)"},
    {"balance.strategy", "strategy", "weighted",
     "weighted | round-robin | least-inflight | latency | random"},
    {"balance.soft_limit_factor", "ratio", "0.5",
     "weight factor while anthropic-ratelimit-unified-status is allowed_warning"},
    {"balance.adaptive_weights", "bool", "false", "recompute weights from passive statistics"},
    {"balance.adaptive_interval", "duration", "30s", "how often adaptive weights are recomputed"},
    {"affinity.ttl", "duration", "5h", "idle time after which a session binding expires"},
    {"affinity.max_sessions", "int", "100000", "bound of the session binding table (LRU)"},
    {"affinity.sweep", "duration", "5m", "how often expired bindings are swept"},
    {"health.recovery_interval", "duration", "60s",
     "how often quarantined or broken endpoints are re-checked (a pass releases them)"},
    {"health.interval", "duration_or_off", "off", "periodic checks of healthy endpoints"},
    {"health.method", "method", "conversation", "conversation | models | connect"},
    {"health.model", "text", "claude-haiku-4-5", "model of the conversational check"},
    {"health.timeout", "duration", "30s", "deadline of one check"},
    {"health.concurrency", "int", "2", "checks running at once (read at start)"},
    {"warmup.connections", "count", "1", "connections opened per endpoint and worker at start"},
    {"warmup.check", "bool", "false", "one conversational check per endpoint at start"},
    {"log.payloads", "payloads", "off",
     "capture request/response bodies in the request log: off | errors | all"},
    {"log.payload_max_bytes", "int", "65536", "bytes kept of each captured body"},
    {"retention.payloads_days", "days", "7", "days captured payloads are kept"},
    {"retention.requests_days", "days", "90", "days request-log rows are kept"},
    {"retention.rollups_days", "days", "365", "days hourly statistics roll-ups are kept"},
    {"pricing.overrides", "prices", "{}",
     R"(JSON price overrides in USD per million tokens, e.g. {"claude-x":{"input":3,"output":15}})"},
    {"metrics.public", "bool", "false", "serve /metrics without the admin token"},
};

const SettingInfo* find(std::string_view key) {
    for (const auto& s : kSettings) {
        if (s.key == key) return &s;
    }
    return nullptr;
}

std::optional<long long> parse_int(std::string_view v) {
    long long out = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) return std::nullopt;
    return out;
}

std::optional<double> parse_double(std::string_view v) {
    double out = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || !std::isfinite(out)) {
        return std::nullopt;  // "nan" and "inf" parse, but no setting means them
    }
    return out;
}

std::string check(const SettingInfo& s, std::string_view value) {
    if (s.kind == "int") {
        auto v = parse_int(value);
        if (!v || *v < 1 || *v > 10'000'000) return "expected an integer from 1 to 10000000";
    } else if (s.kind == "ratio") {
        auto v = parse_double(value);
        if (!v || *v < 0 || *v > 1) return "expected a number from 0 to 1";
    } else if (s.kind == "duration") {
        auto v = config::parse_duration(value);
        if (!v || v->count() <= 0) return "expected a duration such as 500ms, 10s, 5m or 1h";
    } else if (s.kind == "bool") {
        if (value != "true" && value != "false") return "expected true or false";
    } else if (s.kind == "count") {
        auto v = parse_int(value);
        if (!v || *v < 0 || *v > 1000) return "expected an integer from 0 to 1000";
    } else if (s.kind == "duration_or_off") {
        auto v = config::parse_duration(value);
        if (value != "off" && (!v || v->count() <= 0)) {
            return "expected off or a duration such as 30s, 5m or 1h";
        }
    } else if (s.kind == "method") {
        if (value != "conversation" && value != "models" && value != "connect") {
            return "expected conversation, models or connect";
        }
    } else if (s.kind == "text") {
        if (value.empty() || value.size() > 200) return "expected a non-empty value";
    } else if (s.kind == "payloads") {
        if (value != "off" && value != "errors" && value != "all") {
            return "expected off, errors or all";
        }
    } else if (s.kind == "days") {
        auto v = parse_int(value);
        if (!v || *v < 1 || *v > 3650) return "expected a number of days from 1 to 3650";
    } else if (s.kind == "prices") {
        std::string error;
        if (!anthropic::PriceTable::builtin().with_overrides(value, &error)) return error;
    } else if (s.kind == "strategy") {
        if (!upstream::parse_strategy(value)) {
            return "expected weighted, round-robin, least-inflight, latency or random";
        }
    }
    return {};
}

}  // namespace

const std::vector<SettingInfo>& known_settings() { return kSettings; }

std::string validate_setting(std::string_view key, std::string_view value) {
    const auto* s = find(key);
    if (s == nullptr) return "unknown setting '" + std::string(key) + "'";
    auto err = check(*s, value);
    return err.empty() ? err : std::string(key) + ": " + err;
}

Policy policy_from_settings(const SettingLookup& lookup, std::vector<std::string>* warnings) {
    auto value = [&](std::string_view key) -> std::string {
        const auto* s = find(key);
        auto stored = lookup(key);
        if (stored) {
            auto err = check(*s, *stored);
            if (err.empty()) return *stored;
            if (warnings) warnings->push_back(std::string(key) + ": " + err + " (using default)");
        }
        return std::string(s->default_value);
    };
    auto integer = [&](std::string_view key) { return static_cast<int>(*parse_int(value(key))); };
    auto ratio = [&](std::string_view key) { return *parse_double(value(key)); };
    auto duration = [&](std::string_view key) { return *config::parse_duration(value(key)); };

    Policy p;
    p.breaker.consecutive_failures = integer("breaker.consecutive_failures");
    p.breaker.failure_ratio = ratio("breaker.failure_ratio");
    p.breaker.min_volume = integer("breaker.min_volume");
    p.breaker.window = duration("breaker.window");
    p.breaker.open_base = duration("breaker.open");
    p.breaker.open_max = std::max(duration("breaker.open_max"), p.breaker.open_base);
    p.max_attempts = integer("retry.max_attempts");
    p.max_attempts_per_endpoint = integer("retry.max_per_endpoint");
    p.retry_budget.ratio = ratio("retry.budget_ratio");
    p.retry_budget.window = duration("retry.budget_window");
    p.retry_budget.min_per_second = integer("retry.budget_min_per_second");
    p.retry_budget.burst = integer("retry.budget_burst");
    p.overload_cooldown = duration("cooldown.overloaded");
    p.rate_limit_cooldown = duration("cooldown.rate_limited");
    p.strategy = *upstream::parse_strategy(value("balance.strategy"));
    p.soft_limit_factor = ratio("balance.soft_limit_factor");
    p.adaptive_weights = value("balance.adaptive_weights") == "true";
    p.adaptive_interval = duration("balance.adaptive_interval");
    p.affinity.ttl = duration("affinity.ttl");
    p.affinity.max_sessions = static_cast<std::size_t>(integer("affinity.max_sessions"));
    p.affinity_sweep = duration("affinity.sweep");
    p.recovery_interval = duration("health.recovery_interval");
    const auto interval = value("health.interval");
    p.health_interval = interval == "off" ? Millis{0} : *config::parse_duration(interval);
    const auto hold = value("stream.hold_for_content");
    p.hold_for_content = hold == "off" ? Millis{0} : *config::parse_duration(hold);
    p.health_method = value("health.method");
    p.health_model = value("health.model");
    p.health_timeout = duration("health.timeout");
    p.health_concurrency = integer("health.concurrency");
    p.warmup_connections = static_cast<int>(*parse_int(value("warmup.connections")));
    p.warmup_check = value("warmup.check") == "true";
    const auto payloads = value("log.payloads");
    p.payloads = payloads == "all"      ? PayloadCapture::kAll
                 : payloads == "errors" ? PayloadCapture::kErrors
                                        : PayloadCapture::kOff;
    p.payload_max_bytes = static_cast<std::size_t>(integer("log.payload_max_bytes"));
    constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
    p.retention_payloads_ms = integer("retention.payloads_days") * kDayMs;
    p.retention_requests_ms = integer("retention.requests_days") * kDayMs;
    p.retention_rollups_ms = integer("retention.rollups_days") * kDayMs;
    std::string error;
    auto prices =
        anthropic::PriceTable::builtin().with_overrides(value("pricing.overrides"), &error);
    p.prices = std::make_shared<const anthropic::PriceTable>(
        prices ? std::move(*prices) : anthropic::PriceTable::builtin());
    p.metrics_public = value("metrics.public") == "true";
    return p;
}

}  // namespace qcc::proxy
