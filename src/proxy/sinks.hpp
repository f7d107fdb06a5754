// The data plane's two doors to the rest of QCC, implemented elsewhere and handed to the Server
// by the composition root: where a finished request goes, and who answers the paths QCC serves
// itself (the admin API, metrics, the dashboard). The data plane knows nothing else about them.
#pragma once
#include <atomic>

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
};

/// Answers requests for the paths QCC serves itself, on the worker's thread; blocking work must
/// go elsewhere (a thread pool) and be awaited.
class LocalRoutes {
  public:
    virtual ~LocalRoutes() = default;
    /// Writes the whole answer. Returns false when the connection must close.
    virtual boost::asio::awaitable<bool> handle(LocalRequest request) = 0;
};

}  // namespace qcc::proxy
