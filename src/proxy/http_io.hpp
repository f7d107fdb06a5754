// Client-side HTTP plumbing shared by the session and the forwarder: the request body type that
// leaves room for simdjson's padding, and helpers that write responses QCC makes itself.
#pragma once
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include "protocol/anthropic/request_view.hpp"

namespace qcc::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// A string body whose capacity always exceeds its size by kJsonPadding, so simdjson can parse
/// the received bytes in place (no copy of a 100 KB request).
struct PaddedBody {
    using value_type = std::string;
    static std::uint64_t size(const value_type& v) { return v.size(); }

    class reader {
      public:
        template <bool isRequest, class Fields>
        reader(http::header<isRequest, Fields>& /*h*/, value_type& body) : body_(body) {}
        void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec);
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            const auto n = beast::buffer_bytes(buffers);
            const auto old = body_.size();
            if (body_.capacity() < old + n + anthropic::kJsonPadding) {
                body_.reserve(std::max(body_.capacity() * 2, old + n + anthropic::kJsonPadding));
            }
            body_.resize(old + n);
            beast::net::buffer_copy(beast::net::buffer(body_.data() + old, n), buffers);
            ec = {};
            return n;
        }
        void finish(beast::error_code& ec) { ec = {}; }

      private:
        value_type& body_;
    };
};

using ClientRequest = http::request<PaddedBody>;

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
