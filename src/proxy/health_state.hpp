// HealthState: the endpoints' shared health, updated by every worker and read by control and the
// admin API. It holds what outlives one request: each endpoint's EndpointState (breaker, cooldown,
// quarantine, passive statistics), the session affinity table, the process-wide retry budget,
// counters, and the queue of state changes the control loop persists. Thread-safe; never blocks
// for long (atomics, sharded tables, one small mutex around the event queue).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "upstream/affinity.hpp"
#include "upstream/breaker.hpp"
#include "upstream/endpoint.hpp"
#include "upstream/endpoint_set.hpp"
#include "upstream/retry_budget.hpp"

namespace qcc::proxy {

struct Policy;

/// A health state change (breaker open/half-open/close, cooldown start/end, quarantine/release,
/// re-pin): logged once, counted, persisted by the control loop.
struct StateEvent {
    std::int64_t ts_unix_ms = 0;
    std::string endpoint;
    std::string kind;
    std::string detail;
};

/// Hears every state change as it happens, on whatever thread caused it. Must not block.
class StateListener {
  public:
    virtual ~StateListener() = default;
    virtual void on_state_event(const StateEvent& event) = 0;
};

/// Process-wide request counters (since start).
struct Counters {
    std::atomic<std::uint64_t> requests{0}, failovers{0}, client_cancels{0}, mid_stream_failures{0},
        unauthorized{0}, in_flight{0}, retries_denied{0}, repins{0}, breaker_opens{0},
        breaker_half_opens{0}, breaker_closes{0}, cooldowns{0}, cooldown_ends{0}, quarantines{0},
        releases{0}, fail_open{0}, events_dropped{0};
};

class HealthState {
  public:
    /// `clock` (null: the steady clock) drives breakers, cooldowns and affinity TTLs; `listener`
    /// (may be null) hears each state change after it is queued.
    explicit HealthState(const Clock* clock = nullptr, StateListener* listener = nullptr);
    HealthState(const HealthState&) = delete;
    HealthState& operator=(const HealthState&) = delete;

    SteadyTime now() const { return clock_->now(); }
    /// Wall-clock milliseconds consistent with now() (moves with a FakeClock).
    std::int64_t unix_ms() const;
    /// Converts a steady time to Unix milliseconds and back (persisted deadlines).
    std::int64_t to_unix_ms(SteadyTime t) const;
    SteadyTime from_unix_ms(std::int64_t ms) const;

    upstream::StateRegistry& states() { return states_; }
    upstream::AffinityTable& affinity() { return affinity_; }
    /// The process-wide retry budget.
    std::shared_ptr<upstream::RetryBudget> retry_budget() const {
        return retry_budget_.load(std::memory_order_acquire);
    }
    Counters& counters() { return counters_; }
    const Counters& counters() const { return counters_; }

    /// Makes breakers, affinity and the retry budget follow `policy` (control, on a reload).
    void apply_policy(const Policy& policy, const upstream::EndpointSet& set);

    /// Logs, counts, queues (bounded: a full queue drops the oldest and counts it) and announces
    /// a state change. Never blocks.
    void emit(std::string endpoint, std::string kind, std::string detail);
    /// Takes every queued event (control loop).
    std::vector<StateEvent> drain_events();

    /// Lifts quarantine, ends the cooldown and resets the breaker. Returns whether the endpoint
    /// was quarantined.
    bool release(const upstream::Endpoint& ep, const std::string& why);
    /// Quarantines the endpoint (failed authentication or billing, or an operator); no-op when it
    /// already is.
    void quarantine(const upstream::Endpoint& ep, const std::string& why);
    /// Starts or extends the endpoint's cooldown to now + `d`, reporting its start (and the end of
    /// an earlier one the control loop has not reported yet).
    void cool_down(const upstream::Endpoint& ep, std::chrono::milliseconds d, std::string_view why);
    /// Reports a breaker transition (and marks the state for persistence).
    void report(const upstream::Endpoint& ep, const upstream::BreakerTransition& t);
    /// Binds `session` to `ep` after a commit; a move to another endpoint is a re-pin event.
    /// `planned_with` is the endpoint the session was bound to when the request chose `ep`: when
    /// that is `ep`, the request only used its binding and refreshes it, leaving alone a binding
    /// changed meanwhile (by another instance's re-pin, or another request's).
    void bind_session(std::string_view session, const upstream::Endpoint& ep,
                      std::string_view planned_with = {});

  private:
    const Clock* clock_;
    SteadyTime base_steady_;
    std::int64_t base_unix_ms_;
    StateListener* listener_;
    upstream::StateRegistry states_;
    upstream::AffinityTable affinity_;
    std::atomic<std::shared_ptr<upstream::RetryBudget>> retry_budget_{
        std::make_shared<upstream::RetryBudget>()};
    Counters counters_;
    std::mutex events_mu_;
    std::deque<StateEvent> events_;
};

}  // namespace qcc::proxy
