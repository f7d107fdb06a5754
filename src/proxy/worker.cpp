#include "proxy/worker.hpp"

#include <algorithm>
#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/system.hpp"
#include "proxy/session.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kSweepInterval{5};

/// Whether an accept error means QCC ran out of something (and will again at once).
bool is_resource_error(const boost::system::error_code& ec) {
    return ec == asio::error::no_descriptors || ec == asio::error::no_memory ||
           ec == asio::error::no_buffer_space ||
           ec == boost::system::errc::too_many_files_open_in_system;
}

asio::awaitable<void> accept_loop(Worker& w, tcp::acceptor& acceptor) {
    static log::LogThrottle accept_errors, refusals;
    asio::steady_timer pause(w.io());
    auto backoff = std::chrono::milliseconds(0);
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            std::uint64_t held = 0;
            if (accept_errors.allow(&held)) {
                spdlog::warn("accept failed: {} ({} more since the last report); pausing accepts",
                             ec.message(), held);
            }
            // Like nginx's accept pause: out of descriptors the pending connection stays queued
            // and a retry now would fail again, so back off (10 ms doubling to 1 s) instead of
            // spinning.
            backoff = is_resource_error(ec) ? std::clamp(backoff * 2, std::chrono::milliseconds(10),
                                                         std::chrono::milliseconds(1000))
                                            : std::chrono::milliseconds(1);
            pause.expires_after(backoff);
            co_await pause.async_wait(kUseTuple);
            continue;
        }
        backoff = std::chrono::milliseconds(0);
        if (!w.env().gate.admit()) {
            std::uint64_t held = 0;
            if (refusals.allow(&held)) {
                spdlog::warn(
                    "connection refused: {} open, {} not yet authenticated (limits.max_connections "
                    "{}, limits.max_unauthenticated {}) ({} more since the last report)",
                    w.env().gate.open(), w.env().gate.unauthenticated(), w.env().gate.max_open(),
                    w.env().gate.max_unauthenticated(), held);
            }
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        asio::co_spawn(w.io(), run_session(w, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> sweep_loop(Worker& w, asio::steady_timer& timer,
                                 std::function<void()> sample) {
    for (;;) {
        timer.expires_after(kSweepInterval);
        auto [ec] = co_await timer.async_wait(kUseTuple);
        if (ec) co_return;
        w.pool().sweep();
        sample();
    }
}
}  // namespace

Worker::Worker(const WorkerEnv& env, int index, const tcp::endpoint& listen,
               const upstream::ProxySettings& proxy)
    : env_(env),
      index_(index),
      // Only this thread touches its sockets (others post to it), so the reactor need not lock
      // them.
      ioc_(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO)),
      pool_(std::make_unique<upstream::Pool>(*ioc_, env.config.pool, proxy)),
      selector_(static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ull + 1),
      acceptor_(std::make_unique<tcp::acceptor>(*ioc_)),
      sweep_timer_(std::make_unique<asio::steady_timer>(*ioc_)) {
    acceptor_->open(listen.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    // Every worker listens on the same port; the kernel spreads connections between them.
    int one = 1;
    ::setsockopt(acceptor_->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor_->bind(listen);
    acceptor_->listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_->local_endpoint().port();
}

Worker::~Worker() {
    stop();
    // Destroy I/O objects while their io_context still exists, then the io_context (which
    // destroys the frames of sessions that never finished).
    acceptor_.reset();
    sweep_timer_.reset();
    pool_.reset();
    ioc_.reset();
}

std::string Worker::next_request_id(std::int64_t start_unix_ms) {
    // "<ms since the epoch, hex>-<worker>-<counter, hex>", built by hand: this runs per request.
    char text[64];
    char* p = text;
    const auto hex = [&p](std::uint64_t v) {
        char digits[16];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v & 0xf];
            v >>= 4;
        } while (v != 0);
        while (n > 0) *p++ = digits[--n];
    };
    hex(static_cast<std::uint64_t>(start_unix_ms));
    *p++ = '-';
    const auto index = std::to_string(index_);
    for (const char c : index) *p++ = c;
    *p++ = '-';
    hex(++next_request_);
    return std::string(text, p);
}

void Worker::sample_pool() {
    // Pool sizes for /metrics, sampled here because the pool belongs to this thread.
    std::vector<PoolStat> stats;
    // Held for the loop: a snapshot published meanwhile must not free it.
    const auto endpoint_set = env_.snapshots.endpoints();
    for (const auto& ep : endpoint_set->endpoints) {
        stats.push_back(
            PoolStat{ep->cfg.name, pool_->open_count(ep->id), pool_->idle_count(ep->id)});
    }
    std::lock_guard lock(pool_stats_mu_);
    pool_stats_ = std::move(stats);
}

std::vector<PoolStat> Worker::pool_stats() const {
    std::lock_guard lock(pool_stats_mu_);
    return pool_stats_;
}

void Worker::start() {
    asio::co_spawn(*ioc_, accept_loop(*this, *acceptor_), asio::detached);
    asio::co_spawn(*ioc_, sweep_loop(*this, *sweep_timer_, [this] { sample_pool(); }),
                   asio::detached);
    thread_ = std::thread([this] {
        sys::name_thread(("qcc-worker-" + std::to_string(index_)).c_str());
        for (;;) {
            try {
                ioc_->run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("worker {}: unexpected exception: {}", index_, e.what());
            }
        }
    });
}

void Worker::stop_accepting() {
    asio::post(*ioc_, [this] {
        boost::system::error_code ec;
        acceptor_->close(ec);
        sweep_timer_->cancel();
        for (auto* client : idle_clients_) client->socket().cancel(ec);
    });
}

void Worker::stop() {
    if (ioc_) ioc_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace qcc::proxy
