#include "upstream/pool.hpp"

#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "common/log.hpp"

namespace qcc::upstream {

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

ProxyError upstream_error(ErrorKind kind, std::string context) {
    return ProxyError{kind, ErrorSource::kUpstream, true, std::move(context)};
}

/// Errors that say QCC itself ran out of something (descriptors, memory, socket buffers).
bool is_local_resource_error(const boost::system::error_code& ec) {
    return ec == asio::error::no_descriptors || ec == asio::error::no_memory ||
           ec == asio::error::no_buffer_space ||
           ec == boost::system::errc::too_many_files_open_in_system;
}

ErrorKind connect_error_kind(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return ErrorKind::kConnectTimeout;
    if (ec == asio::error::connection_refused) return ErrorKind::kConnectRefused;
    if (is_local_resource_error(ec)) return ErrorKind::kLocalResource;
    return ErrorKind::kConnectionReset;
}

ProxyError local_error(ErrorKind kind, std::string context) {
    return ProxyError{kind, ErrorSource::kInternal, true, std::move(context)};
}

std::string getenv_any(const char* a, const char* b) {
    if (const char* v = std::getenv(a); v && *v) return v;
    if (const char* v = std::getenv(b); v && *v) return v;
    return {};
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}
}  // namespace

// ---- ProxySettings -------------------------------------------------------------------------

ProxySettings ProxySettings::from_env() {
    ProxySettings s;
    std::string url = getenv_any("HTTPS_PROXY", "https_proxy");
    s.no_proxy = getenv_any("NO_PROXY", "no_proxy");
    if (url.empty()) return s;
    if (auto p = url.find("://"); p != std::string::npos) url = url.substr(p + 3);
    if (auto p = url.find('@'); p != std::string::npos) url = url.substr(p + 1);  // no proxy auth
    if (auto p = url.find('/'); p != std::string::npos) url.resize(p);
    if (auto p = url.rfind(':'); p != std::string::npos && url.find(']', p) == std::string::npos) {
        s.host = url.substr(0, p);
        s.port = url.substr(p + 1);
    } else {
        s.host = url;
        s.port = "80";
    }
    if (s.host.size() > 2 && s.host.front() == '[') s.host = s.host.substr(1, s.host.size() - 2);
    return s;
}

bool ProxySettings::applies_to(std::string_view target) const {
    if (host.empty()) return false;
    std::string_view rest = no_proxy;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.empty()) continue;
        if (item == "*") return false;
        if (item.front() == '.') item.remove_prefix(1);
        if (target == item) return false;
        if (target.size() > item.size() && target.ends_with(item) &&
            target[target.size() - item.size() - 1] == '.') {
            return false;
        }
    }
    return true;
}

// ---- Connection ----------------------------------------------------------------------------

// Beast sizes each read by the buffer's free capacity: give responses room for 8 KiB reads
// (SSE events are far smaller; large JSON bodies take a few reads).
constexpr std::size_t kResponseReadBytes = 8 * 1024;

Connection::Connection(std::string endpoint_id, Plain stream)
    : endpoint_id_(std::move(endpoint_id)), stream_(std::move(stream)) {
    buffer_.reserve(kResponseReadBytes);
}
Connection::Connection(std::string endpoint_id, Tls stream)
    : endpoint_id_(std::move(endpoint_id)), stream_(std::move(stream)) {
    buffer_.reserve(kResponseReadBytes);
}

beast::tcp_stream& Connection::tcp() {
    if (auto* p = std::get_if<Plain>(&stream_)) return *p;
    return std::get<Tls>(stream_).next_layer();
}

bool Connection::peer_closed_or_dirty() {
    auto& sock = tcp().socket();
    if (!sock.is_open()) return true;
    char byte;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;  // orderly close
    // Bytes on an idle plain connection are a protocol error. On TLS they may be a session
    // ticket or key update the server sent late: keep the connection; if it was a close_notify,
    // the next request fails before any response byte and is retried on a fresh connection.
    if (n > 0) return !std::holds_alternative<Tls>(stream_);
    return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);  // error: reset
}

// ---- Lease ---------------------------------------------------------------------------------

void PoolSlots::wake_one() {
    if (waiters.empty()) return;
    auto* w = waiters.front();
    waiters.pop_front();
    w->woken = true;
    w->timer->cancel();
}

Lease::Lease(std::unique_ptr<Connection> conn, std::shared_ptr<PoolSlots> slots, bool from_idle)
    : conn_(std::move(conn)), slots_(std::move(slots)), from_idle_(from_idle) {}

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        reset();
        conn_ = std::move(other.conn_);
        slots_ = std::move(other.slots_);
        from_idle_ = other.from_idle_;
    }
    return *this;
}

Lease::~Lease() { reset(); }

void Lease::reset() {
    if (conn_ && slots_) {
        --slots_->open;
        slots_->wake_one();  // a slot is free: the oldest waiting request may open a connection
    }
    conn_.reset();
    slots_.reset();
}

