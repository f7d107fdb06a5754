// Anthropic-format error bodies: the ones QCC writes itself and the ones it classifies.
#pragma once
#include <string>
#include <string_view>

namespace qcc::anthropic {

/// {"type":"error","error":{"type":"<type>","message":"<message>"}} with proper escaping.
std::string error_body(std::string_view type, std::string_view message);

/// "event: error\ndata: <error_body>\n\n" — the SSE form, for failures after the commit point.
std::string sse_error_event(std::string_view type, std::string_view message);

/// error.type of an Anthropic error body (e.g. "overloaded_error"), or "" if absent / not JSON.
/// Meant for small bodies (the body is copied into a padded buffer).
std::string parse_error_type(std::string_view body);

}  // namespace qcc::anthropic
