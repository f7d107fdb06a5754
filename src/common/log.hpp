// Logging: spdlog behind one init call. Credentials must never be passed to a log call.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace qcc::log {

/// Configures the default logger: level ("debug", "info", ...), format ("text" or "json": one
/// JSON object per line) and destination (`file` "" = stderr, for service managers; otherwise a
/// size-rotated file: 5 files of 10 MiB). Throws spdlog::spdlog_ex when the file can't be opened.
void init(std::string_view level, std::string_view format, const std::string& file = {});
/// Stops the flusher and writes out every buffered line (call before exit).
void shutdown();

/// Lets a repeated message through at most once per `interval` (any thread). A caller that is
/// let through learns how many occurrences were held back since the last one, so a flood becomes
/// one line a second with a count instead of a million lines.
class LogThrottle {
  public:
    explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(1))
        : interval_ns_(std::chrono::nanoseconds(interval).count()) {}
    /// True when this occurrence should be logged; then *suppressed (if given) is the number of
    /// occurrences dropped since the last logged one.
    bool allow(std::uint64_t* suppressed = nullptr);

  private:
    std::int64_t interval_ns_;
    std::atomic<std::int64_t> next_ns_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

/// `text` with control characters (and DEL) written as \xHH, so a value taken from a request can
/// never forge a log line or drive a terminal.
std::string escape_control(std::string_view text);
/// escape_control appended to `out`.
void append_escaped(std::string& out, std::string_view text);

/// True when lines are JSON objects. A message that is itself a JSON object ("{...}") is merged
/// into the line's object, so structured lines (one per request) keep their fields.
bool json_format();

}  // namespace qcc::log
