// The admin API on the data listener (SPEC §10): requires the admin token (Bearer). For now it
// serves health checks on demand; the rest of the API is issue #5.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/http_io.hpp"

namespace qcc::proxy {

class Worker;

/// Handles a request under /api/. Returns false when the connection must close.
asio::awaitable<bool> handle_admin(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
                                   bool keep_alive);

}  // namespace qcc::proxy
