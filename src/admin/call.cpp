// The readers, writers and errors every admin handler shares (see call.hpp).
#include "admin/call.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/crypto.hpp"
#include "protocol/http/headers.hpp"
#include "protocol/http/response_head.hpp"

namespace qcc::admin {

namespace hdr = qcc::http;

// ---- errors and writers ---------------------------------------------------------------------

bool admin_authorized(std::string_view token, const ClientRequest& req) {
    if (token.empty()) return false;
    const auto presented = hdr::bearer_token(req[http::field::authorization]);
    return !presented.empty() && crypto::constant_time_equal(presented, token);
}

asio::awaitable<bool> write_reply(beast::tcp_stream& client, int status,
                                  std::string_view content_type, std::string_view body,
                                  bool keep_alive, std::string_view extra_headers) {
    const auto head = qcc::http::ResponseHead(status)
                          .field("content-type", content_type)
                          .content_length(body.size())
                          .field("cache-control", "no-store")
                          .fields(extra_headers)
                          .close(!keep_alive)
                          .take();
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(body.data(), body.size())};
    auto [ec, n] = co_await asio::async_write(client, bufs, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

// ---- request bodies -------------------------------------------------------------------------

json::object body_object(const Call& c, bool required) {
    const auto& body = c.req.body();
    if (body.size() > kMaxBodyBytes) {
        throw ApiError(
            413, "request_too_large",
            "admin request bodies are limited to " + std::to_string(kMaxBodyBytes) + " bytes");
    }
    const std::string_view text(body.data(), body.size());
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (!required) return {};
        bad_request("the request body must be a JSON object");
    }
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) bad_request("the request body is not valid JSON: " + ec.message());
    if (!v.is_object()) bad_request("the request body must be a JSON object");
    return std::move(v.as_object());
}

// ---- query strings --------------------------------------------------------------------------

void reject_unknown_params(const Call& c, std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : c.query) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string list;
        for (auto a : allowed) {
            if (!list.empty()) list += ", ";
            list += a;
        }
        bad_request(
            "unknown query parameter '" + k + "'" +
            (list.empty() ? std::string(" (this route takes none)") : " (allowed: " + list + ")"));
    }
}

std::optional<std::string> param(const Call& c, std::string_view key) {
    std::optional<std::string> out;
    for (const auto& [k, v] : c.query) {
        if (k == key) out = v;
    }
    return out;
}

std::int64_t int_param(const Call& c, std::string_view key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) {
    const auto text = param(c, key);
    if (!text) return fallback;
    std::int64_t v = 0;
    const auto* end = text->data() + text->size();
    auto r = std::from_chars(text->data(), end, v);
    if (text->empty() || r.ec != std::errc{} || r.ptr != end || v < lo || v > hi) {
        bad_request(std::string(key) + ": expected an integer from " + std::to_string(lo) + " to " +
                    std::to_string(hi) + ", got '" + *text + "'");
    }
    return v;
}

std::optional<std::int64_t> parse_span_ms(std::string_view text) {
    std::int64_t n = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (r.ec != std::errc{} || r.ptr == text.data() || n <= 0) return std::nullopt;
    const std::string_view unit(r.ptr, static_cast<std::size_t>(text.data() + text.size() - r.ptr));
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60'000;
    if (unit == "h") scale = 3'600'000;
    if (unit == "d") scale = 86'400'000;
    if (unit == "w") scale = 7 * 86'400'000LL;
    if (scale == 0 || n > INT64_MAX / scale) return std::nullopt;
    return n * scale;
}

// ---- shared helpers -------------------------------------------------------------------------

std::int64_t system_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void check_name(std::string_view name, std::string_view field) {
    if (name.empty() || name.size() > 64) {
        bad_request(std::string(field) + ": must be 1 to 64 characters");
    }
    for (char ch : name) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) {
            bad_request(std::string(field) +
                        ": may contain only letters, digits, '.', '_' and '-'");
        }
    }
}

}  // namespace qcc::admin
