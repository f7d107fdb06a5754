// Policy: the resilience knobs as runtime settings. Each has a default, lives in
// the store's settings table under a dotted key, and is re-read within 1 s of a change.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/anthropic/pricing.hpp"
#include "upstream/affinity.hpp"
#include "upstream/breaker.hpp"
#include "upstream/retry_budget.hpp"
#include "upstream/strategy.hpp"

namespace qcc::proxy {

using Millis = std::chrono::milliseconds;

/// Which request/response bodies the request log keeps (setting log.payloads).
enum class PayloadCapture { kOff, kErrors, kAll };

/// Every resilience knob, with their defaults. Immutable once built; swapped as a whole.
struct Policy {
    upstream::BreakerPolicy breaker;
    upstream::AffinityPolicy affinity;
    upstream::RetryBudgetPolicy retry_budget;
    upstream::Strategy strategy = upstream::Strategy::kWeighted;
    int max_attempts = 5;                // per request
    int max_attempts_per_endpoint = 2;   // per request and endpoint
    Millis overload_cooldown{5'000};     // after a 529 / overloaded_error
    Millis rate_limit_cooldown{30'000};  // after a 429 without reset headers
    double soft_limit_factor = 0.5;      // weight factor while unified-status is allowed_warning
    Millis soft_limit_hold{60'000};      // how long a soft warning lowers the weight
    /// A stream is held back (not yet committed) until its first content event, for at most this
    /// long after its head; 0 = commit at the first event (message_start).
    Millis hold_for_content{10'000};
    bool adaptive_weights = false;  // weight adjuster
    Millis adaptive_interval{30'000};
    Millis affinity_sweep{300'000};
    // Health.
    Millis recovery_interval{60'000};  // re-check quarantined / broken endpoints this often
    Millis health_interval{0};         // periodic checks of healthy endpoints; 0 = off
    std::string health_method = "conversation";  // conversation | models | connect
    std::string health_model = "claude-haiku-4-5";
    Millis health_timeout{30'000};
    int health_concurrency = 2;  // read at start
    int warmup_connections = 1;  // per endpoint and worker, at start
    bool warmup_check = false;   // one conversational check per endpoint at start
    // Observability.
    PayloadCapture payloads = PayloadCapture::kOff;
    std::size_t payload_max_bytes = 65'536;
    std::int64_t retention_payloads_ms = 7LL * 86'400'000;
    std::int64_t retention_requests_ms = 90LL * 86'400'000;
    std::int64_t retention_rollups_ms = 365LL * 86'400'000;
    std::shared_ptr<const anthropic::PriceTable> prices =
        std::make_shared<const anthropic::PriceTable>(anthropic::PriceTable::builtin());
    bool metrics_public = false;
};

/// One known setting: its key, a one-line description and how to read its value.
struct SettingInfo {
    std::string_view key;
    std::string_view kind;  // int, count, ratio, duration, duration_or_off, bool, strategy, method,
                            // text, payloads, days, prices
    std::string_view default_value;
    std::string_view doc;
};

/// Every setting QCC understands, in documentation order.
const std::vector<SettingInfo>& known_settings();

/// Checks a value for a setting key; returns an error message ("" when valid).
std::string validate_setting(std::string_view key, std::string_view value);

/// Reads a stored setting: its value, or nullopt when unset.
using SettingLookup = std::function<std::optional<std::string>(std::string_view key)>;

/// Builds the policy from stored settings; invalid stored values keep their default and are
/// reported in `warnings` (key: message).
Policy policy_from_settings(const SettingLookup& lookup,
                            std::vector<std::string>* warnings = nullptr);

}  // namespace qcc::proxy
