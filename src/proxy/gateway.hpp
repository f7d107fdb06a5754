// Gateway: ties the store, the runtime snapshots and the server together — what `qcc serve` runs
// and what integration tests start in-process.
#pragma once
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "config/config.hpp"
#include "proxy/runtime.hpp"
#include "proxy/server.hpp"
#include "store/store.hpp"

namespace qcc::proxy {

class Gateway {
public:
    /// Binds the listen address (throws std::runtime_error when it cannot).
    Gateway(config::Config cfg, std::unique_ptr<store::Store> store);
    ~Gateway();

    /// Upserts the config file's [[endpoints]] and [[keys]] into the store (by name).
    void seed_from_config();
    /// Rebuilds the endpoint and key snapshots from the store now.
    void reload();
    /// Starts the workers and the control thread (picks store changes up within 1 s).
    void start();
    /// Graceful drain, then stop. Idempotent.
    void stop();

    Runtime& runtime() { return runtime_; }
    Server& server() { return *server_; }
    store::Store& store() { return *store_; }
    std::uint16_t port() const { return server_->port(); }

private:
    void control_loop();

    Runtime runtime_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<Server> server_;
    std::thread control_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::int64_t seen_version_ = -1;
    std::uint64_t generation_ = 0;
};

/// Hashes a client key the way the store keeps it.
std::string hash_client_key(std::string_view key);

}  // namespace qcc::proxy
