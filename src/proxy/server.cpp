#include "proxy/server.hpp"

#include <stdexcept>
#include <thread>

#include <boost/asio/ip/address.hpp>

#include "common/log.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Server::Server(Runtime& runtime) : runtime_(runtime) {
    const auto& cfg = runtime.config();
    const auto [host, port] = config::parse_listen(cfg.listen);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) throw std::runtime_error("listen address '" + cfg.listen + "': not an IP address");
    int n = cfg.workers > 0 ? cfg.workers : static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
    const auto proxy = upstream::ProxySettings::from_env();
    tcp::endpoint ep(address, port);
    for (int i = 0; i < n; ++i) {
        try {
            workers_.push_back(std::make_unique<Worker>(runtime, i, ep, proxy));
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
    for (const auto& w : workers_) n += w->sessions.load();
    return n;
}

void Server::drain_and_stop() {
    if (stopped_) return;
    stopped_ = true;
    runtime_.draining = true;
    for (auto& w : workers_) w->stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + runtime_.config().drain_timeout;
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
