#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace qcc::log {

void init(std::string_view level, std::string_view format) {
    auto logger = spdlog::stderr_color_mt("qcc");
    if (format == "json") {
        logger->set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

}  // namespace qcc::log
