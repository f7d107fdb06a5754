#include "proxy/runtime.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"

namespace qcc::proxy {

namespace {
constexpr std::size_t kMaxQueuedEvents = 10'000;

std::int64_t system_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

Runtime::Runtime(config::Config cfg, const Clock* clock)
    : cfg_(std::move(cfg)),
      clock_(clock != nullptr ? clock : &SteadyClock::instance()),
      base_steady_(clock_->now()),
      base_unix_ms_(system_unix_ms()),
      metrics_(std::make_unique<metrics::Registry>()),
      admin_pool_(std::make_unique<boost::asio::thread_pool>(1)) {}

Runtime::~Runtime() { admin_pool_->join(); }

std::int64_t Runtime::unix_ms() const { return to_unix_ms(now()); }

std::int64_t Runtime::to_unix_ms(SteadyTime t) const {
    return base_unix_ms_ +
           std::chrono::duration_cast<std::chrono::milliseconds>(t - base_steady_).count();
}

SteadyTime Runtime::from_unix_ms(std::int64_t ms) const {
    return base_steady_ + std::chrono::milliseconds(ms - base_unix_ms_);
}

void Runtime::set_pool_stats(int worker, std::vector<PoolStat> stats) {
    std::lock_guard lock(pool_mu_);
    pool_stats_[worker] = std::move(stats);
}

std::vector<PoolStat> Runtime::pool_stats() const {
    std::lock_guard lock(pool_mu_);
    std::vector<PoolStat> out;
    for (const auto& [worker, stats] : pool_stats_) {
        for (const auto& s : stats) {
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const PoolStat& o) { return o.endpoint == s.endpoint; });
            if (it == out.end()) {
                out.push_back(s);
            } else {
                it->open += s.open;
                it->idle += s.idle;
            }
        }
    }
    return out;
}

void Runtime::set_policy(std::shared_ptr<const Policy> policy) {
    const auto old = this->policy();
    if (!old || old->retry_budget.ratio != policy->retry_budget.ratio ||
        old->retry_budget.window != policy->retry_budget.window ||
        old->retry_budget.min_per_second != policy->retry_budget.min_per_second) {
        retry_budget_.store(std::make_shared<upstream::RetryBudget>(policy->retry_budget));
    }
    affinity_.set_policy(policy->affinity);
    for (const auto& ep : endpoints()->endpoints) ep->state->breaker.set_policy(policy->breaker);
    policy_.store(std::move(policy), std::memory_order_release);
}

std::optional<std::string> Runtime::authenticate(std::string_view presented) const {
    if (presented.empty()) return std::nullopt;
    const auto keys = this->keys();
    const auto hash = crypto::hash_client_key(presented);
    std::optional<std::string> found;
    for (const auto& k : *keys) {
        // Compare against every key so timing does not reveal which one matched.
        if (crypto::constant_time_equal(hash, k.hash) && !found) found = k.name;
    }
    return found;
}

void Runtime::emit(std::string endpoint, std::string kind, std::string detail) {
    if (kind == "repin") {
        spdlog::info("session re-pinned to endpoint {}: {}", endpoint, detail);
    } else {
        spdlog::warn("endpoint {}: {}: {}", endpoint, kind, detail);
    }
    auto count = [&]() -> std::atomic<std::uint64_t>* {
        if (kind == "breaker_open") return &counters_.breaker_opens;
        if (kind == "breaker_half_open") return &counters_.breaker_half_opens;
        if (kind == "breaker_closed") return &counters_.breaker_closes;
        if (kind == "cooldown_start") return &counters_.cooldowns;
        if (kind == "cooldown_end") return &counters_.cooldown_ends;
        if (kind == "quarantine") return &counters_.quarantines;
        if (kind == "release") return &counters_.releases;
        if (kind == "repin") return &counters_.repins;
        return nullptr;
    }();
    if (count != nullptr) count->fetch_add(1, std::memory_order_relaxed);
    const auto ts = unix_ms();
    if (hub_.has_subscribers()) {
        boost::json::object o;
        o["ts"] = ts;
        o["endpoint"] = endpoint;
        o["kind"] = kind;
        o["detail"] = detail;
        hub_.publish("state", boost::json::serialize(o));
    }
    std::lock_guard lock(events_mu_);
    if (events_.size() >= kMaxQueuedEvents) {
        events_.pop_front();
        counters_.events_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    events_.push_back(StateEvent{ts, std::move(endpoint), std::move(kind), std::move(detail)});
}

bool Runtime::release_endpoint(const upstream::Endpoint& ep, const std::string& why) {
    auto& s = *ep.state;
    const bool was_quarantined = s.quarantined.exchange(false);
    s.set_quarantine_reason("");
    s.cooldown_until_ns = 0;
    if (auto t = s.breaker.reset(now())) emit(ep.cfg.name, "breaker_closed", t->reason);
    s.dirty = true;
    if (was_quarantined) emit(ep.cfg.name, "release", why);
    return was_quarantined;
}

void Runtime::quarantine_endpoint(const upstream::Endpoint& ep, const std::string& why) {
    auto& s = *ep.state;
    if (!s.quarantined.exchange(true)) {
        s.set_quarantine_reason(why);
        s.dirty = true;
        emit(ep.cfg.name, "quarantine", why);
    }
}

void Runtime::record_check(const upstream::Endpoint& ep, const upstream::CheckResult& r) {
    store::HealthCheckRecord rec;
    rec.ts_unix_ms = unix_ms();
    rec.endpoint = ep.cfg.name;
    rec.method = r.method;
    rec.result = r.result;
    rec.valid = r.valid;
    rec.score = r.score;
    rec.latency_ms = r.latency_ms;
    rec.model = r.model;
    rec.input_tokens = r.input_tokens;
    rec.output_tokens = r.output_tokens;
    rec.error = r.error;
    if (hub_.has_subscribers()) {
        boost::json::object o;
        o["ts"] = rec.ts_unix_ms;
        o["endpoint"] = rec.endpoint;
        o["method"] = rec.method;
        o["result"] = rec.result;
        o["score"] = rec.score;
        o["latency_ms"] = rec.latency_ms;
        o["error"] = rec.error;
        hub_.publish("check", boost::json::serialize(o));
    }
    push_health_check(std::move(rec));
    const bool broken = ep.state->quarantined.load() ||
                        ep.state->breaker.state(now()) != upstream::BreakerState::kClosed;
    if (r.result == "pass") {
        if (broken) {
            release_endpoint(ep, "health check passed (" + r.method + ", score " +
                                     std::to_string(r.score) + ")");
        }
    } else {
        spdlog::info("endpoint {}: health check {} {}: {}", ep.cfg.name, r.method, r.result,
                     r.error.empty() ? "the reply did not contain the code" : r.error);
    }
}

void Runtime::push_health_check(store::HealthCheckRecord record) {
    std::lock_guard lock(events_mu_);
    if (health_checks_.size() >= kMaxQueuedEvents) health_checks_.pop_front();
    health_checks_.push_back(std::move(record));
}

std::vector<store::HealthCheckRecord> Runtime::drain_health_checks() {
    std::lock_guard lock(events_mu_);
    std::vector<store::HealthCheckRecord> out(std::make_move_iterator(health_checks_.begin()),
                                              std::make_move_iterator(health_checks_.end()));
    health_checks_.clear();
    return out;
}

std::vector<StateEvent> Runtime::drain_events() {
    std::lock_guard lock(events_mu_);
    std::vector<StateEvent> out(std::make_move_iterator(events_.begin()),
                                std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
}

}  // namespace qcc::proxy
