#include "protocol/http/response_head.hpp"

#include <boost/beast/http/status.hpp>

namespace qcc::http {

std::string_view reason_phrase(int status) {
    if (status == 529) return "Overloaded";
    return boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
}

ResponseHead::ResponseHead(int status, std::string_view reason) {
    text_.reserve(512);
    text_ += "HTTP/1.1 ";
    text_ += std::to_string(status);
    text_ += ' ';
    text_ += reason.empty() ? reason_phrase(status) : reason;
    text_ += "\r\n";
}

ResponseHead& ResponseHead::field(std::string_view name, std::string_view value) {
    text_ += name;
    text_ += ": ";
    text_ += value;
    text_ += "\r\n";
    return *this;
}

ResponseHead& ResponseHead::fields(std::string_view lines) {
    text_ += lines;
    return *this;
}

ResponseHead& ResponseHead::content_length(std::size_t n) {
    return field("content-length", std::to_string(n));
}

ResponseHead& ResponseHead::chunked() { return field("transfer-encoding", "chunked"); }

ResponseHead& ResponseHead::close(bool close) {
    if (close) field("connection", "close");
    return *this;
}

std::string ResponseHead::take() {
    text_ += "\r\n";
    return std::move(text_);
}

}  // namespace qcc::http
