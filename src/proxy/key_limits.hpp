// Per-client-key limits and budgets: what a key may use (requests and tokens per minute, USD per
// day and per month, UTC), and the meter that counts its use. The meter is shared by every worker
// (atomics) and outlives key-set reloads, so a limit holds however the keys change. Windows are
// fixed (a UTC minute, day, month); a burst at a window's edge may pass up to twice the per-minute
// limit, and tokens and cost count when a request ends, so one request may overshoot a budget.
// Several instances on one store each admit their share of a per-minute limit (the limit divided
// by the number of live instances): the fleet holds the limit when the load balancer spreads a
// key's requests evenly. Budgets are fleet-wide: each instance raises its spend to the shared
// request log's every few seconds.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qcc::proxy {

struct KeyLimits {
    std::int64_t requests_per_minute = 0;  // 0 = no limit
    std::int64_t tokens_per_minute = 0;    // input + output tokens
    double budget_daily_usd = 0;           // 0 = no budget
    double budget_monthly_usd = 0;
    std::vector<int> tiers;              // tiers the key may use (empty: every tier)
    std::vector<std::string> endpoints;  // endpoint names it may use (empty: every endpoint)
    /// Whether requests are metered (a rate limit or a budget is set).
    bool any() const {
        return requests_per_minute > 0 || tokens_per_minute > 0 || budget_daily_usd > 0 ||
               budget_monthly_usd > 0;
    }
    friend bool operator==(const KeyLimits&, const KeyLimits&) = default;
};

/// The limits as stored and shown: a JSON object with only the limits that are set.
std::string key_limits_json(const KeyLimits& l);
/// Parses and validates a limits object (unknown fields, negative or non-numeric values are
/// errors: "<field>: <problem>" in *error); a field set to 0, null or [] removes that limit.
std::optional<KeyLimits> parse_key_limits(std::string_view json, std::string* error);

/// Why a key's request is refused.
struct KeyRefusal {
    std::string message;
    std::int64_t retry_after_s = 0;  // when the limit lifts
    bool budget = false;  // a spent budget (Claude Code should stop, not retry for hours)
};

/// What a key has used in its current windows.
struct KeyUsage {
    std::int64_t requests_this_minute = 0, tokens_this_minute = 0;
    double spent_today_usd = 0, spent_this_month_usd = 0;
};

class KeyMeter {
  public:
    /// Counts a request of key `name` at `now_unix_ms`, or refuses it (not counted) when a limit
    /// or budget is used up.
    std::optional<KeyRefusal> admit(std::string_view name, const KeyLimits& limits,
                                    std::int64_t now_unix_ms);
    /// Adds a finished request's tokens and cost. Returns the budget ("daily" or "monthly") whose
    /// warning threshold (80 %) this crossed, or "".
    std::string_view add_usage(const KeyLimits& limits, std::int64_t tokens, double cost_usd,
                               std::int64_t now_unix_ms);
    /// Starts the day and month with what the request log says was spent already (at start).
    void seed_spend(double today_usd, double this_month_usd, std::int64_t now_unix_ms);
    /// Raises the day's and month's spend to what the shared request log says, when that is more
    /// (other instances' requests); never lowers it.
    void raise_spend(double today_usd, double this_month_usd, std::int64_t now_unix_ms);
    /// How many instances share the key's rate limits (from the fleet registry): each admits its
    /// share, the limit divided by the fleet size and rounded up. 1 = alone.
    void set_fleet_size(int n) { fleet_.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
    int fleet_size() const { return fleet_.load(std::memory_order_relaxed); }
    KeyUsage usage(std::int64_t now_unix_ms) const;

    /// Window starts in Unix ms (UTC).
    static std::int64_t minute_start(std::int64_t unix_ms);
    static std::int64_t day_start(std::int64_t unix_ms);
    static std::int64_t month_start(std::int64_t unix_ms);
    static std::int64_t next_month_start(std::int64_t unix_ms);

  private:
    /// A counter for one window; the first user in a new window resets it.
    struct Window {
        std::atomic<std::int64_t> start{-1};
        std::atomic<std::int64_t> value{0};
        std::int64_t add(std::int64_t period, std::int64_t delta);
        std::int64_t get(std::int64_t period) const;
    };
    Window requests_, tokens_, day_micro_usd_, month_micro_usd_;
    std::atomic<int> fleet_{1};
    /// This instance's share of a per-minute limit.
    std::int64_t share(std::int64_t limit) const;
    /// " (N on each of M instances)" when the limit is shared by a fleet, else "".
    std::string fleet_note(std::int64_t limit) const;
};

/// A client key as the data path sees it: the name, the hash of the key, its limits and its meter
/// (shared with the key's entry in every later key set).
struct ClientKey {
    std::string name;
    std::string hash;
    KeyLimits limits;
    std::shared_ptr<KeyMeter> meter;
};

}  // namespace qcc::proxy
