#include "harness/connect_proxy.hpp"

#include <array>
#include <future>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace qcc::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kPumpBuffer = std::size_t{16} * 1024;
constexpr std::size_t kMaxHead =
    std::size_t{16} * 1024;  // a CONNECT head larger than this is refused

// One client connection and, once the CONNECT succeeded, the connection to its target.
struct Tunnel {
    explicit Tunnel(tcp::socket c)
        : client(std::move(c)), target(client.get_executor()), resolver(client.get_executor()) {}

    void close() {
        boost::system::error_code ignored;
        resolver.cancel();
        client.close(ignored);
        target.close(ignored);
    }

    tcp::socket client;
    tcp::socket target;
    tcp::resolver resolver;
};

std::string reason(int status) {
    switch (status) {
        case 200:
            return "Connection established";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 405:
            return "Method Not Allowed";
        case 407:
            return "Proxy Authentication Required";
        case 502:
            return "Bad Gateway";
        default:
            return "Error";
    }
}

}  // namespace

struct ConnectProxy::Impl {
    explicit Impl(ConnectProxy& s) : self(s) {}

    ConnectProxy& self;
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    // Touched only on the io thread.
    std::unordered_map<std::size_t, std::shared_ptr<Tunnel>> tunnels;
    std::size_t next_id = 0;
    bool stopping = false;

    template <class Fn>
    void update(Fn&& fn) {
        {
            std::lock_guard lock(self.mutex_);
            fn();
        }
        self.changed_.notify_all();
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(kToken);
            if (stopping || !acceptor.is_open()) co_return;
            if (ec) {
                // Out of descriptors or a transient error: back off instead of spinning.
                asio::steady_timer backoff(ioc, std::chrono::milliseconds(10));
                co_await backoff.async_wait(kToken);
                continue;
            }
            update([&] { ++self.accepted_; });
            const std::size_t id = ++next_id;
            auto t = std::make_shared<Tunnel>(std::move(sock));
            tunnels.emplace(id, t);
            asio::co_spawn(ioc, serve(std::move(t), id), asio::detached);
        }
    }

    static asio::awaitable<void> answer(std::shared_ptr<Tunnel> t, int status) {
        std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
        if (status != 200) resp += "Content-Length: 0\r\nConnection: close\r\n";
        resp += "\r\n";
        co_await asio::async_write(t->client, asio::buffer(resp), kToken);
    }

    // Copies bytes one way until either side ends; then closes both so the other direction ends.
    static asio::awaitable<void> pump(std::shared_ptr<Tunnel> t, bool client_to_target) {
        tcp::socket& from = client_to_target ? t->client : t->target;
        tcp::socket& to = client_to_target ? t->target : t->client;
        std::array<char, kPumpBuffer> buf;
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kToken);
            if (ec) break;
            auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kToken);
            if (wec) break;
        }
        t->close();
    }

    asio::awaitable<void> serve(std::shared_ptr<Tunnel> t, std::size_t id) {
        co_await tunnel(t);
        t->close();
        tunnels.erase(id);
    }

    asio::awaitable<void> tunnel(std::shared_ptr<Tunnel> t) {
        std::string head;
        auto [ec, head_len] = co_await asio::async_read_until(
            t->client, asio::dynamic_buffer(head, kMaxHead), "\r\n\r\n", kToken);
        if (ec) {
            if (ec == asio::error::not_found) co_await answer(t, 400);
            co_return;
        }

        // Request line: CONNECT <host:port> HTTP/1.x
        const std::string_view line = std::string_view(head).substr(0, head.find("\r\n"));
        const auto sp1 = line.find(' ');
        const auto sp2 = line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
            co_await answer(t, 400);
            co_return;
        }
        if (line.substr(0, sp1) != "CONNECT") {
            co_await answer(t, 405);
            co_return;
        }
        const std::string target(line.substr(sp1 + 1, sp2 - sp1 - 1));
        int deny = 0;
        update([&] {
            self.targets_.push_back(target);
            deny = self.deny_status_;
        });
        if (deny != 0) {
            co_await answer(t, deny);
            co_return;
        }

        const auto colon = target.rfind(':');
        if (colon == std::string::npos || colon + 1 == target.size()) {
            co_await answer(t, 400);
            co_return;
        }
        std::string host = target.substr(0, colon);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        auto [rec, results] =
            co_await t->resolver.async_resolve(host, target.substr(colon + 1), kToken);
        if (stopping) co_return;
        if (rec) {
            co_await answer(t, 502);
            co_return;
        }
        auto [cec, connected] = co_await asio::async_connect(t->target, results, kToken);
        if (stopping) co_return;
        if (cec) {
            co_await answer(t, 502);
            co_return;
        }
        boost::system::error_code ignored;
        t->client.set_option(tcp::no_delay(true), ignored);
        t->target.set_option(tcp::no_delay(true), ignored);
        co_await answer(t, 200);
        update([&] { ++self.established_; });

        // Bytes the client sent right behind the CONNECT head belong to the target.
        if (head.size() > head_len) {
            auto [wec, wn] = co_await asio::async_write(
                t->target, asio::buffer(head.data() + head_len, head.size() - head_len), kToken);
            if (wec) co_return;
        }
        co_await (pump(t, true) && pump(t, false));
    }
};

ConnectProxy::ConnectProxy() : impl_(std::make_unique<Impl>(*this)) {
    const tcp::endpoint listen(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(listen.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(listen);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    thread_ = std::thread([this] { impl_->ioc.run(); });
}

ConnectProxy::~ConnectProxy() {
    try {
        stop();
    } catch (...) {  // a destructor must not throw; stop() only fails if the thread is broken
    }
}

std::string ConnectProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void ConnectProxy::deny_with(int status) {
    std::lock_guard lock(mutex_);
    deny_status_ = status;
}

std::vector<std::string> ConnectProxy::targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
}

std::size_t ConnectProxy::connections_accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

std::size_t ConnectProxy::tunnels_established() const {
    std::lock_guard lock(mutex_);
    return established_;
}

bool ConnectProxy::wait_for_targets(std::size_t n, std::chrono::milliseconds deadline) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return targets_.size() >= n; });
}

void ConnectProxy::stop() {
    if (stopped_) return;
    stopped_ = true;
    // Closing the listener and every socket completes every pending operation, so the io_context
    // runs out of work and the thread ends.
    std::promise<void> closed;
    asio::post(impl_->ioc, [this, &closed] {
        impl_->stopping = true;
        boost::system::error_code ignored;
        impl_->acceptor.close(ignored);
        for (auto& [id, t] : impl_->tunnels) t->close();
        closed.set_value();
    });
    closed.get_future().wait();
    if (thread_.joinable()) thread_.join();
}

}  // namespace qcc::test
