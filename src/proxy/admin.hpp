// The admin API on the data listener (SPEC §10, §11): the REST API of docs/admin-api.md under
// /api/ (admin token required), live events (SSE) and /metrics. Router in admin.cpp, handlers in
// admin_*.cpp (see admin_routes.hpp).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/http_io.hpp"

namespace qcc::proxy {

class Worker;

/// GET /metrics: Prometheus text (admin token unless the metrics.public setting is true).
/// Returns false when the connection must close.
asio::awaitable<bool> handle_metrics(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
                                     bool keep_alive);

/// Handles a request under /api/. Returns false when the connection must close.
asio::awaitable<bool> handle_admin(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
                                   bool keep_alive);

}  // namespace qcc::proxy
