// The data plane's two doors to the rest of QCC, implemented elsewhere and handed to the Server
// by the composition root: where a finished request goes, and who answers the paths QCC serves
// itself (the admin API, metrics, the dashboard). The data plane knows nothing else about them.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/http_io.hpp"
#include "proxy/request_ctx.hpp"

namespace qcc::proxy {

/// Receives every finished request (proxied, refused or failed) on the worker thread that served
/// it. Must not block: queue anything slow. The context is finished with: the sink may move its
/// strings out.
class RequestSink {
  public:
    virtual ~RequestSink() = default;
    virtual void on_request_done(RequestContext& ctx) = 0;
};

/// One request for a path outside /v1/ (besides HEAD / and GET /healthz, which the session answers
/// itself), with its body read.
struct LocalRequest {
    beast::tcp_stream& client;
    ClientRequest& req;
    bool keep_alive;
    const std::atomic<bool>& draining;  // the server is shutting down: long answers should end
    std::string_view peer;              // the client's address
};

/// What to do with a local request, decided from its head before any body byte is read.
struct LocalAdmission {
    bool accept = true;          // read the body (up to body_limit), then handle()
    bool authenticated = false;  // the head proved who the client is (e.g. the admin token)
    std::size_t body_limit = 0;  // bytes
    // When not accepted: the answer, after which the connection closes unread.
    int status = 0;
    std::string error_type, message, extra_headers;  // extra_headers: "name: value\r\n" lines
    std::chrono::milliseconds delay{0};              // held back this long first
};

/// Answers requests for the paths QCC serves itself, on the worker's thread; blocking work must
/// go elsewhere (a thread pool) and be awaited.
class LocalRoutes {
  public:
    virtual ~LocalRoutes() = default;
    /// Judges a request from its head alone (authentication, body size). Must not block.
    virtual LocalAdmission admit(const ClientRequest& head, std::string_view peer) = 0;
    /// Writes the whole answer. Returns false when the connection must close.
    virtual boost::asio::awaitable<bool> handle(const LocalRequest& request) = 0;
};

}  // namespace qcc::proxy
