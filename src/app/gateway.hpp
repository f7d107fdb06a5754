// Gateway: the composition root — what `qcc serve` runs and what integration tests start
// in-process. It creates every part and wires the one-way doors between them:
//
//   data plane (proxy::Server)  --RequestSink-->  control::Observer --> store::RequestWriter
//            |                                                               |
//            +--LocalRoutes--> admin::Router --ControlApi--> control::Controller --> store
//   state changes (proxy::HealthState) and written rows and checks --> admin::EventHub (live)
//
// Nothing else constructs these parts or sets anything on them after construction.
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "admin/event_hub.hpp"
#include "admin/router.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "control/controller.hpp"
#include "control/observer.hpp"
#include "metrics/metrics.hpp"
#include "proxy/health_state.hpp"
#include "proxy/server.hpp"
#include "proxy/snapshots.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"

namespace qcc::app {

class Gateway {
  public:
    /// Binds the listen address (throws std::runtime_error when it cannot). `clock` (optional)
    /// drives breakers, cooldowns and session TTLs — tests pass a FakeClock. `writer` sizes the
    /// request-log writer's queue and batches (tests use tiny queues).
    Gateway(config::Config cfg, std::unique_ptr<store::Store> store, const Clock* clock = nullptr,
            store::WriterOptions writer = {});
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    /// Upserts the config file's [[endpoints]] and [[keys]] into the store (by name).
    void seed_from_config() { controller_->seed_from_config(); }
    /// Loads the store, restores persisted state, starts the control side, the workers, and the
    /// warm-up of pooled connections.
    void start();
    /// Graceful drain, final persistence, stop. Idempotent.
    void stop();
    /// One control pass now (tests; the control thread does this every second).
    void tick() { controller_->tick(); }
    /// Waits until the start-up warm-up finished (or the deadline passed); true when finished.
    bool wait_warmup(std::chrono::milliseconds deadline);

    std::uint16_t port() const { return server_->port(); }
    const config::Config& config() const { return cfg_; }
    store::Store& store() { return *store_; }
    store::RequestWriter& writer() { return *writer_; }
    proxy::HealthState& health() { return health_; }
    const proxy::Snapshots& snapshots() const { return snapshots_; }
    admin::EventHub& hub() { return hub_; }
    proxy::Server& server() { return *server_; }
    control::Controller& controller() { return *controller_; }

  private:
    /// Publishes state changes to the live event stream.
    class LiveStates final : public proxy::StateListener {
      public:
        explicit LiveStates(admin::EventHub& hub) : hub_(hub) {}
        void on_state_event(const proxy::StateEvent& e) override;

      private:
        admin::EventHub& hub_;
    };

    void start_warmup();

    config::Config cfg_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<store::Store> log_store_;  // the writer's own connection (PostgreSQL), or null
    admin::EventHub hub_;
    LiveStates live_states_{hub_};
    proxy::HealthState health_;
    proxy::Snapshots snapshots_;
    metrics::Registry metrics_;
    std::unique_ptr<store::RequestWriter> writer_;
    std::unique_ptr<control::Observer> observer_;
    std::unique_ptr<control::Controller> controller_;
    std::unique_ptr<admin::Router> router_;
    std::unique_ptr<proxy::Server> server_;
    bool started_ = false;
    bool stopped_ = false;
    std::mutex warm_mu_;
    std::condition_variable warm_cv_;
    bool warm_pending_ = false;
};

}  // namespace qcc::app
