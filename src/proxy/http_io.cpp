#include "proxy/http_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

#include "protocol/anthropic/error_body.hpp"

namespace qcc::proxy {

void PaddedBody::reader::init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
    if (length) body_.reserve(static_cast<std::size_t>(*length) + anthropic::kJsonPadding);
    ec = {};
}

std::string_view reason_phrase(int status) {
    if (status == 529) return "Overloaded";
    return http::obsolete_reason(static_cast<http::status>(status));
}

asio::awaitable<bool> write_simple(beast::tcp_stream& client, int status, std::string_view reason,
                                   std::string_view content_type, std::string_view body,
                                   bool keep_alive, bool head_only) {
    std::string head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += reason.empty() ? reason_phrase(status) : reason;
    head += "\r\n";
    if (!content_type.empty()) {
        head += "content-type: ";
        head += content_type;
        head += "\r\n";
    }
    head += "content-length: ";
    head += std::to_string(body.size());
    head += "\r\n";
    if (!keep_alive) head += "connection: close\r\n";
    head += "\r\n";
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(body.data(), head_only ? 0 : body.size())};
    auto [ec, n] = co_await asio::async_write(client, bufs, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

asio::awaitable<bool> write_error(beast::tcp_stream& client, int status, std::string_view type,
                                  std::string_view message, bool keep_alive) {
    co_return co_await write_simple(client, status, {}, "application/json",
                                    anthropic::error_body(type, message), keep_alive);
}

}  // namespace qcc::proxy
