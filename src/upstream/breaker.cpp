#include "upstream/breaker.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace qcc::upstream {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::string format_duration(milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
    return std::to_string(d.count()) + "ms";
}

// Past this many doublings any sane cap has been reached; bounding it keeps the shift arithmetic
// away from overflow whatever a restored snapshot says.
constexpr int kMaxReopens = 40;

}  // namespace

std::string_view to_string(BreakerState s) {
    switch (s) {
        case BreakerState::kClosed:
            return "closed";
        case BreakerState::kOpen:
            return "open";
        case BreakerState::kHalfOpen:
            return "half_open";
    }
    return "closed";
}

std::optional<BreakerState> breaker_state_from_string(std::string_view s) {
    if (s == "closed") return BreakerState::kClosed;
    if (s == "open") return BreakerState::kOpen;
    if (s == "half_open") return BreakerState::kHalfOpen;
    return std::nullopt;
}

CircuitBreaker::CircuitBreaker(BreakerPolicy policy)
    : policy_(policy), open_period_(period_for(0)) {}

void CircuitBreaker::set_policy(BreakerPolicy policy) {
    std::lock_guard lock(mu_);
    const bool slice_changed = policy.window != policy_.window;
    policy_ = policy;
    // Bucket indices depend on the slice width; old counts cannot be mapped onto new slices.
    if (slice_changed) {
        for (auto& b : buckets_) b = Bucket{};
    }
    open_period_ = period_for(state_ == BreakerState::kClosed ? 0 : reopens_);
}

BreakerPolicy CircuitBreaker::policy() const {
    std::lock_guard lock(mu_);
    return policy_;
}

milliseconds CircuitBreaker::period_for(int reopens) const {
    const milliseconds base = std::max(policy_.open_base, milliseconds(0));
    const milliseconds cap = std::max(policy_.open_max, base);
    milliseconds p = base;
    for (int i = 0; i < reopens && p < cap; ++i) p *= 2;
    return std::min(p, cap);
}

nanoseconds CircuitBreaker::slice() const {
    const nanoseconds w = duration_cast<nanoseconds>(policy_.window);
    return std::max(w / kBuckets, nanoseconds(1));
}

void CircuitBreaker::record(SteadyTime now, bool success) {
    const std::int64_t idx = now.time_since_epoch() / slice();
    Bucket& b = buckets_[static_cast<std::size_t>(((idx % kBuckets) + kBuckets) % kBuckets)];
    if (b.slot != idx) b = Bucket{idx, 0, 0};
    (success ? b.successes : b.failures) += 1;
}

void CircuitBreaker::window_counts(SteadyTime now, int* successes, int* failures) const {
    const std::int64_t idx = now.time_since_epoch() / slice();
    *successes = 0;
    *failures = 0;
    for (const auto& b : buckets_) {
        if (b.slot <= idx && b.slot > idx - kBuckets) {
            *successes += b.successes;
            *failures += b.failures;
        }
    }
}

void CircuitBreaker::clear_counters() {
    consecutive_ = 0;
    for (auto& b : buckets_) b = Bucket{};
}

BreakerTransition CircuitBreaker::move_to(BreakerState to, SteadyTime now, std::string reason) {
    BreakerTransition t{state_, to, std::move(reason)};
    state_ = to;
    closed_.store(to == BreakerState::kClosed, std::memory_order_release);
    ++epoch_;
    trial_in_flight_ = false;
    early_trial_ = false;
    if (to == BreakerState::kOpen) opened_at_ = now;
    // Whatever was counted belongs to the previous state: a closed breaker starts from a clean
    // slate, and an opened one must not re-trip on old counts right after its trial succeeds.
    if (to != BreakerState::kHalfOpen) clear_counters();
    return t;
}

bool CircuitBreaker::stale(const BreakerPermit* permit) const {
    return permit != nullptr && permit->epoch != epoch_;
}

