// Worker: one thread's io_context, its listening socket (SO_REUSEPORT) and its own upstream pool
// and selector. A request is handled start to finish on one worker, without locks.
#pragma once
#include <memory>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/runtime.hpp"
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

class Worker {
  public:
    Worker(Runtime& runtime, int index, const boost::asio::ip::tcp::endpoint& listen,
           const upstream::ProxySettings& proxy);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    /// Starts the worker thread (accept loop and pool sweeper).
    void start();
    /// Stops accepting new connections (sessions keep running).
    void stop_accepting();
    /// Stops the io_context and joins the thread.
    void stop();

    Runtime& runtime() { return runtime_; }
    boost::asio::io_context& io() { return *ioc_; }
    upstream::Pool& pool() { return *pool_; }
    upstream::Selector& selector() { return selector_; }
    RelayBuffers& relay_buffers() { return relay_buffers_; }
    int index() const { return index_; }
    std::uint16_t port() const { return port_; }
    /// Client connections currently open on this worker (for draining).
    std::atomic<int> sessions{0};
    /// Next request sequence number on this worker (request ids).
    std::uint64_t next_request = 0;
    /// Client connections waiting for their next request; closed at once when draining.
    /// Touched only on this worker's thread.
    std::unordered_set<boost::beast::tcp_stream*> idle_clients;

  private:
    Runtime& runtime_;
    int index_;
    // I/O objects are pointers so that ~Worker can destroy them before the io_context.
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::unique_ptr<upstream::Pool> pool_;
    upstream::Selector selector_;
    RelayBuffers relay_buffers_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

}  // namespace qcc::proxy
