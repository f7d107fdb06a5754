#include "proxy/server.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>

#include "common/log.hpp"
#include "common/system.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/// The connection cap: configured, else what the descriptor limit allows (a proxied request
/// holds two descriptors: the client's and the upstream's; some are kept for the store, logs
/// and listeners).
int connection_limit(const config::Limits& limits) {
    if (limits.max_connections > 0) return limits.max_connections;
    const auto fds = sys::fd_limit();
    return static_cast<int>(
        std::clamp<std::uint64_t>(fds > 128 ? (fds - 64) / 2 : 32, 32, 1'000'000));
}

/// Throws when something already listens on `ep`: binding without SO_REUSEPORT fails then, while
/// our own workers share the port with each other. (A second QCC would otherwise silently take
/// half of the connections.)
void ensure_port_free(const tcp::endpoint& ep, const std::string& listen) {
    asio::io_context io;
    tcp::acceptor probe(io);
    boost::system::error_code ec;
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec == asio::error::address_in_use) {
        throw std::runtime_error("cannot listen on " + listen +
                                 ": the address is already in use (is another QCC running? "
                                 "`qcc status --listen " +
                                 listen + "` asks it)");
    }
    if (ec) throw std::runtime_error("cannot listen on " + listen + ": " + ec.message());
}

}  // namespace

Server::Server(ServerDeps deps)
    : deps_(deps),
      gate_(connection_limit(deps_.config.limits), deps_.config.limits.max_unauthenticated),
      throttle_(auth_throttle_policy(deps_.config.limits)),
      env_{deps_.config,       deps_.snapshots, deps_.health, deps_.sink,
           deps_.local_routes, gate_,           throttle_,    draining_} {
    const auto& cfg = deps_.config;
    const auto [host, port] = config::parse_listen(cfg.listen);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) throw std::runtime_error("listen address '" + cfg.listen + "': not an IP address");
    const int n = cfg.workers > 0 ? cfg.workers : sys::usable_cpus();
    const auto proxy = upstream::ProxySettings::from_env();
    tcp::endpoint ep(address, port);
    if (port != 0) ensure_port_free(ep, cfg.listen);
    for (int i = 0; i < n; ++i) {
        try {
            workers_.push_back(std::make_unique<Worker>(env_, i, ep, proxy));
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error("cannot listen on " + cfg.listen + ": " + e.code().message());
        }
        // With port 0 the first worker picks the port; the others join it.
        if (i == 0) ep.port(workers_[0]->port());
    }
}

Server::~Server() { drain_and_stop(); }

void Server::start() {
    for (auto& w : workers_) w->start();
}

std::uint16_t Server::port() const { return workers_.empty() ? 0 : workers_[0]->port(); }

int Server::open_sessions() const {
    int n = 0;
    for (const auto& w : workers_) n += w->open_sessions();
    return n;
}

std::vector<PoolStat> Server::pool_stats() const {
    std::vector<PoolStat> out;
    for (const auto& w : workers_) {
        for (const auto& s : w->pool_stats()) {
            auto it = std::find_if(out.begin(), out.end(),
                                   [&](const PoolStat& o) { return o.endpoint == s.endpoint; });
            if (it == out.end()) {
                out.push_back(s);
            } else {
                it->open += s.open;
                it->idle += s.idle;
            }
        }
    }
    return out;
}

void Server::warm_up(std::vector<std::shared_ptr<const upstream::Endpoint>> endpoints, int n,
                     std::function<void(std::vector<WarmupResult>)> done) {
    struct Summary {
        std::mutex mu;
        std::map<std::string, WarmupResult> by_endpoint;
        std::size_t pending = 0;
        std::function<void(std::vector<WarmupResult>)> done;
    };
    auto summary = std::make_shared<Summary>();
    summary->pending = workers_.size() * endpoints.size();
    summary->done = std::move(done);
    if (summary->pending == 0) {
        summary->done({});
        return;
    }
    for (auto& w : workers_) {
        for (const auto& ep : endpoints) {
            auto* worker = w.get();
            asio::co_spawn(
                worker->io(),
                [worker, ep, n, summary]() -> asio::awaitable<void> {
                    const auto t0 = std::chrono::steady_clock::now();
                    auto opened = co_await worker->pool().warm(*ep, n);
                    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count();
                    std::vector<WarmupResult> results;
                    {
                        std::lock_guard lock(summary->mu);
                        auto& r = summary->by_endpoint[ep->cfg.name];
                        r.endpoint = ep->cfg.name;
                        if (opened) {
                            r.opened += opened.value();
                        } else if (r.error.empty()) {
                            r.error = opened.error().context;
                        }
                        r.ms = std::max(r.ms, ms);
                        if (--summary->pending > 0) co_return;
                        for (auto& [name, result] : summary->by_endpoint) {
                            results.push_back(std::move(result));
                        }
                    }
                    summary->done(std::move(results));
                },
                asio::detached);
        }
    }
}

void Server::drain_and_stop() {
    if (stopped_) return;
    stopped_ = true;
    draining_ = true;
    for (auto& w : workers_) w->stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + deps_.config.drain_timeout;
    // Bounded wait: poll the open-session count until it is zero or the drain deadline passes.
    while (open_sessions() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (const int left = open_sessions(); left > 0) {
        spdlog::warn("drain deadline reached with {} connection(s) open; closing them", left);
    }
    for (auto& w : workers_) w->stop();
}

}  // namespace qcc::proxy
