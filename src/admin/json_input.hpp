// The admin API's JSON input, kept free of I/O so it can be fuzzed on its own: the errors a handler
// raises, parsing a request body into an object, strict field readers, and turning endpoint fields
// into a validated EndpointConfig.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "config/config.hpp"

namespace qcc::admin {

namespace json = boost::json;

/// Largest request body an admin route accepts.
inline constexpr std::size_t kMaxBodyBytes = 1u << 20;

/// A 4xx/5xx answer raised anywhere inside a handler (or its blocking store work); handle_admin
/// writes it as an Anthropic-shaped error.
class ApiError : public std::runtime_error {
  public:
    ApiError(int status, std::string type, const std::string& message)
        : std::runtime_error(message), status_(status), type_(std::move(type)) {}
    int status() const { return status_; }
    const std::string& type() const { return type_; }

  private:
    int status_;
    std::string type_;
};

/// 400 invalid_request_error / 404 not_found_error / 409 conflict.
[[noreturn]] void bad_request(const std::string& message);
[[noreturn]] void not_found(const std::string& message);
[[noreturn]] void conflict(const std::string& message);

/// 400 invalid_request_error / 404 not_found_error / 409 conflict.
[[noreturn]] void bad_request(const std::string& message);
[[noreturn]] void not_found(const std::string& message);
[[noreturn]] void conflict(const std::string& message);

/// `body` as a JSON object: 413 over kMaxBodyBytes, 400 when it is not a JSON object. An empty
/// body is an empty object when `required` is false, else a 400.
json::object parse_body_object(std::string_view body, bool required);
/// 400 naming the first field of `o` not in `allowed` (read-only fields get their own message).
void reject_unknown_fields(const json::object& o, std::span<const std::string_view> allowed);
inline void reject_unknown_fields(const json::object& o,
                                  std::initializer_list<std::string_view> allowed) {
    reject_unknown_fields(o, std::span<const std::string_view>(allowed.begin(), allowed.size()));
}
/// Typed field readers: 400 "<field>: expected ..." on a wrong type.
std::string string_value(const json::value& v, std::string_view field);
std::int64_t int_value(const json::value& v, std::string_view field);
bool bool_value(const json::value& v, std::string_view field);

/// Every field POST /api/endpoints and PATCH accept.
extern const std::array<std::string_view, 15> kEndpointFields;
/// Applies every field present in `o` to `e` (types checked: 400 on a wrong type).
void apply_endpoint_fields(const json::object& o, config::EndpointConfig& e);
/// config::validate_endpoint with its messages naming the API's fields (…_ms for timeouts); 400.
void validate_endpoint_fields(config::EndpointConfig& e);

}  // namespace qcc::admin