bool CircuitBreaker::would_allow(SteadyTime now) const {
    // Fast path for the common case: selection asks this of every endpoint on every request.
    if (closed_.load(std::memory_order_acquire)) return true;
    std::lock_guard lock(mu_);
    switch (state_) {
        case BreakerState::kClosed:
            return true;
        case BreakerState::kOpen:
            return now - opened_at_ >= open_period_;
        case BreakerState::kHalfOpen:
            return !trial_in_flight_;
    }
    return false;
}

bool CircuitBreaker::acquire(SteadyTime now, bool fail_open, std::optional<BreakerTransition>* t,
                             BreakerPermit* permit) {
    std::lock_guard lock(mu_);
    switch (state_) {
        case BreakerState::kClosed:
            if (permit != nullptr) *permit = BreakerPermit{epoch_, false};
            return true;
        case BreakerState::kOpen: {
            const bool elapsed = now - opened_at_ >= open_period_;
            if (!elapsed && !fail_open) return false;
            const auto opened_at = opened_at_;
            auto tr = move_to(BreakerState::kHalfOpen, now,
                              elapsed ? "open period " + format_duration(open_period_) + " elapsed"
                                      : std::string("fail-open trial"));
            trial_in_flight_ = true;
            early_trial_ = !elapsed;
            early_opened_at_ = opened_at;
            if (t != nullptr) *t = std::move(tr);
            if (permit != nullptr) *permit = BreakerPermit{epoch_, true};
            return true;
        }
        case BreakerState::kHalfOpen:
            if (trial_in_flight_) return false;
            trial_in_flight_ = true;
            if (permit != nullptr) *permit = BreakerPermit{epoch_, true};
            return true;
    }
    return false;
}

bool CircuitBreaker::try_acquire(SteadyTime now, std::optional<BreakerTransition>* t,
                                 BreakerPermit* permit) {
    return acquire(now, false, t, permit);
}

bool CircuitBreaker::try_acquire_fail_open(SteadyTime now, std::optional<BreakerTransition>* t,
                                           BreakerPermit* permit) {
    return acquire(now, true, t, permit);
}

std::optional<BreakerTransition> CircuitBreaker::on_success(SteadyTime now,
                                                            const BreakerPermit* permit) {
    std::lock_guard lock(mu_);
    if (stale(permit)) return std::nullopt;
    switch (state_) {
        case BreakerState::kClosed:
            consecutive_ = 0;
            record(now, true);
            return std::nullopt;
        case BreakerState::kOpen:
            return std::nullopt;
        case BreakerState::kHalfOpen:
            // Without a trial in flight this outcome cannot be the trial's.
            if (!trial_in_flight_) return std::nullopt;
            reopens_ = 0;
            open_period_ = period_for(0);
            return move_to(BreakerState::kClosed, now, "trial succeeded");
    }
    return std::nullopt;
}

std::optional<BreakerTransition> CircuitBreaker::on_failure(SteadyTime now,
                                                            const BreakerPermit* permit) {
    std::lock_guard lock(mu_);
    if (stale(permit)) return std::nullopt;
    switch (state_) {
        case BreakerState::kClosed: {
            ++consecutive_;
            record(now, false);
            if (policy_.consecutive_failures > 0 && consecutive_ >= policy_.consecutive_failures) {
                const int n = consecutive_;
                reopens_ = 0;
                open_period_ = period_for(0);
                return move_to(BreakerState::kOpen, now,
                               std::to_string(n) + " consecutive failures");
            }
            int ok = 0;
            int failed = 0;
            window_counts(now, &ok, &failed);
            const int total = ok + failed;
            const bool ratio_on = policy_.min_volume > 0 && policy_.failure_ratio > 0.0 &&
                                  policy_.failure_ratio <= 1.0;
            if (ratio_on && total >= policy_.min_volume &&
                static_cast<double>(failed) >= policy_.failure_ratio * total) {
                reopens_ = 0;
                open_period_ = period_for(0);
                const long pct = std::lround(100.0 * failed / total);
                return move_to(BreakerState::kOpen, now,
                               "failure ratio " + std::to_string(pct) + "% over " +
                                   std::to_string(total) + " attempts in " +
                                   format_duration(policy_.window));
            }
            return std::nullopt;
        }
        case BreakerState::kOpen:
            return std::nullopt;
        case BreakerState::kHalfOpen: {
            if (!trial_in_flight_) return std::nullopt;
            if (early_trial_) {
                // Back to the open period it interrupted, unchanged.
                const auto opened_at = early_opened_at_;
                auto tr = move_to(BreakerState::kOpen, now,
                                  "fail-open trial failed; still open (period " +
                                      format_duration(open_period_) + ")");
                opened_at_ = opened_at;
                last_early_failure_ = now;
                return tr;
            }
            reopens_ = std::min(reopens_ + 1, kMaxReopens);
            open_period_ = period_for(reopens_);
            return move_to(BreakerState::kOpen, now,
                           "trial failed; open for " + format_duration(open_period_));
        }
    }
    return std::nullopt;
}

