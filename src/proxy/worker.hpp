// Worker: one thread's io_context, its listening socket (SO_REUSEPORT) and its own upstream pool
// and selector. A request is handled start to finish on one worker, without locks.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "config/config.hpp"
#include "proxy/auth_throttle.hpp"
#include "proxy/connection_gate.hpp"
#include "proxy/health_state.hpp"
#include "proxy/pool_stat.hpp"
#include "proxy/sinks.hpp"
#include "proxy/snapshots.hpp"
#include "upstream/pool.hpp"
#include "upstream/selector.hpp"

namespace qcc::proxy {

/// Per-worker free list of relay buffers: a stream borrows one 64 KiB buffer (its whole
/// in-flight bound) instead of allocating it per request.
class RelayBuffers {
  public:
    static constexpr std::size_t kBytes = 64 * 1024;
    class Handle {
      public:
        Handle(RelayBuffers& owner, std::unique_ptr<char[]> buf)
            : owner_(owner), buf_(std::move(buf)) {}
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() { owner_.give_back(std::move(buf_)); }
        char* data() const { return buf_.get(); }

      private:
        RelayBuffers& owner_;
        std::unique_ptr<char[]> buf_;
    };
    Handle acquire() {
        if (free_.empty()) return Handle(*this, std::make_unique_for_overwrite<char[]>(kBytes));
        auto b = std::move(free_.back());
        free_.pop_back();
        return Handle(*this, std::move(b));
    }

  private:
    static constexpr std::size_t kMaxFree = 64;  // idle memory bound: 4 MiB per worker
    void give_back(std::unique_ptr<char[]> b) {
        if (free_.size() < kMaxFree) free_.push_back(std::move(b));
    }
    std::vector<std::unique_ptr<char[]>> free_;
};

/// What every worker shares, owned by the Server: the bootstrap config, the snapshots, the shared
/// endpoint health, where finished requests go, who answers local paths, the client connection
/// limits, the bad-key throttle, and the drain flag.
struct WorkerEnv {
    const config::Config& config;
    const Snapshots& snapshots;
    HealthState& health;
    RequestSink& sink;
    LocalRoutes* local_routes;  // null: paths outside /v1/ get 404
    ConnectionGate& gate;
    AuthThrottle& throttle;
    const std::atomic<bool>& draining;
};

class Worker {
  public:
    Worker(const WorkerEnv& env, int index, const boost::asio::ip::tcp::endpoint& listen,
           const upstream::ProxySettings& proxy);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    /// Starts the worker thread (accept loop and pool sweeper).
    void start();
    /// Stops accepting new connections and closes idle keep-alive ones (sessions keep running).
    void stop_accepting();
    /// Stops the io_context and joins the thread.
    void stop();

    const WorkerEnv& env() const { return env_; }
    boost::asio::io_context& io() { return *ioc_; }
    upstream::Pool& pool() { return *pool_; }
    upstream::Selector& selector() { return selector_; }
    RelayBuffers& relay_buffers() { return relay_buffers_; }
    int index() const { return index_; }
    std::uint16_t port() const { return port_; }

    /// Client connections open on this worker (for draining). Any thread.
    int open_sessions() const { return sessions_.load(); }
    /// A new request id: start time, worker, sequence. Worker thread only.
    std::string next_request_id(std::int64_t start_unix_ms);
    /// Pool sizes at the last sweep. Any thread.
    std::vector<PoolStat> pool_stats() const;

    /// Counts one client connection for its lifetime (worker thread).
    class SessionScope {
      public:
        explicit SessionScope(Worker& w) : w_(w) { ++w_.sessions_; }
        ~SessionScope() { --w_.sessions_; }
        SessionScope(const SessionScope&) = delete;
        SessionScope& operator=(const SessionScope&) = delete;

      private:
        Worker& w_;
    };
    /// Marks a client connection as waiting for its next request, so a drain can close it at
    /// once (worker thread).
    class IdleScope {
      public:
        IdleScope(Worker& w, boost::beast::tcp_stream& client) : w_(w), client_(&client) {
            w_.idle_clients_.insert(client_);
        }
        ~IdleScope() { w_.idle_clients_.erase(client_); }
        IdleScope(const IdleScope&) = delete;
        IdleScope& operator=(const IdleScope&) = delete;

      private:
        Worker& w_;
        boost::beast::tcp_stream* client_;
    };

  private:
    void sample_pool();

    const WorkerEnv& env_;
    int index_;
    // I/O objects are pointers so that ~Worker can destroy them before the io_context.
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::unique_ptr<upstream::Pool> pool_;
    upstream::Selector selector_;
    RelayBuffers relay_buffers_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
    std::uint16_t port_ = 0;
    std::atomic<int> sessions_{0};
    std::uint64_t next_request_ = 0;
    std::unordered_set<boost::beast::tcp_stream*> idle_clients_;  // worker thread only
    mutable std::mutex pool_stats_mu_;
    std::vector<PoolStat> pool_stats_;
    std::thread thread_;
};

}  // namespace qcc::proxy
