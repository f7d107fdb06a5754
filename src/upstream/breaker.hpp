// CircuitBreaker: closed -> open -> half-open -> closed | open, one per endpoint, shared
// by every worker. Pure policy: no I/O, time is passed in, transitions are returned for the caller
// to log, persist and publish.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace qcc::upstream {

/// When a breaker opens and for how long. A trigger whose threshold is <= 0 (or a ratio > 1) is
/// off.
struct BreakerPolicy {
    int consecutive_failures = 3;                 // open after this many consecutive failures
    double failure_ratio = 0.5;                   // or failure ratio >= this ...
    int min_volume = 10;                          // ... over at least this many attempts ...
    std::chrono::milliseconds window{60'000};     // ... within this sliding window
    std::chrono::milliseconds open_base{60'000};  // first open period; doubles on each re-open
    std::chrono::milliseconds open_max{600'000};  // cap (never below open_base)
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

/// "closed", "open", "half_open": the spelling used in the store, logs and the admin API.
std::string_view to_string(BreakerState s);
/// Inverse of to_string; nullopt for anything else (e.g. a corrupt stored row).
std::optional<BreakerState> breaker_state_from_string(std::string_view s);

/// A state change, for the event log. `reason` is human readable ("3 consecutive failures").
struct BreakerTransition {
    BreakerState from;
    BreakerState to;
    std::string reason;
};

/// Persistable state (survives restarts): the state, when it last opened (system-clock unix ms, 0
/// if never), the current open period, and how many re-opens in a row doubled it.
struct BreakerSnapshot {
    BreakerState state = BreakerState::kClosed;
    std::int64_t opened_at_unix_ms = 0;
    std::int64_t open_for_ms = 0;
    int reopens = 0;
};

/// What an admitted attempt was admitted under. Optional: passing it back with the outcome lets the
/// breaker ignore late outcomes of attempts admitted before the last state change (a request sent
/// while closed that times out 5 minutes later must not be taken for the half-open trial's
/// verdict).
struct BreakerPermit {
    std::uint64_t epoch = 0;
    bool trial = false;  // this attempt holds the half-open trial slot
};

/// One endpoint's circuit breaker. Thread-safe (a small internal mutex: a few calls per request).
/// Outcomes without a permit are attributed to the current state; outcomes reported while open are
/// ignored (they belong to attempts admitted before it opened).
class CircuitBreaker {
  public:
    explicit CircuitBreaker(BreakerPolicy policy = {});

    /// Replaces the policy at runtime. Counters are kept; an open period in progress is recomputed
    /// from the new base/cap and the current re-open count.
    void set_policy(BreakerPolicy policy);
    BreakerPolicy policy() const;

    /// Selection filter, no side effects: closed; or open whose period has elapsed (so it can reach
    /// half-open); or half-open with the trial slot free.
    bool would_allow(SteadyTime now) const;

    /// Called just before sending an attempt. Closed -> true. Open with the period elapsed -> moves
    /// to half-open, takes the single trial slot, returns true and reports the transition via *t.
    /// Half-open -> true only if the trial slot is free. Open within its period -> false.
    bool try_acquire(SteadyTime now, std::optional<BreakerTransition>* t = nullptr,
                     BreakerPermit* permit = nullptr);

    /// Fail-open admission (nothing is usable): like try_acquire, but an open breaker
    /// within its period also moves to half-open and takes the trial slot. Still one trial at a
    /// time.
    bool try_acquire_fail_open(SteadyTime now, std::optional<BreakerTransition>* t = nullptr,
                               BreakerPermit* permit = nullptr);

    /// An admitted attempt succeeded. Half-open -> closed (open period back to base); closed -> the
    /// consecutive count resets and the success enters the ratio window. Returns the transition.
    std::optional<BreakerTransition> on_success(SteadyTime now,
                                                const BreakerPermit* permit = nullptr);
    /// An admitted attempt failed. Closed -> counts toward both triggers, may open; half-open ->
    /// open again with the period doubled (capped). Returns the transition if the state changed.
    std::optional<BreakerTransition> on_failure(SteadyTime now,
                                                const BreakerPermit* permit = nullptr);

    /// The admitted attempt ended without a verdict (client cancelled, client's fault): frees the
    /// trial slot so the next request can be the trial. No effect on counters.
    void release(SteadyTime now, const BreakerPermit* permit = nullptr);

    /// Health check passed / operator reset: closed, counters and period reset. Returns the
    /// transition if the state was not already closed.
    std::optional<BreakerTransition> reset(SteadyTime now);

    /// The current state; an open breaker whose period elapsed still reports kOpen until acquired.
    BreakerState state(SteadyTime now) const;
    /// When its current open period started; epoch if it never opened.
    SteadyTime opened_at() const;
    /// Fail-open ordering (oldest first): when it opened, or when its last failed fail-open trial
    /// ended if that is later — so a failed trial moves it to the back of the order without
    /// restarting (or doubling) its open period.
    SteadyTime fail_open_key() const;
    /// The period of the current (or next) open.
    std::chrono::milliseconds open_period() const;

    /// State for persistence; `now_unix_ms` is the system clock at the same instant as `now`.
    BreakerSnapshot snapshot(SteadyTime now, std::int64_t now_unix_ms) const;
    /// Restores persisted state, keeping the time already spent open across the restart. A restored
    /// half-open becomes open with its period elapsed (the trial in flight died with the process).
    void restore(const BreakerSnapshot& s, SteadyTime now, std::int64_t now_unix_ms);

  private:
    static constexpr int kBuckets = 20;  // the ratio window is counted in window/20 slices
    struct Bucket {
        std::int64_t slot = -1;  // bucket index (time / slice width) this bucket currently holds
        int successes = 0;
        int failures = 0;
    };

    std::chrono::milliseconds period_for(int reopens) const;
    std::chrono::nanoseconds slice() const;
    void record(SteadyTime now, bool success);
    void window_counts(SteadyTime now, int* successes, int* failures) const;
    void clear_counters();
    bool acquire(SteadyTime now, bool fail_open, std::optional<BreakerTransition>* t,
                 BreakerPermit* permit);
    bool stale(const BreakerPermit* permit) const;
    BreakerTransition move_to(BreakerState to, SteadyTime now, std::string reason);

    mutable std::mutex mu_;
    BreakerPolicy policy_;
    BreakerState state_ = BreakerState::kClosed;
    std::atomic<bool> closed_{true};  // state_ == kClosed, readable without the mutex
    std::uint64_t epoch_ = 1;         // bumped on every state change
    int consecutive_ = 0;
    Bucket buckets_[kBuckets];
    bool trial_in_flight_ = false;
    // The current half-open trial was a fail-open one, taken before the open period elapsed:
    // if it fails, the breaker re-opens for what was left of that period (no doubling: the open
    // period doubles at most once per period, however many fail-open trials fail in it).
    bool early_trial_ = false;
    SteadyTime early_opened_at_{};
    SteadyTime last_early_failure_{};
    int reopens_ = 0;
    SteadyTime opened_at_{};
    std::chrono::milliseconds open_period_;
};

}  // namespace qcc::upstream
