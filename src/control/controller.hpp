// Controller: the gateway's control side. It owns the store-facing work the data plane must never
// do: loading endpoints, keys and settings into snapshots (and again within a second of any
// change), restoring and persisting endpoint state and session bindings, adaptive weights, the
// recovery loop's health checks, retention cleanup, and the admin API's services (ControlApi).
// One control thread runs tick() every second; nothing here runs on a proxy worker.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/thread_pool.hpp>

#include "config/config.hpp"
#include "control/api.hpp"
#include "control/check_service.hpp"
#include "control/observer.hpp"
#include "proxy/health_state.hpp"
#include "proxy/snapshots.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"

namespace qcc::control {

/// Builds the policy from the store's settings; invalid stored values keep their default and are
/// reported in `warnings` (key: message).
proxy::Policy load_policy(store::ConfigStore& store, std::vector<std::string>* warnings = nullptr);

/// What the Controller is given by the composition root.
struct ControllerDeps {
    const config::Config& config;
    store::Store& store;
    proxy::Snapshots& snapshots;
    proxy::HealthState& health;
    Observer& observer;                  // resolves metric handles on every reload
    const store::RequestWriter& writer;  // for status figures
    /// Hears every recorded health check (on the check thread); may be empty.
    std::function<void(const store::HealthCheckRecord&)> on_check;
};

class Controller final : public ControlApi {
  public:
    explicit Controller(ControllerDeps deps);
    /// stop().
    ~Controller() override;
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    /// Upserts the config file's [[endpoints]] and [[keys]] into the store (by name).
    void seed_from_config();
    /// Restores persisted endpoint state and session bindings, starts the check thread, runs the
    /// start-up checks when warmup.check is on, then starts the control thread.
    void start();
    /// Final persistence of state and bindings; stops the threads. Idempotent. Call after the
    /// data plane stopped, so no late state change is lost.
    void stop();
    /// One control pass now (tests; the control thread does this every second).
    void tick();
    /// What another instance announced (a configuration change, endpoint signals), applied now:
    /// the control thread does this when the store announces a change, between its passes.
    void pick_up_changes();
    /// Where this instance listens (host:port), for the fleet registry; set once it is bound.
    void set_address(std::string address);
    /// The endpoints to warm up at start (enabled ones).
    std::vector<std::shared_ptr<const upstream::Endpoint>> enabled_endpoints() const;

    // ControlApi
    store::Store& store() override { return deps_.store; }
    boost::asio::thread_pool& admin_pool() override { return admin_pool_; }
    const proxy::Snapshots& snapshots() const override { return deps_.snapshots; }
    proxy::HealthState& health() override { return deps_.health; }
    StatusFigures figures() const override;
    std::string config_file() const override;
    void reload() override;
    std::optional<bool> release(std::string_view endpoint, const std::string& why) override;
    void on_fleet_sync(std::function<void(store::Store&)> sync) override {
        fleet_sync_ = std::move(sync);
    }
    bool quarantine(std::string_view endpoint, const std::string& why) override;
    boost::asio::awaitable<std::vector<upstream::CheckResult>> run_checks(
        std::vector<std::shared_ptr<const upstream::Endpoint>> targets,
        std::optional<upstream::CheckMethod> method) override;

  private:
    void reload_locked();
    void control_loop();
    void restore_state();
    void persist_state(bool force);
    void persist_bindings();
    void persist_unauthorized();
    void update_adaptive_weights(const proxy::Policy& policy, SteadyTime now);
    void schedule_recovery(const proxy::Policy& policy, SteadyTime now);
    void schedule_checks(const std::vector<std::shared_ptr<const upstream::Endpoint>>& eps);
    void on_check(const upstream::Endpoint& ep, const upstream::CheckResult& r);
    void run_cleanup();
    void heartbeat(SteadyTime now);
    void apply_signals();
    /// Starts listener_ where the store announces changes.
    void start_listener();
    /// persist_state() now, on the caller's thread (admin pool).
    void persist_now();
    /// Budgets from the shared request log, and fleet_sync_, every 2 s while not alone.
    void sync_with_fleet(SteadyTime now);
    /// The shared-state signals for the differences between what was last saved and `rec`.
    void signal_changes(const store::EndpointStateRecord* prev,
                        const store::EndpointStateRecord& rec,
                        std::vector<store::SignalRecord>& out) const;
    /// "bind" signals for the sessions re-pinned here (so that other instances move them too).
    void signal_repins(const std::vector<proxy::StateEvent>& events,
                       std::vector<store::SignalRecord>& out) const;

    ControllerDeps deps_;
    boost::asio::thread_pool admin_pool_{1};
    std::unique_ptr<CheckService> checks_;
    std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
    std::thread control_;
    std::thread listener_;  // waits for the store's change announcements (PostgreSQL)
    std::mutex mu_;         // guards stopping_ and announced_
    std::mutex tick_mu_;    // serializes tick(), reload() and the final persistence
    std::condition_variable cv_;
    bool stopping_ = false;
    bool announced_ = false;  // the store announced a change since the control thread last looked
    bool started_ = false;
    std::uint64_t failed_ticks_ = 0;  // consecutive failed ticks (control thread only)
    std::int64_t seen_version_ = -1;
    std::uint64_t generation_ = 0;
    SteadyTime next_cleanup_{};
    SteadyTime last_sweep_{};
    SteadyTime last_adaptive_{};
    SteadyTime last_recovery_{};
    SteadyTime last_health_{};
    std::map<std::string, store::EndpointStateRecord> saved_states_;
    // Each client key's meter, by name: kept across reloads so that its counts survive key edits.
    std::map<std::string, std::shared_ptr<proxy::KeyMeter>> meters_;
    std::shared_ptr<const proxy::KeySet> build_keys(store::Store& st);
    // Counters::unauthorized already counted in the store.
    std::uint64_t saved_unauthorized_ = 0;
    // The fleet: instances sharing the store register with a heartbeat, pass each other their
    // cooldowns, quarantines and releases as signals, and divide per-key rate limits.
    const std::string instance_id_;
    std::int64_t started_unix_ms_ = 0;
    mutable std::mutex fleet_mu_;  // guards address_ and fleet_
    std::string address_;
    std::vector<store::InstanceRecord> fleet_;
    int fleet_size_ = 1;
    SteadyTime last_heartbeat_{};
    SteadyTime last_fleet_sync_{};
    std::function<void(store::Store&)> fleet_sync_;
    std::map<std::int64_t, std::int64_t> applied_signals_;  // signal id → its time (Unix ms)
    std::mutex checks_mu_;  // health-check results waiting for the store
    std::vector<store::HealthCheckRecord> pending_checks_;
};

}  // namespace qcc::control
