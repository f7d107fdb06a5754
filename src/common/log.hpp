// Logging: spdlog behind one init call. Credentials must never be passed to a log call.
#pragma once
#include <string_view>

#include <spdlog/spdlog.h>

namespace qcc::log {

/// Configures the default logger: level ("debug", "info", ...) and format ("text" or "json").
void init(std::string_view level, std::string_view format);

}  // namespace qcc::log
