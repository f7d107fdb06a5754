// Header-name helpers shared by request and response rewriting.
#pragma once
#include <string>
#include <string_view>

namespace qcc::http {

/// ASCII case-insensitive equality (HTTP field names are ASCII; other bytes compare exactly).
bool iequals(std::string_view a, std::string_view b);

/// True for hop-by-hop header names (case-insensitive): connection, keep-alive, proxy-authenticate,
/// proxy-authorization, proxy-connection, te, trailer, transfer-encoding, upgrade.
bool is_hop_by_hop(std::string_view name);

/// True if `name` appears as a comma-separated token (trimmed, case-insensitive) in a Connection
/// header value; such headers are hop-by-hop for this message too (RFC 9110 §7.6.1).
bool connection_lists(std::string_view connection_value, std::string_view name);

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, spaces after it
/// skipped); "" when the value is not a Bearer credential.
std::string_view bearer_token(std::string_view authorization);

/// Why a request target may not be forwarded ("" when it may): a dot-segment ("." or "..", also
/// percent-encoded as %2e), a backslash or %5c, an encoded slash %2f, an encoded NUL, or a control
/// character in the path. Such paths could escape /v1/ and an endpoint's base path.
std::string path_problem(std::string_view target);

/// Why a request's Transfer-Encoding cannot be accepted ("" when absent or exactly "chunked"):
/// anything else would make QCC and the next hop disagree about where the body ends.
std::string transfer_encoding_problem(std::string_view value);

}  // namespace qcc::http
