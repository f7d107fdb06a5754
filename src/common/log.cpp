#include "common/log.hpp"

#include <atomic>
#include <ctime>

#include <spdlog/async.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/quoted.hpp"

namespace qcc::log {

namespace {

std::atomic<bool> g_json{false};

/// {"ts":"2026-11-27T10:15:03.123Z","level":"info","msg":"..."} — or the message's own fields
/// when the message is a JSON object.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since = msg.time.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
        const std::time_t t = secs.count();
        std::tm tm{};
        gmtime_r(&t, &tm);
        char ts[64];
        const auto n = std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                     tm.tm_min, tm.tm_sec, static_cast<int>(millis));
        std::string line = R"({"ts":")";
        line.append(ts, static_cast<std::size_t>(n));
        line += R"(","level":")";
        const auto level = spdlog::level::to_string_view(msg.level);
        line.append(level.data(), level.size());
        line += "\",";
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        if (payload.size() >= 2 && payload.front() == '{' && payload.back() == '}') {
            line.append(payload.substr(1, payload.size() - 2));
        } else {
            line += "\"msg\":";
            append_quoted(line, payload);
        }
        line += "}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

}  // namespace

bool json_format() { return g_json.load(std::memory_order_relaxed); }

void init(std::string_view level, std::string_view format, const std::string& file) {
    // Asynchronous: a worker thread formats and writes; a full queue overwrites the oldest
    // message instead of blocking an I/O thread.
    spdlog::init_thread_pool(8192, 1);
    std::shared_ptr<spdlog::logger> logger;
    if (file.empty()) {
        logger = spdlog::create_async_nb<spdlog::sinks::stderr_color_sink_mt>("qcc");
    } else {
        constexpr std::size_t kFileBytes = 10u << 20;
        constexpr std::size_t kFiles = 5;
        logger = spdlog::create_async_nb<spdlog::sinks::rotating_file_sink_mt>("qcc", file,
                                                                               kFileBytes, kFiles);
    }
    g_json = format == "json";
    if (g_json) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(logger);
}

}  // namespace qcc::log