// ---- Pool ----------------------------------------------------------------------------------

Pool::Pool(asio::io_context& ioc, config::PoolConfig options, ProxySettings proxy)
    : ioc_(ioc), options_(options), proxy_(std::move(proxy)), resolver_(ioc) {}

asio::ssl::context& Pool::tls_context(bool verify) {
    auto& slot = verify ? tls_verify_ : tls_noverify_;
    if (!slot) {
        slot = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
        slot->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1);
        if (verify) {
            slot->set_default_verify_paths();
            slot->set_verify_mode(asio::ssl::verify_peer);
        } else {
            slot->set_verify_mode(asio::ssl::verify_none);
        }
    }
    return *slot;
}

asio::awaitable<Result<tcp::resolver::results_type>> Pool::resolve(const std::string& host,
                                                                   const std::string& port) {
    const auto key = host + ":" + port;
    const auto now = SteadyClock::instance().now();
    if (auto it = dns_.find(key); it != dns_.end() && it->second.expires > now) {
        co_return it->second.results;
    }
    auto [ec, results] = co_await resolver_.async_resolve(host, port, kUseTuple);
    if (ec) {
        if (is_local_resource_error(ec)) {
            co_return local_error(ErrorKind::kLocalResource,
                                  "resolve " + host + ": " + ec.message());
        }
        co_return upstream_error(ErrorKind::kDnsFailure, "resolve " + host + ": " + ec.message());
    }
    dns_[key] = DnsEntry{results, now + options_.dns_ttl};
    co_return results;
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Pool::connect(const Endpoint& ep) {
    const bool via_proxy = ep.https && proxy_.applies_to(ep.host);
    const std::string& host = via_proxy ? proxy_.host : ep.host;
    const std::string& port = via_proxy ? proxy_.port : ep.port;
    auto resolved = co_await resolve(host, port);
    if (!resolved) co_return resolved.error();

    beast::tcp_stream stream(ioc_);
    stream.expires_after(ep.connect_timeout);
    auto [ec, _] = co_await stream.async_connect(*resolved, kUseTuple);
    if (ec) {
        const auto kind = connect_error_kind(ec);
        auto context = "connect " + host + ":" + port + ": " + ec.message();
        if (kind == ErrorKind::kLocalResource) co_return local_error(kind, std::move(context));
        co_return upstream_error(kind, std::move(context));
    }
    stream.socket().set_option(tcp::no_delay(true));
    ++stats_.connects;

    if (via_proxy) {
        // HTTP CONNECT tunnel; TLS to the endpoint then runs inside it.
        const bool ipv6 = ep.host.find(':') != std::string::npos;
        const std::string target = (ipv6 ? "[" + ep.host + "]" : ep.host) + ":" + ep.port;
        const std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(req), kUseTuple);
        if (wec) co_return upstream_error(ErrorKind::kConnectionReset, "proxy: " + wec.message());
        beast::flat_buffer buf;
        beast::http::response_parser<beast::http::empty_body> parser;
        parser.skip(true);  // a CONNECT response has no body
        auto [rec, rn] = co_await beast::http::async_read_header(stream, buf, parser, kUseTuple);
        if (rec || parser.get().result_int() != 200) {
            co_return upstream_error(
                ErrorKind::kConnectRefused,
                "proxy CONNECT " + target + " failed: " +
                    (rec ? rec.message() : std::to_string(parser.get().result_int())));
        }
    }

    if (!ep.https) {
        co_return std::make_unique<Connection>(ep.id, std::move(stream));
    }
    Connection::Tls tls(std::move(stream), tls_context(ep.cfg.tls_verify));
    if (!is_ip_literal(ep.host)) {
        // SNI. (SSL_set_tlsext_host_name is a macro with an old-style cast.)
        SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(ep.host.c_str()));
    }
    if (ep.cfg.tls_verify) tls.set_verify_callback(asio::ssl::host_name_verification(ep.host));
    beast::get_lowest_layer(tls).expires_after(ep.connect_timeout);
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kUseTuple);
    if (hec) {
        const auto kind =
            hec == beast::error::timeout ? ErrorKind::kConnectTimeout : ErrorKind::kTlsFailure;
        co_return upstream_error(kind, "TLS handshake with " + ep.host + ": " + hec.message());
    }
    co_return std::make_unique<Connection>(ep.id, std::move(tls));
}

namespace {
/// Idle connections younger than this are reused without probing them first.
constexpr auto kPeekAfter = std::chrono::milliseconds(50);
}  // namespace

std::unique_ptr<Connection> Pool::take_idle(Bucket& bucket) {
    const auto now = SteadyClock::instance().now();
    while (!bucket.idle.empty()) {
        auto conn = std::move(bucket.idle.back());
        bucket.idle.pop_back();
        if (now - conn->idle_since >= options_.idle_expiry) {
            ++stats_.expired;
        } else if (now - conn->idle_since >= kPeekAfter && conn->peer_closed_or_dirty()) {
            // (Idle for less than kPeekAfter: not probed, a system call per request saved. An
            // upstream that closed it meanwhile fails the attempt before any response byte,
            // which is retried at once on a fresh connection.)
            ++stats_.stale_discarded;
        } else {
            ++stats_.reuses;
            return conn;
        }
        --bucket.slots->open;  // closed: its slot is free again
    }
    return nullptr;
}

