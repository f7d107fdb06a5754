#include "proxy/client_request.hpp"

#include <algorithm>

#include "protocol/anthropic/request_view.hpp"
#include "protocol/http/headers.hpp"

namespace qcc::proxy {

namespace {
// Room for a typical Claude Code head (about 1 KB of fields) and its field count, so that most
// requests allocate the text and the index once.
constexpr std::size_t kTextReserve = 1536;
constexpr std::size_t kFieldsReserve = 24;
}  // namespace

std::string_view ClientRequest::operator[](beast_http::field id) const {
    for (const auto& e : index_) {
        if (e.id == id) return slice(e.value_off, e.value_len);
    }
    return {};
}

std::string_view ClientRequest::operator[](std::string_view name) const {
    const auto id = beast_http::string_to_field(name);
    if (id != beast_http::field::unknown) return (*this)[id];
    for (const auto& e : index_) {
        if (e.id == beast_http::field::unknown && e.name_len == name.size() &&
            qcc::http::iequals(slice(e.name_off, e.name_len), name)) {
            return slice(e.value_off, e.value_len);
        }
    }
    return {};
}

std::uint32_t ClientRequest::append(std::string_view s) {
    const auto off = static_cast<std::uint32_t>(text_.size());
    text_.append(s.data(), s.size());
    return off;
}

void ClientRequest::append_body(std::string_view s) {
    const auto old = body_.size();
    if (body_.capacity() < old + s.size() + anthropic::kJsonPadding) {
        body_.reserve(std::max(body_.capacity() * 2, old + s.size() + anthropic::kJsonPadding));
    }
    body_.append(s.data(), s.size());
}

ClientRequestParser::ClientRequestParser() {
    req_.text_.reserve(kTextReserve);
    req_.index_.reserve(kFieldsReserve);
}

void ClientRequestParser::on_request_impl(beast_http::verb method, string_view method_str,
                                          string_view target, int version, error_code& ec) {
    req_.method_ = method;
    req_.method_off_ = req_.append({method_str.data(), method_str.size()});
    req_.method_len_ = static_cast<std::uint32_t>(method_str.size());
    req_.target_off_ = req_.append({target.data(), target.size()});
    req_.target_len_ = static_cast<std::uint32_t>(target.size());
    req_.version_ = static_cast<unsigned>(version);
    ec = {};
}

void ClientRequestParser::on_field_impl(beast_http::field name, string_view name_string,
                                        string_view value, error_code& ec) {
    // (The parser's header limit bounds the text well below 4 GiB.)
    const auto name_off = req_.append({name_string.data(), name_string.size()});
    const auto value_off = req_.append({value.data(), value.size()});
    req_.index_.push_back({name, name_off, static_cast<std::uint32_t>(name_string.size()),
                           value_off, static_cast<std::uint32_t>(value.size())});
    ec = {};
}

void ClientRequestParser::on_header_impl(error_code& ec) {
    req_.keep_alive_ = keep_alive();
    ec = {};
}

void ClientRequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                            error_code& ec) {
    if (content_length) {
        req_.body_.reserve(static_cast<std::size_t>(*content_length) + anthropic::kJsonPadding);
    }
    ec = {};
}

std::size_t ClientRequestParser::on_body_impl(string_view body, error_code& ec) {
    req_.append_body({body.data(), body.size()});
    ec = {};
    return body.size();
}

std::size_t ClientRequestParser::on_chunk_body_impl(std::uint64_t /*remain*/, string_view body,
                                                    error_code& ec) {
    req_.append_body({body.data(), body.size()});
    ec = {};
    return body.size();
}

}  // namespace qcc::proxy
