// Server: the data plane. Starts N workers on one listen address (SO_REUSEPORT), warms their
// upstream pools, drains them gracefully. Everything it needs arrives in ServerDeps.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "proxy/worker.hpp"

namespace qcc::proxy {

/// What the data plane is given by the composition root.
struct ServerDeps {
    const config::Config& config;
    const Snapshots& snapshots;
    HealthState& health;
    RequestSink& sink;
    LocalRoutes* local_routes = nullptr;
};

/// One endpoint's warm-up outcome, summed over workers.
struct WarmupResult {
    std::string endpoint;
    int opened = 0;
    std::string error;  // first failure, "" when every worker succeeded
    std::int64_t ms = 0;
};

class Server {
  public:
    /// Binds the listen address of the config (port 0: the first worker picks one, the others
    /// join it); throws std::runtime_error with the address when it cannot bind, including when
    /// another process (a second QCC) already listens there.
    explicit Server(ServerDeps deps);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();
    /// Stops accepting, waits up to the drain timeout for open client connections to finish,
    /// then stops every worker. Idempotent.
    void drain_and_stop();
    /// The bound port (useful with port 0).
    std::uint16_t port() const;
    int open_sessions() const;
    std::size_t worker_count() const { return workers_.size(); }
    bool draining() const { return draining_.load(); }
    /// Client connections open now, and those not yet authenticated.
    int open_connections() const { return gate_.open(); }
    int unauthenticated_connections() const { return gate_.unauthenticated(); }
    const ConnectionGate& gate() const { return gate_; }
    const AuthThrottle& throttle() const { return throttle_; }
    /// Pool sizes per endpoint, summed over workers (sampled every pool sweep).
    std::vector<PoolStat> pool_stats() const;
    /// Opens up to `n` connections to each endpoint in every worker's pool, concurrently; calls
    /// `done` once (on some worker thread) with one result per endpoint.
    void warm_up(std::vector<std::shared_ptr<const upstream::Endpoint>> endpoints, int n,
                 std::function<void(std::vector<WarmupResult>)> done);

  private:
    ServerDeps deps_;
    std::atomic<bool> draining_{false};
    ConnectionGate gate_;
    AuthThrottle throttle_;
    WorkerEnv env_;
    std::vector<std::unique_ptr<Worker>> workers_;
    bool stopped_ = false;
};

}  // namespace qcc::proxy