asio::awaitable<bool> Pool::wait_for_slot(PoolSlots& slots, SteadyTime deadline) {
    asio::steady_timer timer(ioc_);
    timer.expires_at(deadline);
    PoolSlots::Waiter me{&timer, false};
    slots.waiters.push_back(&me);
    ++stats_.waits;
    co_await timer.async_wait(kUseTuple);
    if (!me.woken) {
        std::erase(slots.waiters, &me);
        ++stats_.wait_timeouts;
    }
    co_return me.woken;
}

asio::awaitable<Result<Lease>> Pool::lease(const Endpoint& ep, bool fresh_only) {
    auto& bucket = buckets_[ep.id];
    const auto slots = bucket.slots;  // the bucket map may rehash while this request waits
    const auto deadline = SteadyClock::instance().now() + ep.connect_timeout;
    for (;;) {
        if (!fresh_only) {
            if (auto conn = take_idle(buckets_[ep.id]))
                co_return Lease(std::move(conn), slots, true);
        }
        // A slot is free, or an idle connection can make room for a fresh one.
        if (slots->open >= options_.max_per_endpoint && fresh_only) {
            auto& idle = buckets_[ep.id].idle;
            if (!idle.empty()) {
                idle.pop_front();  // the oldest idle connection gives its slot up
                --slots->open;
            }
        }
        if (slots->open < options_.max_per_endpoint) break;
        const bool woken = co_await wait_for_slot(*slots, deadline);
        if (!woken) {
            co_return local_error(
                ErrorKind::kLocalOverload,
                "QCC's connection limit for endpoint " + ep.cfg.name +
                    " (pool.max_per_endpoint = " + std::to_string(options_.max_per_endpoint) +
                    " per worker) stayed full for " + std::to_string(ep.connect_timeout.count()) +
                    " ms");
        }
    }
    ++slots->open;  // reserve the slot while connecting
    auto conn = co_await connect(ep);
    if (!conn) {
        --slots->open;
        slots->wake_one();
        co_return conn.error();
    }
    co_return Lease(std::move(conn.value()), slots, false);
}

void Pool::release(Lease lease) {
    if (!lease) return;
    auto& bucket = buckets_[lease->endpoint_id()];
    if (static_cast<int>(bucket.idle.size()) >= options_.max_idle || lease.slots_ != bucket.slots) {
        return;  // the lease's destructor closes it, frees its slot and wakes a waiter
    }
    lease->requests++;
    lease->idle_since = SteadyClock::instance().now();
    bucket.idle.push_back(std::move(lease.conn_));
    lease.slots_.reset();      // the slot stays taken by the idle connection
    bucket.slots->wake_one();  // a waiting request can take it
}

asio::awaitable<Result<int>> Pool::warm(const Endpoint& ep, int n) {
    int opened = 0;
    std::vector<Lease> leases;
    for (int i = 0; i < n; ++i) {
        auto lease_result = co_await lease(ep, /*fresh_only=*/true);
        if (!lease_result) {
            if (opened == 0) co_return lease_result.error();
            break;
        }
        leases.push_back(std::move(lease_result.value()));
        ++opened;
    }
    for (auto& l : leases) {
        auto& bucket = buckets_[ep.id];
        if (static_cast<int>(bucket.idle.size()) >= options_.max_idle) continue;
        l->idle_since = SteadyClock::instance().now();
        bucket.idle.push_back(std::move(l.conn_));
        l.slots_.reset();
    }
    co_return opened;
}

void Pool::sweep() {
    const auto now = SteadyClock::instance().now();
    for (auto& [id, bucket] : buckets_) {
        std::erase_if(bucket.idle, [&](const std::unique_ptr<Connection>& c) {
            if (now - c->idle_since < options_.idle_expiry && !c->peer_closed_or_dirty()) {
                return false;
            }
            ++stats_.expired;
            --bucket.slots->open;
            bucket.slots->wake_one();
            return true;
        });
    }
}

void Pool::clear() {
    for (auto& [id, bucket] : buckets_) {
        bucket.slots->open -= static_cast<int>(bucket.idle.size());
        bucket.idle.clear();
    }
}

std::size_t Pool::idle_count(const std::string& endpoint_id) const {
    auto it = buckets_.find(endpoint_id);
    return it == buckets_.end() ? 0 : it->second.idle.size();
}

int Pool::open_count(const std::string& endpoint_id) const {
    auto it = buckets_.find(endpoint_id);
    return it == buckets_.end() ? 0 : it->second.slots->open;
}

}  // namespace qcc::upstream
