// Client-side HTTP plumbing shared by the session and the forwarder: the client request type
// and helpers that write responses QCC makes itself.
#pragma once
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/client_request.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

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
