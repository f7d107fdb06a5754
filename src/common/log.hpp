// Logging: spdlog behind one init call. Credentials must never be passed to a log call.
#pragma once
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace qcc::log {

/// Configures the default logger: level ("debug", "info", ...), format ("text" or "json": one
/// JSON object per line) and destination (`file` "" = stderr, for service managers; otherwise a
/// size-rotated file: 5 files of 10 MiB). Throws spdlog::spdlog_ex when the file can't be opened.
void init(std::string_view level, std::string_view format, const std::string& file = {});

/// True when lines are JSON objects. A message that is itself a JSON object ("{...}") is merged
/// into the line's object, so structured lines (one per request) keep their fields.
bool json_format();

}  // namespace qcc::log
