#include "proxy/http_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "protocol/anthropic/error_body.hpp"
#include "protocol/http/response_head.hpp"

namespace qcc::proxy {

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