void CircuitBreaker::release(SteadyTime /*now*/, const BreakerPermit* permit) {
    std::lock_guard lock(mu_);
    if (stale(permit)) return;
    if (permit != nullptr && !permit->trial) return;
    if (state_ == BreakerState::kHalfOpen) trial_in_flight_ = false;
}

std::optional<BreakerTransition> CircuitBreaker::reset(SteadyTime now) {
    std::lock_guard lock(mu_);
    reopens_ = 0;
    open_period_ = period_for(0);
    if (state_ == BreakerState::kClosed) {
        clear_counters();
        return std::nullopt;
    }
    return move_to(BreakerState::kClosed, now, "reset");
}

BreakerState CircuitBreaker::state(SteadyTime /*now*/) const {
    std::lock_guard lock(mu_);
    return state_;
}

SteadyTime CircuitBreaker::fail_open_key() const {
    std::lock_guard lock(mu_);
    return std::max(opened_at_, last_early_failure_);
}

SteadyTime CircuitBreaker::opened_at() const {
    std::lock_guard lock(mu_);
    return opened_at_;
}

milliseconds CircuitBreaker::open_period() const {
    std::lock_guard lock(mu_);
    return open_period_;
}

BreakerSnapshot CircuitBreaker::snapshot(SteadyTime now, std::int64_t now_unix_ms) const {
    std::lock_guard lock(mu_);
    BreakerSnapshot s;
    s.state = state_;
    s.open_for_ms = open_period_.count();
    s.reopens = reopens_;
    if (state_ != BreakerState::kClosed) {
        s.opened_at_unix_ms = now_unix_ms - duration_cast<milliseconds>(now - opened_at_).count();
    }
    return s;
}

void CircuitBreaker::restore(const BreakerSnapshot& s, SteadyTime now, std::int64_t now_unix_ms) {
    std::lock_guard lock(mu_);
    clear_counters();
    trial_in_flight_ = false;
    ++epoch_;
    if (s.state != BreakerState::kOpen && s.state != BreakerState::kHalfOpen) {
        state_ = BreakerState::kClosed;
        closed_.store(true, std::memory_order_release);
        reopens_ = 0;
        open_period_ = period_for(0);
        return;
    }
    state_ = BreakerState::kOpen;
    closed_.store(false, std::memory_order_release);
    reopens_ = std::clamp(s.reopens, 0, kMaxReopens);
    open_period_ = s.open_for_ms > 0 ? milliseconds(s.open_for_ms) : period_for(reopens_);
    // A wall clock that stepped backwards must not stretch the open period.
    milliseconds elapsed(std::max<std::int64_t>(0, now_unix_ms - s.opened_at_unix_ms));
    if (s.state == BreakerState::kHalfOpen) elapsed = std::max(elapsed, open_period_);
    opened_at_ = now - elapsed;
}

}  // namespace qcc::upstream
