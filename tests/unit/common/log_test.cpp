// Structured logs (SPEC §11): JSON lines are valid JSON objects whatever the message holds, and a
// message that is a JSON object is merged into the line; a log file is written where asked.
#include "common/log.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/quoted.hpp"
#include "support/temp_dir.hpp"

namespace qcc::log {
namespace {

TEST(Quoted, EscapesQuotesBackslashesAndControlCharacters) {
    EXPECT_EQ(quoted("a\"b\\c\nd\te\x01\x7f é"), "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f é\"");
    EXPECT_EQ(quoted(""), "\"\"");
}

TEST(JsonLog, LinesAreObjectsAndStructuredMessagesKeepTheirFields) {
    const test::TempDir dir("qcc-log-test");
    const auto file = dir.file("qcc.log");
    init("info", "json", file);
    EXPECT_TRUE(json_format());
    spdlog::info("plain \"quoted\" message");
    spdlog::info(R"({"msg":"request","request_id":"r1","status":200})");
    spdlog::debug("below the level");
    // The logger is asynchronous: shutting spdlog down joins its thread after the queue drained.
    spdlog::shutdown();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("after-test"));  // no sinks
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].rfind(R"({"ts":")", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(R"("level":"info","msg":"plain \"quoted\" message"})"),
              std::string::npos)
        << lines[0];
    EXPECT_NE(lines[1].find(R"("level":"info","msg":"request","request_id":"r1","status":200})"),
              std::string::npos)
        << lines[1];
}

}  // namespace
}  // namespace qcc::log
