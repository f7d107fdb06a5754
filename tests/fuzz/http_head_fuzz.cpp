// libFuzzer target: a request head as QCC reads it — Beast's parser with QCC's header limit, then
// the checks the session makes before any body byte is read (Host, Transfer-Encoding, the path,
// the Bearer credential). Nothing may crash, hang or read out of bounds, and a path the check
// accepts must really be free of dot-segments.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "protocol/http/headers.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(1 << 20);
    parser.eager(false);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!ec && used < input.size() && !parser.is_header_done()) {
        const auto n =
            parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
        if (n == 0) break;
        used += n;
    }
    if (ec || !parser.is_header_done()) return 0;
    const auto& req = parser.get();
    (void)qcc::http::transfer_encoding_problem(req[http::field::transfer_encoding]);
    (void)qcc::http::bearer_token(req[http::field::authorization]);
    const std::string_view target = req.target();
    if (qcc::http::path_problem(target).empty()) {
        // Accepted: no "." or ".." segment and no backslash may be left in the path.
        const auto path = target.substr(0, target.find('?'));
        if (path.find('\\') != std::string_view::npos) std::abort();
        std::size_t start = 0;
        while (start <= path.size()) {
            const auto slash = path.find('/', start);
            const auto seg =
                path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
            if (seg == "." || seg == "..") std::abort();
            if (slash == std::string_view::npos) break;
            start = slash + 1;
        }
    }
    for (const auto& f : req) {
        (void)qcc::http::is_hop_by_hop(f.name_string());
        (void)qcc::http::connection_lists(req[http::field::connection], f.name_string());
    }
    return 0;
}
