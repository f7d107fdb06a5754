// One string quoting routine for the text formats QCC writes by hand (JSON in the store and in log
// lines, TOML basic strings in `qcc config export`): the escapes both formats accept.
#pragma once
#include <string>
#include <string_view>

namespace qcc {

/// Appends `s` as a double-quoted string: `"` `\` and control characters (incl. DEL) escaped as
/// \" \\ \b \t \n \f \r or \u00XX. Valid as a JSON string and as a TOML basic string.
void append_quoted(std::string& out, std::string_view s);

/// append_quoted into a new string.
std::string quoted(std::string_view s);

}  // namespace qcc
