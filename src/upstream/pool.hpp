// Per-worker keep-alive connection pool to upstream endpoints: connection limits, idle
// expiry, stale-socket detection, DNS cache, TLS with verification and SNI, HTTPS_PROXY via
// CONNECT. One Pool per worker thread: it is only touched from that worker's io_context, so it
// takes no locks.
#pragma once
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "upstream/endpoint.hpp"

namespace qcc::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// An upstream proxy for HTTPS endpoints, from HTTPS_PROXY / NO_PROXY.
struct ProxySettings {
    std::string host;  // empty: no proxy
    std::string port;
    std::string no_proxy;  // comma-separated host suffixes; "*" = never proxy
    /// Reads HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy from the environment.
    static ProxySettings from_env();
    /// True when connections to `host` should go through the proxy.
    bool applies_to(std::string_view target) const;
};

/// One upstream connection, plain or TLS, with the read buffer that belongs to it.
class Connection {
  public:
    using Plain = beast::tcp_stream;
    using Tls = beast::ssl_stream<beast::tcp_stream>;

    Connection(std::string endpoint_id, Plain stream);
    Connection(std::string endpoint_id, Tls stream);

    /// Runs `op(stream)` on the concrete stream type; `op` must return the same type for both.
    template <class Op>
    decltype(auto) visit(Op&& op) {
        return std::visit(std::forward<Op>(op), stream_);
    }
    beast::tcp_stream& tcp();
    beast::flat_buffer& buffer() { return buffer_; }
    const std::string& endpoint_id() const { return endpoint_id_; }
    /// Responses completed on this connection.
    std::uint64_t requests = 0;
    SteadyTime idle_since{};
    /// True if the peer closed the idle socket or sent unexpected bytes (it cannot be reused).
    bool peer_closed_or_dirty();

  private:
    std::string endpoint_id_;
    std::variant<Plain, Tls> stream_;
    beast::flat_buffer buffer_;
};

class Pool;

/// One endpoint's connection slots in one worker's pool: how many connections are open (in use,
/// idle, or being opened) and the requests waiting for one to free up, oldest first. Shared by
/// the pool and its leases (a lease may outlive the pool).
struct PoolSlots {
    struct Waiter {
        boost::asio::steady_timer* timer = nullptr;
        bool woken = false;
    };
    int open = 0;
    std::deque<Waiter*> waiters;
    /// Wakes the oldest waiter (a slot or an idle connection became available).
    void wake_one();
};

/// A leased connection. Give it back with Pool::release() when the response was read completely
/// and the upstream allows keep-alive; otherwise just drop it (the socket is closed).
class Lease {
  public:
    Lease() = default;
    Lease(std::unique_ptr<Connection> conn, std::shared_ptr<PoolSlots> slots, bool from_idle);
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    explicit operator bool() const { return conn_ != nullptr; }
    /// True when the connection came from the idle list (it may have gone stale meanwhile).
    bool reused() const { return from_idle_; }

  private:
    friend class Pool;
    void reset();
    std::unique_ptr<Connection> conn_;
    std::shared_ptr<PoolSlots> slots_;  // the endpoint bucket's slots (freed when closed)
    bool from_idle_ = false;
};

struct PoolStats {
    std::uint64_t connects = 0, reuses = 0, stale_discarded = 0, expired = 0, waits = 0,
                  wait_timeouts = 0;
};

class Pool {
  public:
    Pool(asio::io_context& ioc, config::PoolConfig options, ProxySettings proxy);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Returns an idle connection to `ep` if a healthy one exists (unless `fresh_only`), else opens
    /// one within the endpoint's connect timeout. When the endpoint already has max_per_endpoint
    /// connections, waits (first come, first served) for one to free up within the connect
    /// timeout; if none does, fails with kLocalOverload — QCC's limit, not the endpoint's fault.
    /// Running out of file descriptors or memory fails with kLocalResource. Other failures are
    /// classified ProxyErrors of the endpoint.
    asio::awaitable<Result<Lease>> lease(const Endpoint& ep, bool fresh_only = false);
    /// Puts a connection whose last response was fully read back into the idle list.
    void release(Lease lease);
    /// Opens up to `n` connections to `ep` and parks them idle (warm-up).
    asio::awaitable<Result<int>> warm(const Endpoint& ep, int n);
    /// Closes idle connections older than the idle expiry (also done lazily on lease).
    void sweep();
    /// Closes every idle connection (shutdown).
    void clear();
    const PoolStats& stats() const { return stats_; }
    std::size_t idle_count(const std::string& endpoint_id) const;
    int open_count(const std::string& endpoint_id) const;

  private:
    struct Bucket {
        std::deque<std::unique_ptr<Connection>> idle;  // back = most recently used
        std::shared_ptr<PoolSlots> slots = std::make_shared<PoolSlots>();
    };
    struct DnsEntry {
        tcp::resolver::results_type results;
        SteadyTime expires;
    };
    asio::awaitable<Result<tcp::resolver::results_type>> resolve(const std::string& host,
                                                                 const std::string& port);
    asio::awaitable<Result<std::unique_ptr<Connection>>> connect(const Endpoint& ep);
    /// Waits until `slots` wakes this request or `deadline` passes; false on the deadline.
    asio::awaitable<bool> wait_for_slot(PoolSlots& slots, SteadyTime deadline);
    /// Takes a healthy idle connection, closing the expired and stale ones it meets.
    std::unique_ptr<Connection> take_idle(Bucket& bucket);
    asio::ssl::context& tls_context(bool verify);

    asio::io_context& ioc_;
    config::PoolConfig options_;
    ProxySettings proxy_;
    tcp::resolver resolver_;
    std::unique_ptr<asio::ssl::context> tls_verify_, tls_noverify_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::unordered_map<std::string, DnsEntry> dns_;
    PoolStats stats_;
};

}  // namespace qcc::upstream
