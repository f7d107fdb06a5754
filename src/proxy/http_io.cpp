#include "proxy/http_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

#include "protocol/anthropic/error_body.hpp"
#include "protocol/http/response_head.hpp"

namespace qcc::proxy {

asio::awaitable<WriteResult> write_all(beast::tcp_stream& stream,
                                       const std::array<asio::const_buffer, 4>& pieces,
                                       std::chrono::nanoseconds timeout) {
    const std::size_t total = asio::buffer_size(pieces);
    std::size_t written = 0;
    if (total > 0) {
        // Non-blocking, so the attempt never waits: a full send buffer answers would_block.
        auto& socket = stream.socket();
        boost::system::error_code ec;
        if (!socket.non_blocking()) socket.non_blocking(true, ec);
        if (!ec) {
            written = socket.write_some(pieces, ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                ec = {};
                written = 0;
            }
            if (ec) co_return WriteResult{ec, written};  // e.g. the peer is gone
        }
    }
    if (written == total) co_return WriteResult{boost::system::error_code{}, written};
    beast::buffers_suffix<std::array<asio::const_buffer, 4>> rest(pieces);
    rest.consume(written);
    stream.expires_after(timeout);
    auto [ec, n] = co_await asio::async_write(stream, rest, asio::as_tuple(asio::use_awaitable));
    co_return WriteResult{ec, written + n};
}

asio::awaitable<bool> write_simple(beast::tcp_stream& client, int status, std::string_view reason,
                                   std::string_view content_type, std::string_view body,
                                   bool keep_alive, bool head_only,
                                   std::string_view extra_headers) {
    qcc::http::ResponseHead builder(status, reason);
    if (!content_type.empty()) builder.field("content-type", content_type);
    const auto head =
        builder.content_length(body.size()).fields(extra_headers).close(!keep_alive).take();
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(body.data(), head_only ? 0 : body.size())};
    auto [ec, n] = co_await asio::async_write(client, bufs, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

asio::awaitable<bool> write_error(beast::tcp_stream& client, int status, std::string_view type,
                                  std::string_view message, bool keep_alive,
                                  std::string_view extra_headers) {
    co_return co_await write_simple(client, status, {}, "application/json",
                                    anthropic::error_body(type, message), keep_alive, false,
                                    extra_headers);
}

}  // namespace qcc::proxy
