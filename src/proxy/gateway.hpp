// Gateway: ties the store, the runtime snapshots and the server together — what `qcc serve` runs
// and what integration tests start in-process. Its control thread is the only place that writes
// runtime state to the store.
#pragma once
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "proxy/observer.hpp"
#include "proxy/runtime.hpp"
#include "proxy/server.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"
#include "upstream/checker.hpp"
#include "upstream/pool.hpp"

namespace qcc::proxy {

class Gateway {
  public:
    /// Binds the listen address (throws std::runtime_error when it cannot). `clock` (optional)
    /// drives breakers, cooldowns and session TTLs — tests pass a FakeClock.
    /// `writer` sizes the request-log writer's queue and batches (tests use tiny queues).
    Gateway(config::Config cfg, std::unique_ptr<store::Store> store, const Clock* clock = nullptr,
            store::WriterOptions writer = {});
    ~Gateway();

    /// Upserts the config file's [[endpoints]] and [[keys]] into the store (by name).
    void seed_from_config();
    /// Rebuilds the endpoint, key and policy snapshots from the store now.
    void reload();
    /// Restores persisted endpoint state and session bindings, then starts the workers and the
    /// control thread (picks store changes up within 1 s, persists state changes).
    void start();
    /// Graceful drain, final persistence, stop. Idempotent.
    void stop();

    /// Runs one control-loop pass now (tests; the control thread does this every second).
    void tick();
    /// Waits until the start-up warm-up finished (or the deadline passed); true when finished.
    bool wait_warmup(std::chrono::milliseconds deadline);
    /// Operator actions (also reachable through the store, see `qcc endpoint release`).
    bool release(const std::string& endpoint_name, const std::string& why);
    bool quarantine(const std::string& endpoint_name, const std::string& why);

    Runtime& runtime() { return runtime_; }
    Server& server() { return *server_; }
    store::Store& store() { return *store_; }
    /// The request-log writer (tests flush it before reading the log).
    store::RequestWriter& writer() { return *writer_; }
    std::uint16_t port() const { return server_->port(); }

  private:
    void control_loop();
    void restore_state();
    void persist_state(bool force);
    void persist_bindings();
    void run_operator_commands();
    void start_warmup();
    void schedule_checks(const std::vector<std::shared_ptr<const upstream::Endpoint>>& eps);
    void on_check(const upstream::Endpoint& ep, const upstream::CheckResult& r);
    void run_cleanup();

    Runtime runtime_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<Observer> observer_;
    std::unique_ptr<store::RequestWriter> writer_;
    SteadyTime next_cleanup_{};
    std::unique_ptr<Server> server_;
    std::thread control_;
    std::mutex mu_;  // guards stopping_ and serializes tick()
    std::mutex tick_mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool started_ = false;
    std::int64_t seen_version_ = -1;
    std::uint64_t generation_ = 0;
    SteadyTime last_sweep_{};
    SteadyTime last_adaptive_{};
    std::map<std::string, std::string> seen_commands_;  // operator command setting -> value
    std::map<std::string, store::EndpointStateRecord> saved_states_;
    // Health checks run on their own io_context and pool (never on a worker).
    std::unique_ptr<boost::asio::io_context> check_ioc_;
    std::unique_ptr<upstream::Pool> check_pool_;
    std::unique_ptr<upstream::CheckRunner> runner_;
    std::thread check_thread_;
    SteadyTime last_recovery_{};
    SteadyTime last_health_{};
    std::mutex warm_mu_;
    std::condition_variable warm_cv_;
    int warm_pending_ = 0;
};

/// Setting keys that carry operator commands to a running server (written by the CLI).
inline constexpr std::string_view kReleaseCommandPrefix = "command.release.";
inline constexpr std::string_view kQuarantineCommandPrefix = "command.quarantine.";

}  // namespace qcc::proxy
