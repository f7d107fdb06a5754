// One builder for every HTTP/1.1 response head QCC writes: relayed upstream answers, its own
// errors, admin answers and event streams. Fields appear in the order they are added.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace qcc::http {

/// The standard reason phrase of a status code ("Overloaded" for 529; "" when unknown).
std::string_view reason_phrase(int status);

/// Builds "HTTP/1.1 <status> <reason>\r\n<fields>\r\n" without intermediate copies.
class ResponseHead {
  public:
    /// `reason` "" = the standard phrase of `status`.
    explicit ResponseHead(int status, std::string_view reason = {});

    /// Adds "name: value". The caller guarantees neither contains CR or LF.
    ResponseHead& field(std::string_view name, std::string_view value);
    /// Adds already formatted "name: value\r\n" lines (e.g. filtered upstream headers).
    ResponseHead& fields(std::string_view lines);
    /// content-length: n.
    ResponseHead& content_length(std::size_t n);
    /// transfer-encoding: chunked.
    ResponseHead& chunked();
    /// connection: close, when `close` is true.
    ResponseHead& close(bool close = true);
    /// The finished head, ending with the blank line. The builder is empty afterwards.
    std::string take();

  private:
    std::string text_;
};

}  // namespace qcc::http
