#include "sim/server.hpp"

#include <array>
#include <charconv>
#include <exception>
#include <future>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

namespace qcc::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// Bytes a client may pipeline while a reply is in progress before we stop watching the socket.
constexpr std::size_t kMaxPipelined = std::size_t{1} << 20;
constexpr std::uint32_t kHeaderLimit = std::uint32_t{1} << 20;
constexpr std::uint64_t kBodyLimit = std::uint64_t{256} << 20;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char ch) {
            return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
        };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return &v;
    }
    return nullptr;
}

std::string reason_phrase(int status) {
    if (status == 529) return "Overloaded";
    auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
    if (reason.empty() || reason.front() == '<') return "Unknown";
    return std::string(reason);
}

std::string hex(std::size_t n) {
    std::array<char, 32> buf{};
    auto res = std::to_chars(buf.data(), buf.data() + buf.size(), n, 16);
    return std::string(buf.data(), res.ptr);
}

using TlsStream = asio::ssl::stream<tcp::socket&>;

struct Conn {
    Conn(tcp::socket s, std::size_t conn_id)
        : socket(std::move(s)),
          timer(socket.get_executor()),
          idle_timer(socket.get_executor()),
          id(conn_id) {}
    Conn(const Conn&) = delete;  // `tls` refers to `socket`
    Conn& operator=(const Conn&) = delete;

    // Runs `op` on the stream requests travel on: the TLS layer when there is one, else the
    // socket. `op` must return the same type for both (an awaitable, with kToken).
    template <class Op>
    auto io(Op&& op) {
        return tls ? op(*tls) : op(socket);
    }

    tcp::socket socket;
    std::unique_ptr<TlsStream> tls;  // null on plain connections
    asio::steady_timer timer;        // head delay, gaps, stalls
    asio::steady_timer idle_timer;   // server-side keep-alive timeout
    beast::flat_buffer buffer;
    std::size_t id;
    bool waiting_idle = false;
    std::uint64_t idle_generation = 0;  // tells a stale idle-timer completion from the current one
    bool aborted = false;               // counted once per connection
};

enum class WaitOutcome { kElapsed, kClientGone, kStopped };

void close_gracefully(Conn& c) {
    beast::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_send, ignored);
    c.socket.close(ignored);
}

void close_with_reset(Conn& c) {
    beast::error_code ignored;
    c.socket.set_option(asio::socket_base::linger(true, 0), ignored);
    c.socket.close(ignored);
}

}  // namespace

std::string Request::header(std::string_view name) const {
    const std::string* v = find_header(headers, name);
    return v ? *v : std::string();
}

std::string_view Request::path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
}

Reply Reply::json(int status, std::string body) {
    Reply r;
    r.status = status;
    r.headers.emplace_back("content-type", "application/json");
    r.chunks.push_back(std::move(body));
    return r;
}

Reply Reply::sse(std::vector<std::string> events, Millis gap) {
    Reply r;
    r.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    r.headers.emplace_back("cache-control", "no-cache");
    r.chunks = std::move(events);
    r.gap = gap;
    return r;
}

Reply Reply::error(int status, std::string_view type, std::string_view message) {
    boost::json::object err;
    err["type"] = type;
    err["message"] = message;
    boost::json::object body;
    body["type"] = "error";
    body["error"] = std::move(err);
    return json(status, boost::json::serialize(body));
}

std::size_t Reply::body_size() const {
    std::size_t n = 0;
    for (const auto& c : chunks) n += c.size();
    return n;
}

struct Server::Impl {
    Impl(Server& s, Handler h) : self(s), handler(std::move(h)) {}

    Server& self;
    Handler handler;
    std::unique_ptr<asio::ssl::context> tls_context;  // set before start(), then read-only
    mutable std::mutex sni_mutex;
    std::vector<std::string> sni_names;  // guarded by sni_mutex

