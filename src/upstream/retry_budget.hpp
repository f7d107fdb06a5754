// Process-wide retry budget: when everything is failing, retries must not multiply the
// load. Retries may be up to `ratio` of requests over a sliding window, and a floor of
// `min_per_second` retries is always allowed so a quiet gateway can still fail over. Beyond both,
// a burst allowance of `burst` retries (refilled at `burst` per window) absorbs the start-up or
// after-idle burst, when the window holds no requests yet to take a ratio of.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/clock.hpp"

namespace qcc::upstream {

/// Budget shape. Defaults: retries <= 20 % of requests over 10 s, minimum 10/s, and a burst
/// allowance of 50 (starts full, refills 50 per window).
struct RetryBudgetPolicy {
    double ratio = 0.2;
    std::chrono::milliseconds window{10'000};
    int min_per_second = 10;
    int burst = 50;
};

/// Lock-free budget shared by every worker: the window is 10 time buckets (1 s each by default),
/// each one atomic word per counter. A retry is allowed when, counting it, retries in the window
/// stay <= ratio x requests in the window, or when the current bucket has granted fewer than
/// min_per_second (scaled to the bucket width) retries.
class RetryBudget {
  public:
    static constexpr int kBuckets = 10;

    explicit RetryBudget(RetryBudgetPolicy p = {});

    const RetryBudgetPolicy& policy() const { return policy_; }

    /// Counts one client request (call once per request, not per attempt).
    void on_request(SteadyTime now);
    /// A 2nd+ attempt asks first. True = allowed and counted; false = budget exhausted (counted in
    /// denied()). Threads spending at the same instant cannot both take the last unit of budget.
    bool try_spend_retry(SteadyTime now);
    /// Retries refused since construction.
    std::uint64_t denied() const;

    /// Requests and granted retries currently inside the window (for metrics and tests).
    std::uint64_t requests_in_window(SteadyTime now) const;
    std::uint64_t retries_in_window(SteadyTime now) const;

  private:
    // One word per counter per bucket: high 32 bits = bucket index mod 2^32, low 32 bits = count.
    // Packing both makes "new bucket -> reset count" a single compare-exchange.
    using Slots = std::array<std::atomic<std::uint64_t>, kBuckets>;

    std::uint32_t bucket_index(SteadyTime now) const;
    static void add(Slots& slots, std::uint32_t idx);
    static std::uint64_t sum(const Slots& slots, std::uint32_t idx, bool skip_current = false);
    /// Takes one unit of the burst allowance (a GCRA token bucket) if one is left.
    bool take_burst(SteadyTime now);

    RetryBudgetPolicy policy_;
    std::chrono::nanoseconds bucket_width_;
    std::uint64_t min_per_bucket_;
    Slots requests_{};
    Slots retries_{};
    std::chrono::nanoseconds burst_interval_{0};  // one unit refills in this time
    std::atomic<std::int64_t> burst_tat_ns_{0};   // theoretical arrival time of the bucket
    std::atomic<std::uint64_t> denied_{0};
};

}  // namespace qcc::upstream
