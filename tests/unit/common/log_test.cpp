// Structured logs (SPEC §11): JSON lines are valid JSON objects whatever the message holds, and a
// message that is a JSON object is merged into the line; a log file is written where asked.
#include "common/log.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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
    // Lines are buffered: shutting the log down writes them out.
    shutdown();
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

TEST(EscapeControl, WritesControlCharactersAsHex) {
    EXPECT_EQ(escape_control("plain é"), "plain é");
    EXPECT_EQ(escape_control("a\x1b[31mb\nforged line\r\x7f"),
              "a\\x1b[31mb\\x0aforged line\\x0d\\x7f");
}

// Long text is scanned eight bytes at a time: a control character anywhere in a word, next to
// bytes >= 0x80 or at either end, is still found.
TEST(EscapeControl, FindsControlCharactersAtEveryPositionOfLongText) {
    const std::string base = "0123456789abcdef\xc3\xa9\xff\x80 request model=claude-sonnet-4-5 end";
    for (const char c : {'\x00', '\x01', '\n', '\x1f', '\x7f'}) {
        for (std::size_t at = 0; at <= base.size(); ++at) {
            std::string text = base;
            text.insert(at, 1, c);
            std::string want = base;
            static constexpr char kHex[] = "0123456789abcdef";
            const auto u = static_cast<unsigned char>(c);
            want.insert(at, std::string("\\x") + kHex[u >> 4] + kHex[u & 0xf]);
            ASSERT_EQ(escape_control(text), want) << "byte " << int(u) << " at " << at;
        }
    }
    EXPECT_EQ(escape_control(base), base);
    EXPECT_EQ(escape_control(std::string(100, ' ')), std::string(100, ' '));
    EXPECT_EQ(escape_control(std::string(3, '\x7e')), std::string(3, '\x7e'));
}

TEST(LogThrottle, LetsOneThroughPerIntervalAndCountsTheRest) {
    LogThrottle t(std::chrono::hours(1));
    std::uint64_t held = 99;
    EXPECT_TRUE(t.allow(&held));
    EXPECT_EQ(held, 0u);
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(t.allow());
    LogThrottle now(std::chrono::milliseconds(0));
    EXPECT_TRUE(now.allow());
    EXPECT_TRUE(now.allow());
}

// Lines reach the file within the flush interval (awaited, not slept for), whole, with request
// values escaped so nothing can forge a line; a warning is written at once.
TEST(TextLog, LinesAreFlushedWholeAndEscaped) {
    const test::TempDir dir("qcc-log-test");
    const auto file = dir.file("qcc.log");
    init("info", "text", file);
    spdlog::info("request model={} session={}", "claude\x1b[2J", "s1\nINFO forged");
    auto read = [&] {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((text = read()).find("request model") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a bounded wait
    }
    spdlog::warn("a warning");
    const auto after_warning = read();  // written by the call itself, no flusher involved
    shutdown();
    spdlog::shutdown();
    EXPECT_NE(after_warning.find("warning a warning\n"), std::string::npos) << after_warning;
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("after-test"));  // no sinks
    ASSERT_NE(text.find("request model=claude\\x1b[2J session=s1\\x0aINFO forged\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.back(), '\n') << "only whole lines";
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
    EXPECT_EQ(std::count(after_warning.begin(), after_warning.end(), '\n'), 2);
}

}  // namespace
}  // namespace qcc::log
