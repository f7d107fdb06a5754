#include "proxy/client_watch.hpp"

namespace qcc::proxy {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Runs when the peek below completed (or was cancelled).
void on_peeked(ClientWatch& watch, const boost::system::error_code& ec, std::size_t n) {
    if (!watch.active || ec == asio::error::operation_aborted) return;  // the scope ended
    if (!ec && n > 0) return;  // a pipelined request or stray bytes, not a disconnect
    watch.client_gone = true;  // end of stream or an error: the client is gone
    if (watch.upstream != nullptr) watch.upstream->cancel();
}

}  // namespace

ClientWatchScope::ClientWatchScope(boost::beast::tcp_stream& client,
                                   std::shared_ptr<ClientWatch> watch)
    : client_(client), watch_(std::move(watch)) {
    // A peek (MSG_PEEK: nothing is consumed, a pipelined request stays for the session) with a
    // plain completion handler. Unlike a readiness wait, a receive is queued without a system
    // call when the socket was just read dry, and this runs for every proxied request.
    client_.socket().async_receive(asio::buffer(&watch_->peek_byte, 1), tcp::socket::message_peek,
                                   [watch = watch_](const boost::system::error_code& ec,
                                                    std::size_t n) { on_peeked(*watch, ec, n); });
}

ClientWatchScope::~ClientWatchScope() {
    watch_->active = false;
    boost::system::error_code ignored;
    client_.socket().cancel(ignored);
}

}  // namespace qcc::proxy
