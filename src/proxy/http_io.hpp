// Client-side HTTP plumbing shared by the session and the forwarder: the client request type
// and helpers that write responses QCC makes itself.
#pragma once
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/client_request.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// What an awaited write returns: the error and the bytes written.
using WriteResult = std::tuple<boost::system::error_code, std::size_t>;

/// Writes every byte of `pieces` to a plain TCP stream. What the socket's send buffer takes at once
/// is written at once, with no reactor round trip and no timer armed and cancelled (nearly every
/// response and upstream request fits); only a rest that does not fit is written asynchronously,
/// within `timeout` (the stream's expiry is set then, and only then).
asio::awaitable<WriteResult> write_all(beast::tcp_stream& stream,
                                       const std::array<asio::const_buffer, 4>& pieces,
                                       std::chrono::nanoseconds timeout);

/// Writes a complete response QCC generates itself (errors, health). Returns false if the client
/// is gone.
asio::awaitable<bool> write_simple(beast::tcp_stream& client, int status, std::string_view reason,
                                   std::string_view content_type, std::string_view body,
                                   bool keep_alive, bool head_only = false,
                                   std::string_view extra_headers = {});

/// Writes an Anthropic-format error response (`{"type":"error","error":{...}}`);
/// `extra_headers` are "name: value\r\n" lines (e.g. retry-after).
asio::awaitable<bool> write_error(beast::tcp_stream& client, int status, std::string_view type,
                                  std::string_view message, bool keep_alive,
                                  std::string_view extra_headers = {});

}  // namespace qcc::proxy
