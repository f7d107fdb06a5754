// The QCC version, shown by `qcc --version` and GET /api/status.
#pragma once
#include <string_view>

namespace qcc {

inline constexpr std::string_view kVersion = "0.2.0";

}  // namespace qcc
