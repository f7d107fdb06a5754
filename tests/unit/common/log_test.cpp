// Structured logs (SPEC §11): JSON lines are valid JSON objects whatever the message holds, and a
// message that is a JSON object is merged into the line; a log file is written where asked.
#include "common/log.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/quoted.hpp"
#include "support/eventually.hpp"
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
// values escaped so nothing can forge a line; a warning wakes the log thread.
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
    test::eventually([&] { return (text = read()).find("request model") != std::string::npos; });
    spdlog::warn("a warning");
    // Written by the log thread, woken at once (not left for the next 200 ms tick).
    std::string after_warning;
    EXPECT_TRUE(test::eventually(
        [&] { return (after_warning = read()).find("warning a warning\n") != std::string::npos; }));
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

// A destination that stops reading (a full pipe: a terminal paused with Ctrl-S, a stuck log
// collector) must never hold up the threads that log — workers log every request. Lines pile up
// to a cap, the rest are dropped and counted, and once the destination reads again everything
// kept arrives whole, followed by the count of what was lost.
TEST(TextLog, AStalledDestinationNeverBlocksTheThreadsThatLog) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::fcntl(fds[1], F_SETPIPE_SZ, 4096);
    const int saved_stderr = ::dup(STDERR_FILENO);
    ASSERT_GE(saved_stderr, 0);
    ASSERT_GE(::dup2(fds[1], STDERR_FILENO), 0);
    ::close(fds[1]);
    init("info", "text");

    // 12 MiB of lines (more than the 8 MiB kept) while nobody reads the pipe.
    const std::string filler(200, 'x');
    constexpr int kLines = 60'000;
    auto logging = std::async(std::launch::async, [&] {
        for (int i = 0; i < kLines; ++i) spdlog::info("line {} {}", i, filler);
    });
    const bool returned = logging.wait_for(std::chrono::seconds(20)) == std::future_status::ready;

    // Now read everything (this also unblocks a logger stuck in write, so the test can end).
    std::string out;
    auto reader = std::async(std::launch::async, [&] {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
    });
    logging.wait();
    shutdown();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("after-test"));  // no sinks
    ::dup2(saved_stderr, STDERR_FILENO);  // closes the pipe's last write end: the reader ends
    ::close(saved_stderr);
    reader.wait();
    ::close(fds[0]);

    EXPECT_TRUE(returned) << "logging blocked on the stalled destination";
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back(), '\n') << "only whole lines";
    std::istringstream in(out);
    std::string line;
    int kept = 0;
    long long dropped = -1;
    while (std::getline(in, line)) {
        if (line.find(" info  line ") != std::string::npos) {
            EXPECT_TRUE(line.ends_with(filler)) << "a cut line: " << line.substr(0, 80);
            ++kept;
        } else if (const auto at = line.find("warning "); at != std::string::npos) {
            EXPECT_EQ(dropped, -1) << "one count, once the destination moved again";
            dropped = std::stoll(line.substr(at + 8));
            EXPECT_NE(line.find("log line(s) dropped here"), std::string::npos) << line;
        }
    }
    EXPECT_GT(kept, 0);
    EXPECT_GT(dropped, 0) << "12 MiB cannot all be kept";
    EXPECT_EQ(kept + dropped, kLines) << "every line either arrived or was counted";
}

}  // namespace
}  // namespace qcc::log
