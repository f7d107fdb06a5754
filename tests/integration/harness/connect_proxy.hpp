// ConnectProxy: a tiny HTTP CONNECT proxy (the HTTPS_PROXY an upstream connection may be told to
// use), for integration tests. Own thread and io_context, listening on 127.0.0.1:0.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qcc::test {

/// Reads "CONNECT host:port HTTP/1.1" and its headers, connects to the target, answers
/// "HTTP/1.1 200 Connection established" and then splices bytes both ways until either side
/// closes. Or, when told to, answers every CONNECT with a fixed error status instead.
class ConnectProxy {
  public:
    /// Binds 127.0.0.1:0 and starts serving; throws std::system_error on failure.
    ConnectProxy();
    ~ConnectProxy();  // stops
    ConnectProxy(const ConnectProxy&) = delete;
    ConnectProxy& operator=(const ConnectProxy&) = delete;

    std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port>", the value HTTPS_PROXY takes.
    std::string url() const;

    /// From now on answer each CONNECT with `status` (e.g. 403) and close; 0 goes back to
    /// tunnelling. Thread-safe.
    void deny_with(int status);

    /// The target ("host:port") of every CONNECT request received, in order, whatever the answer.
    std::vector<std::string> targets() const;
    /// TCP connections accepted from clients.
    std::size_t connections_accepted() const;
    /// Tunnels established (200 sent after the target accepted the connection).
    std::size_t tunnels_established() const;
    /// Waits until at least `n` CONNECT requests arrived; false after the deadline.
    bool wait_for_targets(std::size_t n,
                          std::chrono::milliseconds deadline = std::chrono::seconds(10)) const;

    /// Closes the listener, every client and target connection, then joins the thread.
    /// Idempotent.
    void stop();

  private:
    struct Impl;
    friend struct Impl;

    std::unique_ptr<Impl> impl_;
    std::thread thread_;
    std::uint16_t port_ = 0;
    bool stopped_ = false;

    mutable std::mutex mutex_;  // guards what follows; notified on every change
    mutable std::condition_variable changed_;
    int deny_status_ = 0;
    std::vector<std::string> targets_;
    std::size_t accepted_ = 0;
    std::size_t established_ = 0;
};

}  // namespace qcc::test
