#include "common/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace qcc::log {

void init(std::string_view level, std::string_view format) {
    // Asynchronous: a worker thread formats and writes; a full queue overwrites the oldest
    // message instead of blocking an I/O thread.
    spdlog::init_thread_pool(8192, 1);
    auto logger = spdlog::create_async_nb<spdlog::sinks::stderr_color_sink_mt>("qcc");
    if (format == "json") {
        logger->set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(logger);
}

}  // namespace qcc::log
