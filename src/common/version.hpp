// The QCC version, shown by `qcc --version` and GET /api/status: the project version of the
// top-level CMakeLists.txt (one place to change it), generated into qcc_version.hpp.
#pragma once
#include <string_view>

#include "qcc_version.hpp"

namespace qcc {

inline constexpr std::string_view kVersion = QCC_VERSION;

}  // namespace qcc