    void set_tls(const TlsOptions& options) {
        auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3);
        ctx->use_certificate_chain(asio::buffer(options.cert_pem));
        ctx->use_private_key(asio::buffer(options.key_pem), asio::ssl::context::pem);
        SSL_CTX_set_client_hello_cb(ctx->native_handle(), &Impl::on_client_hello, this);
        tls_context = std::move(ctx);
    }

    // Runs inside the handshake for every ClientHello; records its SNI host name ("" if none).
    static int on_client_hello(SSL* ssl, int* /*alert*/, void* arg) {
        auto* impl = static_cast<Impl*>(arg);
        const unsigned char* data = nullptr;
        std::size_t len = 0;
        std::string name;
        if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &len) == 1) {
            name = parse_sni(data, len);
        }
        std::lock_guard lock(impl->sni_mutex);
        impl->sni_names.push_back(std::move(name));
        return SSL_CLIENT_HELLO_SUCCESS;
    }

    // server_name extension body (RFC 6066 §3): list length (2), then entries of name type (1),
    // name length (2), name. Returns the first host_name entry, "" when malformed.
    static std::string parse_sni(const unsigned char* data, std::size_t len) {
        auto u16 = [&](std::size_t at) {
            return static_cast<std::size_t>((data[at] << 8) | data[at + 1]);
        };
        if (len < 2 || u16(0) + 2 != len) return {};
        for (std::size_t at = 2; at + 3 <= len;) {
            const unsigned type = data[at];
            const std::size_t n = u16(at + 1);
            at += 3;
            if (n > len - at) return {};
            if (type == TLSEXT_NAMETYPE_host_name) {
                return std::string(reinterpret_cast<const char*>(data + at), n);
            }
            at += n;
        }
        return {};
    }
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    tcp::endpoint endpoint;
    std::thread thread;
    std::mutex lifecycle;  // start/stop from any thread
    bool started = false;
    bool stopped = false;

    // Touched only on the io thread once it runs.
    std::shared_ptr<tcp::acceptor> acceptor;
    std::unordered_map<std::size_t, std::shared_ptr<Conn>> conns;
    bool stopping = false;

    void listen() {
        auto a = std::make_shared<tcp::acceptor>(ioc);
        a->open(endpoint.protocol());
        a->set_option(asio::socket_base::reuse_address(true));
        a->bind(endpoint);
        a->listen(asio::socket_base::max_listen_connections);
        endpoint = a->local_endpoint();
        self.port_.store(endpoint.port());
        acceptor = a;
        asio::co_spawn(ioc, accept_loop(a), asio::detached);
    }

    void close_acceptor() {
        if (!acceptor) return;
        beast::error_code ignored;
        acceptor->close(ignored);
        acceptor.reset();
    }

    // Runs `fn` on the io thread and waits for it (directly when already there or not running).
    void run_on_io(std::function<void()> fn) {
        if (!thread.joinable() || ioc.get_executor().running_in_this_thread()) {
            fn();
            return;
        }
        std::packaged_task<void()> task(std::move(fn));
        auto done = task.get_future();
        asio::post(ioc, [&task] { task(); });
        done.get();
    }

    void count_abort(Conn& c) {
        if (stopping || c.aborted) return;
        c.aborted = true;
        ++self.aborts_;
        self.notify_change();
    }

    asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> a) {
        for (;;) {
            auto [ec, sock] = co_await a->async_accept(kToken);
            if (stopping || !a->is_open() || ec == asio::error::operation_aborted) co_return;
            if (ec) {
                // Out of descriptors or a transient error: back off instead of spinning.
                asio::steady_timer backoff(ioc, Millis{10});
                co_await backoff.async_wait(kToken);
                continue;
            }
            beast::error_code ignored;
            sock.set_option(tcp::no_delay(true), ignored);
            std::size_t id = ++self.accepted_;
            auto c = std::make_shared<Conn>(std::move(sock), id);
            conns.emplace(id, c);
            self.open_.store(conns.size());
            self.notify_change();
            asio::co_spawn(ioc, session(std::move(c)), asio::detached);
        }
    }

    // Waits `d` (forever when empty) while watching the socket, so a client that goes away during
    // a head delay, a gap or a stall is noticed at once. Bytes a client pipelines meanwhile are
    // kept in the connection buffer for the next request.
    asio::awaitable<WaitOutcome> watch_wait(std::shared_ptr<Conn> c, std::optional<Millis> d) {
        if (stopping) co_return WaitOutcome::kStopped;
        if (d) {
            c->timer.expires_after(*d);
        } else {
            c->timer.expires_at(asio::steady_timer::time_point::max());
        }
        for (;;) {
            if (c->buffer.size() >= kMaxPipelined) {
                auto [ec] = co_await c->timer.async_wait(kToken);
                co_return (ec || stopping) ? WaitOutcome::kStopped : WaitOutcome::kElapsed;
            }
            auto space = c->buffer.prepare(4096);
            auto [order, ec_timer, ec_read, n] = co_await c->io([&](auto& stream) {
                return asio::experimental::make_parallel_group(
                           c->timer.async_wait(asio::deferred),
                           stream.async_read_some(space, asio::deferred))
                    .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            });
            if (n > 0) c->buffer.commit(n);
            if (stopping) co_return WaitOutcome::kStopped;
            if (order[0] == 0) {
                co_return ec_timer ? WaitOutcome::kStopped : WaitOutcome::kElapsed;
            }
            if (ec_read) co_return WaitOutcome::kClientGone;
        }
    }

    template <class Buffers>
    asio::awaitable<bool> write(std::shared_ptr<Conn> c, Buffers buffers) {
        auto [ec, n] = co_await c->io(
            [&](auto& stream) { return asio::async_write(stream, buffers, kToken); });
        if (ec) {
            count_abort(*c);
            co_return false;
        }
        co_return true;
    }

    // Sends one reply; returns whether the connection may carry another request.
    asio::awaitable<bool> send_reply(std::shared_ptr<Conn> c, Reply reply, bool head_only,
                                     bool keep_alive) {
        if (reply.close_without_response) {
            close_gracefully(*c);
            co_return false;
        }
        if (reply.head_delay.count() > 0) {
            auto w = co_await watch_wait(c, reply.head_delay);
            if (w != WaitOutcome::kElapsed) {
                if (w == WaitOutcome::kClientGone) count_abort(*c);
                co_return false;
            }
        }
        if (reply.stall) {
            auto w = co_await watch_wait(c, std::nullopt);
            if (w == WaitOutcome::kClientGone) count_abort(*c);
            co_return false;
        }

        const bool raw = find_header(reply.headers, "content-length") != nullptr ||
                         find_header(reply.headers, "transfer-encoding") != nullptr;
        const std::string* content_type = find_header(reply.headers, "content-type");
        const bool sse =
            content_type != nullptr && content_type->rfind("text/event-stream", 0) == 0;
        const bool no_body = reply.status / 100 == 1 || reply.status == 204 || reply.status == 304;
        const bool chunked = !raw && !no_body && (sse || reply.chunks.size() > 1);
        const bool close_after = !keep_alive || reply.close_connection;

        std::string head;
        head.reserve(256);
        head += "HTTP/1.1 ";
        head += std::to_string(reply.status);
        head += ' ';
        head += reason_phrase(reply.status);
        head += "\r\n";
        for (const auto& [k, v] : reply.headers) {
            head += k;
            head += ": ";
            head += v;
            head += "\r\n";
        }
        if (!raw && !no_body) {
            if (chunked) {
                head += "Transfer-Encoding: chunked\r\n";
            } else {
                head += "Content-Length: ";
                head += std::to_string(reply.body_size());
                head += "\r\n";
            }
        }
        if (close_after && find_header(reply.headers, "connection") == nullptr) {
            head += "Connection: close\r\n";
        }
        head += "\r\n";

        if (head_only || no_body) {
            const bool ok = co_await write(c, asio::buffer(head));
            if (!ok) co_return false;
            if (close_after) close_gracefully(*c);
            co_return !close_after;
        }

        static constexpr std::string_view kCrlf = "\r\n";
        static constexpr std::string_view kLastChunk = "0\r\n\r\n";
        const std::optional<std::size_t> limit = reply.reset_after_bytes;
        std::size_t sent = 0;
        bool head_sent = false;
        bool first = true;
        for (const auto& chunk : reply.chunks) {
            if (chunk.empty()) continue;  // an empty chunk would end a chunked body early
            if (limit && sent >= *limit) break;
            if (!first && reply.gap.count() > 0) {
                auto w = co_await watch_wait(c, reply.gap);
                if (w != WaitOutcome::kElapsed) {
                    if (w == WaitOutcome::kClientGone) count_abort(*c);
                    co_return false;
                }
            }
            first = false;
            std::string_view piece = chunk;
            bool cut = false;
            if (limit && piece.size() > *limit - sent) {
                piece = piece.substr(0, *limit - sent);
                cut = true;
            }
            // The size line declares the whole chunk even when it is cut, as a real reset would.
            std::string size_line = chunked ? hex(chunk.size()) + "\r\n" : std::string();
            std::array<asio::const_buffer, 4> buffers{
                head_sent ? asio::const_buffer() : asio::buffer(head), asio::buffer(size_line),
                asio::buffer(piece),
                chunked && !cut ? asio::buffer(kCrlf.data(), kCrlf.size()) : asio::const_buffer()};
            const bool ok = co_await write(c, buffers);
            if (!ok) co_return false;
            head_sent = true;
            sent += piece.size();
        }
        if (limit) {
            // The chunked terminator is never sent: the message ends in a reset, not cleanly.
            if (!head_sent) {
                const bool ok = co_await write(c, asio::buffer(head));
                if (!ok) co_return false;
            }
            close_with_reset(*c);
            co_return false;
        }
        std::array<asio::const_buffer, 2> tail{
            head_sent ? asio::const_buffer() : asio::buffer(head),
            chunked ? asio::buffer(kLastChunk.data(), kLastChunk.size()) : asio::const_buffer()};
        if (asio::buffer_size(tail) > 0) {
            const bool ok = co_await write(c, tail);
            if (!ok) co_return false;
        }
        if (close_after) {
            close_gracefully(*c);
            co_return false;
        }
        co_return true;
    }

    Reply call_handler(const Request& req) {
        try {
            return handler(req);
        } catch (const std::exception& e) {
            return Reply::error(500, "api_error",
                                std::string("simulator handler failed: ") + e.what());
        } catch (...) {
            return Reply::error(500, "api_error", "simulator handler failed");
        }
    }

    void arm_idle_timer(const std::shared_ptr<Conn>& c) {
        Millis idle{self.idle_timeout_ms_.load()};
        if (idle.count() <= 0) return;
        c->waiting_idle = true;
        const std::uint64_t generation = ++c->idle_generation;
        c->idle_timer.expires_after(idle);
        c->idle_timer.async_wait([c, generation](beast::error_code ec) {
            if (!ec && c->waiting_idle && c->idle_generation == generation) {
                beast::error_code ignored;
                c->socket.close(ignored);
            }
        });
    }

    void disarm_idle_timer(Conn& c) {
        if (!c.waiting_idle) return;
        c.waiting_idle = false;
        c.idle_timer.cancel();
    }

    // The server side of the TLS handshake; the idle timeout (if any) bounds it too.
    asio::awaitable<bool> handshake(std::shared_ptr<Conn> c) {
        c->tls = std::make_unique<TlsStream>(c->socket, *tls_context);
        arm_idle_timer(c);
        auto [ec] = co_await c->tls->async_handshake(asio::ssl::stream_base::server, kToken);
        disarm_idle_timer(*c);
        if (ec) {
            if (!stopping) {
                ++self.tls_failures_;
                self.notify_change();
            }
            co_return false;
        }
        co_return true;
    }

    asio::awaitable<void> session(std::shared_ptr<Conn> c) {
        bool ready = true;
        if (tls_context) ready = co_await handshake(c);
        for (;;) {
            if (stopping || !ready) break;
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            arm_idle_timer(c);
            auto [ec, n] = co_await c->io([&](auto& stream) {
                return http::async_read_header(stream, c->buffer, parser, kToken);
            });
            disarm_idle_timer(*c);
            if (!ec && !parser.is_done()) {
                if (iequals(parser.get()[http::field::expect], "100-continue")) {
                    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                    auto [wec, wn] = co_await c->io([&](auto& stream) {
                        return asio::async_write(
                            stream, asio::buffer(kContinue.data(), kContinue.size()), kToken);
                    });
                    ec = wec;
                }
                if (!ec) {
                    std::tie(ec, n) = co_await c->io([&](auto& stream) {
                        return http::async_read(stream, c->buffer, parser, kToken);
                    });
                }
            }
            if (ec) {
                const bool malformed =
                    ec.category() == http::make_error_code(http::error::bad_target).category() &&
                    ec != http::error::end_of_stream && ec != http::error::partial_message;
                if (malformed && !stopping) {
                    int status = ec == http::error::body_limit ? 413 : 400;
                    std::string resp = "HTTP/1.1 " + std::to_string(status) + " " +
                                       reason_phrase(status) +
                                       "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                    co_await c->io([&](auto& stream) {
                        return asio::async_write(stream, asio::buffer(resp), kToken);
                    });
                }
                break;
            }

            auto msg = parser.release();
            const bool keep_alive = msg.keep_alive();
            Request req;
            req.method = std::string(msg.method_string());
            req.target = std::string(msg.target());
            req.headers.reserve(16);
            for (const auto& f : msg) {
                req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            }
            req.body = std::move(msg.body());
            req.connection_id = c->id;

            Reply reply = call_handler(req);
            ++self.served_;
            self.notify_change();
            const bool head_only = req.method == "HEAD";
            const bool sent = co_await send_reply(c, std::move(reply), head_only, keep_alive);
            if (!sent) break;
        }
        if (c->socket.is_open()) close_gracefully(*c);
        disarm_idle_timer(*c);
        conns.erase(c->id);
        self.open_.store(conns.size());
        self.notify_change();
    }
};

