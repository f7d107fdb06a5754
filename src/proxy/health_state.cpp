#include "proxy/health_state.hpp"

#include "common/log.hpp"
#include "proxy/policy.hpp"

namespace qcc::proxy {

namespace {

constexpr std::size_t kMaxQueuedEvents = 10'000;

std::int64_t system_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::atomic<std::uint64_t>* counter_of(Counters& c, std::string_view kind) {
    if (kind == "breaker_open") return &c.breaker_opens;
    if (kind == "breaker_half_open") return &c.breaker_half_opens;
    if (kind == "breaker_closed") return &c.breaker_closes;
    if (kind == "cooldown_start") return &c.cooldowns;
    if (kind == "cooldown_end") return &c.cooldown_ends;
    if (kind == "quarantine") return &c.quarantines;
    if (kind == "release") return &c.releases;
    if (kind == "repin") return &c.repins;
    return nullptr;
}

}  // namespace

HealthState::HealthState(const Clock* clock, StateListener* listener)
    : clock_(clock != nullptr ? clock : &SteadyClock::instance()),
      base_steady_(clock_->now()),
      base_unix_ms_(system_unix_ms()),
      listener_(listener) {}

std::int64_t HealthState::unix_ms() const { return to_unix_ms(now()); }

std::int64_t HealthState::to_unix_ms(SteadyTime t) const {
    return base_unix_ms_ +
           std::chrono::duration_cast<std::chrono::milliseconds>(t - base_steady_).count();
}

SteadyTime HealthState::from_unix_ms(std::int64_t ms) const {
    return base_steady_ + std::chrono::milliseconds(ms - base_unix_ms_);
}

void HealthState::apply_policy(const Policy& policy, const upstream::EndpointSet& set) {
    const auto& b = policy.retry_budget;
    const auto budget = retry_budget();
    if (!budget || budget->policy().ratio != b.ratio || budget->policy().window != b.window ||
        budget->policy().min_per_second != b.min_per_second || budget->policy().burst != b.burst) {
        retry_budget_.store(std::make_shared<upstream::RetryBudget>(b));
    }
    affinity_.set_policy(policy.affinity);
    for (const auto& ep : set.endpoints) ep->state->breaker.set_policy(policy.breaker);
}

void HealthState::emit(std::string endpoint, std::string kind, std::string detail) {
    if (kind == "repin") {
        spdlog::info("session re-pinned to endpoint {}: {}", endpoint, detail);
    } else {
        spdlog::warn("endpoint {}: {}: {}", endpoint, kind, detail);
    }
    if (auto* count = counter_of(counters_, kind)) count->fetch_add(1, std::memory_order_relaxed);
    StateEvent event{unix_ms(), std::move(endpoint), std::move(kind), std::move(detail)};
    if (listener_ != nullptr) listener_->on_state_event(event);
    std::lock_guard lock(events_mu_);
    if (events_.size() >= kMaxQueuedEvents) {
        events_.pop_front();
        counters_.events_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    events_.push_back(std::move(event));
}

std::vector<StateEvent> HealthState::drain_events() {
    std::lock_guard lock(events_mu_);
    std::vector<StateEvent> out(std::make_move_iterator(events_.begin()),
                                std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
}

bool HealthState::release(const upstream::Endpoint& ep, const std::string& why) {
    auto& s = *ep.state;
    const bool was_quarantined = s.quarantined.exchange(false);
    s.set_quarantine_reason("");
    s.cooldown_until_ns = 0;
    if (auto t = s.breaker.reset(now())) emit(ep.cfg.name, "breaker_closed", t->reason);
    s.dirty = true;
    if (was_quarantined) emit(ep.cfg.name, "release", why);
    return was_quarantined;
}

void HealthState::quarantine(const upstream::Endpoint& ep, const std::string& why) {
    auto& s = *ep.state;
    if (!s.quarantined.exchange(true)) {
        s.set_quarantine_reason(why);
        s.dirty = true;
        emit(ep.cfg.name, "quarantine", why);
    }
}

void HealthState::cool_down(const upstream::Endpoint& ep, std::chrono::milliseconds d,
                            std::string_view why) {
    auto& s = *ep.state;
    const auto now_ns = now().time_since_epoch().count();
    const auto until = now_ns + std::chrono::nanoseconds(d).count();
    auto prev = s.cooldown_until_ns.load(std::memory_order_relaxed);
    while (prev < until && !s.cooldown_until_ns.compare_exchange_weak(prev, until)) {
    }
    if (prev != 0 && prev <= now_ns) {
        // The previous cooldown ended but the control loop has not reported it yet.
        emit(ep.cfg.name, "cooldown_end", s.cooldown_reason());
    }
    if (prev < until) {
        s.set_cooldown_reason(std::string(why));
        s.dirty = true;
    }
    if (prev <= now_ns) {
        emit(ep.cfg.name, "cooldown_start",
             std::string(why) + " for " + std::to_string(d.count()) + " ms");
    }
}

void HealthState::report(const upstream::Endpoint& ep, const upstream::BreakerTransition& t) {
    using upstream::BreakerState;
    const char* kind = t.to == BreakerState::kOpen       ? "breaker_open"
                       : t.to == BreakerState::kHalfOpen ? "breaker_half_open"
                                                         : "breaker_closed";
    ep.state->dirty = true;
    emit(ep.cfg.name, kind, t.reason);
}

void HealthState::bind_session(std::string_view session, const upstream::Endpoint& ep,
                               std::string_view planned_with) {
    // Bound at the first successful commit, refreshed on every use; a move is a re-pin.
    if (session.empty()) return;
    if (!planned_with.empty() && planned_with == ep.id) {
        affinity_.touch(session, ep.id, unix_ms());
        return;
    }
    if (affinity_.bind(session, ep.id, unix_ms())) {
        emit(ep.cfg.name, "repin", "session " + std::string(session));
    }
}

}  // namespace qcc::proxy
