// Small JSON text helpers for the few bodies QCC writes by hand (error bodies, spliced model
// names).
#pragma once
#include <string>
#include <string_view>

namespace qcc::anthropic {

/// Escapes `s` for use inside a JSON string literal (the surrounding quotes are not added):
/// `"` and `\` are backslash-escaped, control characters become \u00XX, and invalid UTF-8
/// sequences become U+FFFD so the result is always valid JSON.
std::string json_escape(std::string_view s);

/// json_escape(s) appended to `out` (avoids a temporary when building a larger body).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace qcc::anthropic
