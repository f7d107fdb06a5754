// ControlApi: the narrow door through which the admin API reaches the running gateway — the
// services it may use (the store, on the admin thread pool), the state it may read (snapshots,
// endpoint health, status figures) and the actions it may take (reload, release, quarantine, run
// health checks). Admin never sees a worker, a pool or the control loop itself.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "proxy/health_state.hpp"
#include "proxy/snapshots.hpp"
#include "store/records.hpp"
#include "store/store.hpp"
#include "upstream/checker.hpp"

namespace qcc::control {

/// Process-wide figures for GET /api/status.
struct StatusFigures {
    std::int64_t uptime_s = 0;
    std::uint64_t requests = 0, in_flight = 0, failovers = 0, repins = 0;
    std::uint64_t log_rows_dropped = 0;
    std::size_t sessions = 0;
    /// This process's id in the fleet registry, and every live instance sharing the store (this
    /// one included; heartbeat within the last 15 s), by id.
    std::string instance_id;
    std::vector<store::InstanceRecord> fleet;
};

class ControlApi {
  public:
    virtual ~ControlApi() = default;

    /// The store. Blocking: use it only on admin_pool().
    virtual store::Store& store() = 0;
    /// The thread pool for blocking admin work (store reads and writes).
    virtual boost::asio::thread_pool& admin_pool() = 0;

    virtual const proxy::Snapshots& snapshots() const = 0;
    virtual proxy::HealthState& health() = 0;
    virtual StatusFigures figures() const = 0;

    /// The config file the server started from ("" when it started without one).
    virtual std::string config_file() const = 0;
    /// Re-reads endpoints, keys and settings from the store now, so the caller's answer (and the
    /// next proxied request) already sees its write. Blocking: admin pool only.
    virtual void reload() = 0;
    /// Releases the named endpoint (quarantine lifted, cooldown ended, breaker reset); nullopt
    /// when the running server has no endpoint by that name, else whether it was quarantined.
    virtual std::optional<bool> release(std::string_view endpoint, const std::string& why) = 0;
    /// Runs `sync` on the control thread every few seconds while other instances share the store
    /// (e.g. to pick up what they saved); one at a time, set before the control thread starts.
    virtual void on_fleet_sync(std::function<void(store::Store&)> sync) = 0;
    /// Quarantines the named endpoint; false when the running server has no such endpoint.
    virtual bool quarantine(std::string_view endpoint, const std::string& why) = 0;
    /// Runs one check per target now, concurrently, on the health-check thread (never a worker);
    /// results are recorded and applied like the recovery loop's. `method` nullopt = each
    /// endpoint's own (its health:<method> tag, else the health.method setting). Resumes the
    /// caller on its own executor with one result per target, in order.
    virtual boost::asio::awaitable<std::vector<upstream::CheckResult>> run_checks(
        std::vector<std::shared_ptr<const upstream::Endpoint>> targets,
        std::optional<upstream::CheckMethod> method) = 0;
};

}  // namespace qcc::control
