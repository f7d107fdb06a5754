// A client's request as the session reads it: the request line, the fields in arrival order and
// the body, kept flat (one block of text and an index of offsets) instead of in Beast's
// basic_fields, whose per-field allocation and case-insensitive tree insert were a tenth of the
// CPU spent on a proxied request. Beast's basic_parser still does all the parsing and framing
// checks (request line, field syntax, Content-Length, chunked decoding, limits); this file only
// stores what it hands over.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace qcc::proxy {

namespace beast_http = boost::beast::http;

class ClientRequestParser;

class ClientRequest {
  public:
    /// One received field, as sent (name spelling and value unchanged).
    struct Field {
        beast_http::field id;  // field::unknown for names Beast has no constant for
        std::string_view name;
        std::string_view value;
    };

    class FieldIterator {
      public:
        using value_type = Field;
        using difference_type = std::ptrdiff_t;
        FieldIterator() = default;
        FieldIterator(const ClientRequest* req, std::size_t i) : req_(req), i_(i) {}
        Field operator*() const { return req_->field_at(i_); }
        FieldIterator& operator++() {
            ++i_;
            return *this;
        }
        FieldIterator operator++(int) {
            auto copy = *this;
            ++i_;
            return copy;
        }
        bool operator==(const FieldIterator& o) const { return i_ == o.i_; }

      private:
        const ClientRequest* req_ = nullptr;
        std::size_t i_ = 0;
    };

    /// The fields in arrival order: `for (const auto& f : req.fields())`.
    struct FieldRange {
        const ClientRequest* req;
        FieldIterator begin() const { return {req, 0}; }
        FieldIterator end() const { return {req, req->index_.size()}; }
    };

    beast_http::verb method() const { return method_; }
    std::string_view method_string() const { return slice(method_off_, method_len_); }
    std::string_view target() const { return slice(target_off_, target_len_); }
    /// 10 for HTTP/1.0, 11 for HTTP/1.1.
    unsigned version() const { return version_; }
    /// Whether the connection may carry another request after this one (Connection header and
    /// version, as HTTP/1.1 says).
    bool keep_alive() const { return keep_alive_; }

    /// The value of the first field with this name, or "" when there is none.
    std::string_view operator[](beast_http::field id) const;
    std::string_view operator[](std::string_view name) const;
    FieldRange fields() const { return {this}; }
    std::size_t field_count() const { return index_.size(); }

    /// The body; its capacity always exceeds its size by anthropic::kJsonPadding so simdjson can
    /// parse it in place.
    std::string& body() { return body_; }
    const std::string& body() const { return body_; }

  private:
    friend class ClientRequestParser;
    struct Entry {
        beast_http::field id;
        std::uint32_t name_off, name_len, value_off, value_len;
    };
    std::string_view slice(std::uint32_t off, std::uint32_t len) const {
        return std::string_view(text_).substr(off, len);
    }
    Field field_at(std::size_t i) const {
        const auto& e = index_[i];
        return {e.id, slice(e.name_off, e.name_len), slice(e.value_off, e.value_len)};
    }
    std::uint32_t append(std::string_view s);
    void append_body(std::string_view s);

    std::string text_;  // the method, target, names and values, back to back
    std::vector<Entry> index_;
    std::string body_;
    beast_http::verb method_ = beast_http::verb::unknown;
    std::uint32_t method_off_ = 0, method_len_ = 0, target_off_ = 0, target_len_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = true;
};

/// Beast's request parser with ClientRequest as the destination. One parser per request.
class ClientRequestParser final : public beast_http::basic_parser<true> {
  public:
    ClientRequestParser();
    ClientRequest& get() { return req_; }
    const ClientRequest& get() const { return req_; }

  private:
    using string_view = boost::beast::string_view;
    using error_code = boost::beast::error_code;
    void on_request_impl(beast_http::verb method, string_view method_str, string_view target,
                         int version, error_code& ec) override;
    void on_response_impl(int, string_view, int, error_code&) override {}
    void on_field_impl(beast_http::field name, string_view name_string, string_view value,
                       error_code& ec) override;
    void on_header_impl(error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                           error_code& ec) override;
    std::size_t on_body_impl(string_view body, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
    void on_finish_impl(error_code&) override {}

    ClientRequest req_;
};

}  // namespace qcc::proxy
