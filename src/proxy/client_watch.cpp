#include "proxy/client_watch.hpp"

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/socket.h>

namespace qcc::proxy {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> watch_client(tcp::socket* socket, std::shared_ptr<ClientWatch> watch) {
    auto [ec] =
        co_await socket->async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    if (!watch->active) co_return;  // the scope ended first; the socket may be gone
    char byte;
    const auto n = ec ? 0 : ::recv(socket->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) co_return;  // a pipelined request or stray bytes, not a disconnect
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) co_return;
    watch->client_gone = true;
    if (watch->upstream != nullptr) watch->upstream->cancel();
}

}  // namespace

ClientWatchScope::ClientWatchScope(boost::beast::tcp_stream& client,
                                   std::shared_ptr<ClientWatch> watch)
    : client_(client), watch_(std::move(watch)) {
    asio::co_spawn(client_.get_executor(), watch_client(&client_.socket(), watch_), asio::detached);
}

ClientWatchScope::~ClientWatchScope() {
    watch_->active = false;
    boost::system::error_code ignored;
    client_.socket().cancel(ignored);
}

}  // namespace qcc::proxy
