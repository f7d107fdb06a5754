// Noticing that a client went away while QCC is busy elsewhere (waiting on an upstream, or idle
// between live events): a pending peek on the client socket completes when the client sends
// something or closes; end of stream (or an error) means the peer closed. Shared by the forwarder
// and the event stream.
#pragma once
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace qcc::proxy {

/// State shared with the pending peek, which may outlive its scope by one wake-up.
struct ClientWatch {
    bool active = true;        // false once the scope ended: the socket may be gone
    bool client_gone = false;  // set by the watcher when the client closed
    boost::beast::tcp_stream* upstream = nullptr;  // cancelled at once on disconnect, if set
    char peek_byte = 0;  // the watcher's receive buffer (peeked, never consumed)
};

/// Starts the watcher on `client` for the lifetime of the scope; on exit stops it (the pending
/// wait is cancelled and the watcher returns without touching the socket).
class ClientWatchScope {
  public:
    ClientWatchScope(boost::beast::tcp_stream& client, std::shared_ptr<ClientWatch> watch);
    ~ClientWatchScope();
    ClientWatchScope(const ClientWatchScope&) = delete;
    ClientWatchScope& operator=(const ClientWatchScope&) = delete;

  private:
    boost::beast::tcp_stream& client_;
    std::shared_ptr<ClientWatch> watch_;
};

}  // namespace qcc::proxy
