// libFuzzer target: a request as QCC reads it — its ClientRequestParser (Beast's parser storing
// into QCC's flat ClientRequest) with QCC's header limit, then the checks the session makes before
// any body byte is read (Host, Transfer-Encoding, the path, the Bearer credential), then the body.
// Nothing may crash, hang or read out of bounds; a path the check accepts must really be free of
// dot-segments; every field must be found again by its name; a body keeps simdjson's padding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/anthropic/request_view.hpp"
#include "protocol/http/headers.hpp"
#include "proxy/client_request.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    qcc::proxy::ClientRequestParser parser;
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
    std::size_t count = 0;
    for (const auto f : req.fields()) {
        ++count;
        (void)qcc::http::is_hop_by_hop(f.name);
        (void)qcc::http::connection_lists(req[http::field::connection], f.name);
        // A lookup by name answers with the first field of that name (in any case).
        std::string_view first;
        for (const auto g : req.fields()) {
            if (qcc::http::iequals(g.name, f.name)) {
                first = g.value;
                break;
            }
        }
        if (req[f.name] != first) std::abort();
        if (f.id != http::field::unknown && req[f.id] != first) std::abort();
    }
    if (count != req.field_count()) std::abort();
    // The body, as far as the input goes.
    while (!ec && used < input.size() && !parser.is_done()) {
        const auto n =
            parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
        if (n == 0) break;
        used += n;
    }
    const auto& body = parser.get().body();
    if (!body.empty() && body.capacity() < body.size() + qcc::anthropic::kJsonPadding) std::abort();
    return 0;
}
