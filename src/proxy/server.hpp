// Server: the data plane. Starts N workers on one listen address (SO_REUSEPORT), drains them
// gracefully, and exposes the shared Runtime.
#pragma once
#include <memory>
#include <vector>

#include "proxy/runtime.hpp"
#include "proxy/worker.hpp"

namespace qcc::proxy {

class Server {
  public:
    /// Binds the listen address of runtime.config() (or `port_override` when non-zero... see
    /// listen_port()); throws std::runtime_error with the address when it cannot bind.
    explicit Server(Runtime& runtime);
    ~Server();

    void start();
    /// Stops accepting, waits up to the drain timeout for open client connections to finish,
    /// then stops every worker.
    void drain_and_stop();
    /// The bound port (useful with port 0).
    std::uint16_t port() const;
    int open_sessions() const;
    std::vector<std::unique_ptr<Worker>>& workers() { return workers_; }

  private:
    Runtime& runtime_;
    std::vector<std::unique_ptr<Worker>> workers_;
    bool stopped_ = false;
};

}  // namespace qcc::proxy