Server::Server(Handler handler, std::string host, std::uint16_t port, std::optional<TlsOptions> tls)
    : impl_(std::make_unique<Impl>(*this, std::move(handler))),
      host_(std::move(host)),
      port_(port) {
    if (tls) impl_->set_tls(*tls);
}

void Server::enable_tls(const TlsOptions& tls) {
    std::lock_guard lock(impl_->lifecycle);
    if (impl_->started) throw std::logic_error("sim::Server::enable_tls must precede start()");
    impl_->set_tls(tls);
}

bool Server::tls_enabled() const { return impl_->tls_context != nullptr; }

std::vector<std::string> Server::sni_names() const {
    std::lock_guard lock(impl_->sni_mutex);
    return impl_->sni_names;
}

Server::~Server() { stop(); }

void Server::start() {
    std::lock_guard lock(impl_->lifecycle);
    if (impl_->started) return;
    std::string addr = host_ == "localhost" ? std::string("127.0.0.1") : host_;
    impl_->endpoint = tcp::endpoint(asio::ip::make_address(addr), port_.load());
    impl_->listen();
    impl_->work.emplace(impl_->ioc.get_executor());
    impl_->started = true;
    impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

void Server::stop() {
    std::lock_guard lock(impl_->lifecycle);
    if (!impl_->started || impl_->stopped) return;
    impl_->stopped = true;
    impl_->run_on_io([this] {
        impl_->stopping = true;
        impl_->close_acceptor();
        for (auto& [id, c] : impl_->conns) {
            beast::error_code ignored;
            c->timer.cancel();
            c->idle_timer.cancel();
            c->socket.close(ignored);
        }
    });
    impl_->work.reset();
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::string Server::base_url() const {
    std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    return (tls_enabled() ? "https://" : "http://") + h + ":" + std::to_string(port());
}

void Server::refuse_connections(bool refuse) {
    std::lock_guard lock(impl_->lifecycle);
    if (!impl_->started || impl_->stopped) {
        throw std::logic_error("sim::Server::refuse_connections needs a running server");
    }
    impl_->run_on_io([this, refuse] {
        if (refuse) {
            impl_->close_acceptor();
        } else if (!impl_->acceptor) {
            impl_->listen();
        }
    });
}

bool Server::wait_until(const std::function<bool(const Server&)>& pred, Millis deadline) const {
    std::unique_lock lock(change_mutex_);
    return change_cv_.wait_for(lock, deadline, [&] { return pred(*this); });
}

void Server::notify_change() {
    { std::lock_guard lock(change_mutex_); }
    change_cv_.notify_all();
}

}  // namespace qcc::sim
