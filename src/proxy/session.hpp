// One client connection: reads requests (keep-alive), answers local routes, authenticates and
// hands /v1/* requests to the forwarder.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace qcc::proxy {

class Worker;

/// Serves `socket` until the client closes, an error occurs or the server drains. Never throws.
boost::asio::awaitable<void> run_session(Worker& worker, boost::asio::ip::tcp::socket socket);

}  // namespace qcc::proxy
