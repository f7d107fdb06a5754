// A small simulated HTTP/1.1 upstream: each request is handed to a Handler whose Reply says what to
// send, how slowly, and which fault to inject. Used by `qcc serve --demo`, `qcc sim` and the tests.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace qcc::sim {

using Millis = std::chrono::milliseconds;

/// One request as the server received it.
struct Request {
    std::string method;
    std::string target;                                        // incl. query
    std::vector<std::pair<std::string, std::string>> headers;  // arrival order, names as sent
    std::string body;
    std::size_t connection_id = 0;  // 1-based index of the TCP connection it arrived on

    /// Value of the first header named `name` (case-insensitive), "" if absent.
    std::string header(std::string_view name) const;
    /// The target without its query string.
    std::string_view path() const;
};

/// What the server does with one request: a head (status + headers) after an optional delay, then a
/// body either at once or as chunks (SSE events) separated by gaps; optional faults.
///
/// Framing: a reply whose content-type is text/event-stream, or that has more than one chunk, is
/// sent with chunked transfer encoding (each chunk flushed on its own); any other reply gets a
/// Content-Length. If `headers` already hold Content-Length or Transfer-Encoding, the server adds
/// no framing and writes the chunks raw (tests use this to send malformed bodies).
struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::string> chunks;  // body pieces, each written (and flushed) separately
    Millis head_delay{0};             // wait before sending the head (time to first byte)
    Millis gap{0};                    // wait between chunks
    std::optional<std::size_t> reset_after_bytes;  // RST the connection after this many body bytes
    bool stall = false;  // send nothing; keep the socket open until the client goes away or stop()
    bool close_without_response = false;  // close the socket right after reading the request
    bool close_connection = false;        // send "Connection: close" and close after the reply

    /// `status` with an application/json body sent at once.
    static Reply json(int status, std::string body);
    /// 200 text/event-stream; each event (already formatted, "event: ...\ndata: ...\n\n") a chunk.
    static Reply sse(std::vector<std::string> events, Millis gap = Millis{0});
    /// `status` with an Anthropic error body {"type":"error","error":{"type":..,"message":..}}.
    static Reply error(int status, std::string_view type, std::string_view message);

    /// Total number of body bytes across chunks.
    std::size_t body_size() const;
};

/// A certificate chain and its private key, both PEM, for serving HTTPS.
struct TlsOptions {
    std::string cert_pem;  // leaf first, then any intermediates
    std::string key_pem;   // PKCS#8 or traditional format, unencrypted
};

/// Decides the reply to one request. Called on the server thread; must be thread-safe with respect
/// to whatever else touches its state.
using Handler = std::function<Reply(const Request&)>;

/// An HTTP/1.1 server (Boost.Beast, C++20 coroutines) on its own thread and io_context. Keep-alive,
/// TCP_NODELAY, any number of concurrent connections; no per-request thread or logging.
/// With TLS every accepted connection does a server handshake first; TLS connections end without a
/// close_notify (a plain TCP close), as many relays do.
class Server {
  public:
    /// `tls` set: serve HTTPS with that certificate (throws std::system_error on bad PEM).
    explicit Server(Handler handler, std::string host = "127.0.0.1", std::uint16_t port = 0,
                    std::optional<TlsOptions> tls = std::nullopt);
    ~Server();  // stops
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds, listens and starts the thread; port() is valid afterwards. Throws on bind failure.
    void start();
    /// Closes the listener and every connection, then joins the thread. Idempotent.
    void stop();

    std::uint16_t port() const { return port_.load(); }
    /// "http://<host>:<port>", or "https://..." with TLS (IPv6 hosts in brackets).
    std::string base_url() const;

    /// Serves HTTPS from now on. Only before start() (throws std::logic_error after it); throws
    /// std::system_error when the certificate or key cannot be loaded.
    void enable_tls(const TlsOptions& tls);
    bool tls_enabled() const;
    /// The SNI host name of every TLS ClientHello received, in arrival order; "" for a ClientHello
    /// without SNI. Recorded before the handshake completes, so failed handshakes appear too.
    std::vector<std::string> sni_names() const;
    /// TLS handshakes that failed (e.g. the client rejected the certificate).
    std::size_t tls_handshake_failures() const { return tls_failures_.load(); }

    /// true: close the listening socket so connects are refused; false: listen again on the same
    /// port (throws std::system_error if the port was taken meanwhile). Open connections are kept.
    void refuse_connections(bool refuse);
    /// Server-side keep-alive timeout: a connection that waits longer than this for its next
    /// request is closed, as relays do. Zero (the default) keeps idle connections forever.
    void set_idle_timeout(Millis timeout) { idle_timeout_ms_.store(timeout.count()); }

    std::size_t connections_accepted() const { return accepted_.load(); }
    std::size_t open_connections() const { return open_.load(); }
    std::size_t requests_served() const { return served_.load(); }
    /// Connections the client closed while a reply (delay, chunks, stall) was still in progress.
    std::size_t client_aborts() const { return aborts_.load(); }

    /// Blocks until `pred(*this)` holds (re-checked whenever a counter changes) or `deadline`
    /// passes; returns the last value of `pred`.
    bool wait_until(const std::function<bool(const Server&)>& pred, Millis deadline) const;

  private:
    struct Impl;
    friend struct Impl;
    void notify_change();

    std::unique_ptr<Impl> impl_;
    std::string host_;
    std::atomic<std::uint16_t> port_;
    std::atomic<long long> idle_timeout_ms_{0};
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> served_{0};
    std::atomic<std::size_t> aborts_{0};
    std::atomic<std::size_t> tls_failures_{0};
    mutable std::mutex change_mutex_;
    mutable std::condition_variable change_cv_;
};

}  // namespace qcc::sim
