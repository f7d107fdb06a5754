// Runtime: the state every worker shares. Read-mostly parts are immutable snapshots swapped
// atomically; counters are atomics; the few shared mutable tables (session bindings, the event
// queue) are sharded or guarded by small mutexes and touched a few times per request at most.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "proxy/event_hub.hpp"
#include "proxy/policy.hpp"
#include "proxy/request_ctx.hpp"
#include "store/store.hpp"
#include "upstream/affinity.hpp"
#include "upstream/checker.hpp"
#include "upstream/endpoint_set.hpp"
#include "upstream/retry_budget.hpp"

namespace qcc::metrics {
class Registry;
}
namespace qcc::store {
class RequestWriter;
}

namespace qcc::proxy {

/// A client key as the data path sees it: the name and the SHA-256 hex of the key.
struct ClientKey {
    std::string name;
    std::string hash;
};
using KeySet = std::vector<ClientKey>;

/// A health state change (breaker open/half-open/close, cooldown start/end, quarantine/release,
/// re-pin): logged once, counted, persisted by the control thread.
struct StateEvent {
    std::int64_t ts_unix_ms = 0;
    std::string endpoint;
    std::string kind;
    std::string detail;
};

/// Upstream connections of one endpoint in one worker's pool (sampled by the worker's sweeper).
struct PoolStat {
    std::string endpoint;
    int open = 0;
    std::size_t idle = 0;
};

struct Counters {
    std::atomic<std::uint64_t> requests{0}, failovers{0}, client_cancels{0}, mid_stream_failures{0},
        unauthorized{0}, in_flight{0}, retries_denied{0}, repins{0}, breaker_opens{0},
        breaker_half_opens{0}, breaker_closes{0}, cooldowns{0}, cooldown_ends{0}, quarantines{0},
        releases{0}, fail_open{0}, events_dropped{0};
};

class Runtime {
  public:
    /// `clock` (may be null: the steady clock) drives breakers, cooldowns and affinity TTLs.
    explicit Runtime(config::Config cfg, const Clock* clock = nullptr);
    ~Runtime();

    const config::Config& config() const { return cfg_; }
    SteadyTime now() const { return clock_->now(); }
    /// Wall-clock milliseconds consistent with now() (moves with a FakeClock).
    std::int64_t unix_ms() const;
    /// Converts a steady time to Unix milliseconds and back (persisted deadlines).
    std::int64_t to_unix_ms(SteadyTime t) const;
    SteadyTime from_unix_ms(std::int64_t ms) const;

    std::shared_ptr<const upstream::EndpointSet> endpoints() const {
        return endpoints_.load(std::memory_order_acquire);
    }
    void set_endpoints(std::shared_ptr<const upstream::EndpointSet> set) {
        endpoints_.store(std::move(set), std::memory_order_release);
    }
    std::shared_ptr<const KeySet> keys() const { return keys_.load(std::memory_order_acquire); }
    void set_keys(std::shared_ptr<const KeySet> keys) {
        keys_.store(std::move(keys), std::memory_order_release);
    }
    std::shared_ptr<const Policy> policy() const { return policy_.load(std::memory_order_acquire); }
    /// Installs a new policy: breakers, affinity and the retry budget follow it.
    void set_policy(std::shared_ptr<const Policy> policy);

    /// The key's name if `presented` matches a client key (constant-time per stored hash).
    std::optional<std::string> authenticate(std::string_view presented) const;

    upstream::AffinityTable& affinity() { return affinity_; }
    /// The process-wide retry budget (SPEC §4).
    std::shared_ptr<upstream::RetryBudget> retry_budget() const {
        return retry_budget_.load(std::memory_order_acquire);
    }

    /// Logs, counts and queues a state change (never blocks; a full queue drops and counts).
    void emit(std::string endpoint, std::string kind, std::string detail);
    /// Takes every queued event (control thread).
    std::vector<StateEvent> drain_events();

    /// Releases an endpoint: quarantine lifted, cooldown ended, breaker reset. Returns whether it
    /// was quarantined. Safe from any thread.
    bool release_endpoint(const upstream::Endpoint& ep, const std::string& why);
    /// Quarantines an endpoint (operator, failed authentication or billing). Safe from any thread.
    void quarantine_endpoint(const upstream::Endpoint& ep, const std::string& why);

    /// Records a health-check result (queued for the store) and applies it: a pass releases a
    /// quarantined or broken endpoint and resets its breaker (SPEC §7). Safe from any thread.
    void record_check(const upstream::Endpoint& ep, const upstream::CheckResult& r);
    /// Health-check results waiting to be written to the store by the control thread.
    void push_health_check(store::HealthCheckRecord record);
    std::vector<store::HealthCheckRecord> drain_health_checks();

    /// Called on the worker thread when a request ends; must not block (queue the work). The
    /// context is finished with: the callee may move its strings out.
    std::function<void(RequestContext&)> on_request_done;

    upstream::StateRegistry& states() { return states_; }
    Counters& counters() { return counters_; }
    std::atomic<bool> draining{false};

    /// The store (set by the Gateway before start). Blocking: never call it on a worker thread —
    /// go through admin_pool() (see proxy/admin_util.hpp run_blocking).
    store::Store* store = nullptr;
    /// The request-log writer (set by the Gateway; null in tests that run without one).
    store::RequestWriter* writer = nullptr;
    /// One thread for blocking admin work (store reads and writes on behalf of the admin API).
    boost::asio::thread_pool& admin_pool() { return *admin_pool_; }
    /// Asks the control thread to reload endpoints, keys and settings from the store now (the
    /// admin API calls it after a write). Set by the Gateway; no-op when unset.
    std::function<void()> reload_hook;
    void request_reload() const {
        if (reload_hook) reload_hook();
    }
    /// Prometheus metrics (SPEC §11); handles are resolved when endpoints are (re)loaded.
    metrics::Registry& metrics() { return *metrics_; }
    /// Live events for GET /api/events.
    EventHub& hub() { return hub_; }
    /// Pool sizes: each worker reports its own; pool_stats() sums them per endpoint.
    void set_pool_stats(int worker, std::vector<PoolStat> stats);
    std::vector<PoolStat> pool_stats() const;
    /// When the runtime was created (uptime).
    std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  private:
    config::Config cfg_;
    const Clock* clock_;
    SteadyTime base_steady_;
    std::int64_t base_unix_ms_;
    std::atomic<std::shared_ptr<const upstream::EndpointSet>> endpoints_{
        std::make_shared<const upstream::EndpointSet>()};
    std::atomic<std::shared_ptr<const KeySet>> keys_{std::make_shared<const KeySet>()};
    std::atomic<std::shared_ptr<const Policy>> policy_{std::make_shared<const Policy>()};
    std::atomic<std::shared_ptr<upstream::RetryBudget>> retry_budget_{
        std::make_shared<upstream::RetryBudget>()};
    upstream::AffinityTable affinity_;
    upstream::StateRegistry states_;
    Counters counters_;
    std::mutex events_mu_;
    std::deque<StateEvent> events_;
    std::deque<store::HealthCheckRecord> health_checks_;
    mutable std::mutex pool_mu_;
    std::map<int, std::vector<PoolStat>> pool_stats_;
    std::unique_ptr<metrics::Registry> metrics_;
    EventHub hub_;
    std::unique_ptr<boost::asio::thread_pool> admin_pool_;
};

}  // namespace qcc::proxy
