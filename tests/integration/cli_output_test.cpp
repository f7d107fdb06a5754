// What the management CLI prints for people: aligned tables, no colour escapes off a terminal,
// requests refused for a bad client key shown apart from the statistics, and a warning when an
// edit through the admin API will be undone by the config file at the next start.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "harness/cli_harness.hpp"
#include "harness/proxy_fixture.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

namespace json = boost::json;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

/// The UTF-8 characters of `line`, one string each (a column is one character).
std::vector<std::string> glyphs(const std::string& line) {
    std::vector<std::string> out;
    for (const char c : line) {
        if ((static_cast<unsigned char>(c) & 0xC0) == 0x80 && !out.empty()) {
            out.back() += c;
        } else {
            out.emplace_back(1, c);
        }
    }
    return out;
}

/// The display column where `word` starts in `line` (npos if absent).
std::size_t column_of(const std::string& line, const std::string& word) {
    const auto at = line.find(word);
    return at == std::string::npos ? at : glyphs(line.substr(0, at)).size();
}

TEST_F(CliTest, SettingsListColumnsLineUpEvenWithALongValue) {
    // A long JSON value used to push its row's description far to the right of the others.
    const std::string prices =
        R"({"claude-x":{"input":3,"output":15,"cache_read":0.3},"glm-4.6":{"input":0.6,"output":2.2}})";
    ASSERT_EQ(cli({"settings", "set", "pricing.overrides", prices}).code, 0);
    const auto r = cli({"settings", "list"});
    ASSERT_EQ(r.code, 0) << describe(r);
    const auto lines = lines_of(r.out);
    ASSERT_GT(lines.size(), 10u) << r.out;
    const auto& header = lines[0];
    ASSERT_EQ(header.rfind("KEY", 0), 0u) << r.out;
    std::vector<std::size_t> starts;
    for (const char* h : {"VALUE", "DEFAULT", "DESCRIPTION"}) {
        starts.push_back(column_of(header, h));
        ASSERT_NE(starts.back(), std::string::npos) << h << " missing in: " << header;
    }
    bool saw_prices = false;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto g = glyphs(lines[i]);
        for (const auto start : starts) {
            // Two blanks before each column, and the cell starts exactly at the header's column.
            ASSERT_GT(g.size(), start) << "row " << i << " is short:\n" << r.out;
            EXPECT_TRUE(g[start - 1] == " " && g[start - 2] == " " && g[start] != " ")
                << "row " << i << " does not line up at column " << start << ":\n"
                << header << "\n"
                << lines[i];
        }
        EXPECT_NE(lines[i].back(), ' ') << "trailing blanks: " << lines[i];
        if (lines[i].rfind("pricing.overrides", 0) == 0) {
            saw_prices = true;
            EXPECT_NE(lines[i].find("…"), std::string::npos) << "the long value is cut";
            EXPECT_EQ(lines[i].find("glm-4.6"), std::string::npos) << lines[i];
        }
    }
    EXPECT_TRUE(saw_prices) << r.out;
    // The whole value is still one command away.
    EXPECT_EQ(cli({"settings", "get", "pricing.overrides"}).out, prices + "\n");
}

TEST_F(CliTest, NoEscapeBytesWhenStandardOutputIsNotATerminal) {
    ASSERT_EQ(proxy_->send_messages().status, 200);
    ASSERT_EQ(cli({"endpoint", "quarantine", "up", "--reason", "test"}).code, 0);
    auto& writer = proxy_->gateway().writer();
    ASSERT_TRUE(eventually([&] {
        writer.flush();
        return writer.written() >= 1;
    }));
    const std::vector<std::vector<std::string>> commands{{"status"},
                                                         {"endpoint", "list"},
                                                         {"endpoint", "show", "up"},
                                                         {"key", "list"},
                                                         {"settings", "list"},
                                                         {"stats", "--window", "1h"},
                                                         {"logs"},
                                                         {"events"},
                                                         {"checks"},
                                                         {"status", "--color", "auto"}};
    for (const auto& args : commands) {
        const auto r = cli(args);
        ASSERT_EQ(r.code, 0) << describe(r);
        EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << args[0] << ":\n" << r.out;
        EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << args[0] << ":\n" << r.err;
    }
    // --color always colours even here (and so the check above could fail): bold headers, a red
    // quarantine; --color never and the next run's default are plain again.
    auto r = cli({"status", "--color", "always"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("\x1b[1mENDPOINT\x1b[0m"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\x1b[31mtest\x1b[0m"), std::string::npos) << r.out;
    EXPECT_EQ(cli({"status", "--color", "never"}).out.find('\x1b'), std::string::npos);
    EXPECT_EQ(cli({"status"}).out.find('\x1b'), std::string::npos);
    r = cli({"status", "--color", "sometimes"});
    EXPECT_EQ(r.code, 2) << describe(r);
}

TEST_F(CliTest, StatsShowsRequestsRefusedForABadClientKeyApart) {
    for (int i = 0; i < 3; ++i) ASSERT_EQ(proxy_->send_messages().status, 200);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(send_with_key("sk-qcc-wrong-key"), 401);
    auto& writer = proxy_->gateway().writer();
    ASSERT_TRUE(eventually([&] {
        writer.flush();
        return writer.written() >= 3;
    }));
    proxy_->gateway().tick();  // the control loop's pass: stores the refused count

    const auto stats = cli_json({"stats", "--window", "1h"});
    ASSERT_TRUE(stats.contains("unauthorized")) << json::serialize(stats);
    EXPECT_EQ(stats.at("unauthorized").to_number<std::int64_t>(), 4);
    EXPECT_EQ(stats.at("totals").at("count").to_number<std::int64_t>(), 3);
    EXPECT_EQ(stats.at("totals").at("success_ratio").to_number<double>(), 1.0)
        << "the 401s are not failed requests";

    const auto r = cli({"stats", "--window", "1h"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("refused (bad client key): 4"), std::string::npos) << r.out;
    const auto total = r.out.substr(r.out.find("TOTAL"));
    EXPECT_NE(total.find("100.0%"), std::string::npos) << r.out;
    // Counted in the window they happened in: an earlier hour holds none of them.
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto& st = proxy_->gateway().store();
    EXPECT_EQ(st.count_unauthorized(now - 7'200'000, now - 3'600'000), 0);
    EXPECT_EQ(st.count_unauthorized(now - 3'600'000, now + 60'000), 4);
}

TEST_F(CliTest, EndpointSetWarnsWhenTheConfigFileDeclaresTheEndpoint) {
    const auto file = (home_ / "config.toml").string();
    std::ofstream(file) << "# QCC\nlog_level = \"info\"\n\n[[endpoints]]\nname = \"up\"\n"
                        << "base_url = \"" << upstream_.base_url()
                        << "\"\napi_key = \"sk-ant-up\"\n";
    proxy_.reset();
    proxy_ = std::make_unique<ProxyFixture>(std::vector<config::EndpointConfig>{},
                                            [&](config::Config& c) {
                                                const auto loaded = config::load_file(file);
                                                c.endpoints = loaded.endpoints;
                                                c.source = loaded.source;
                                            });
    const std::string warning = "qcc: warning: endpoint up is declared in " + file +
                                " (line 4); the next start applies the file again and undoes "
                                "this change — edit the file instead\n";
    auto r = cli({"endpoint", "set", "up", "--weight", "5"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.err, warning) << describe(r);
    EXPECT_NE(r.out.find("updated endpoint up"), std::string::npos) << describe(r);

    // The admin API says it in the answer; --json keeps stdout JSON and warns on stderr.
    r = cli({"endpoint", "disable", "up", "--json"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.err, warning);
    const auto answer = json::parse(r.out).as_object();
    EXPECT_EQ(answer.at("enabled"), json::value(false));
    EXPECT_NE(std::string(answer.at("warning").as_string()).find("(line 4)"), std::string::npos);

    // An endpoint only the admin API knows: no warning.
    r = cli({"endpoint", "add", "relay", "--url", "https://relay.example.com", "--key", "k"});
    ASSERT_EQ(r.code, 0) << describe(r);
    r = cli({"endpoint", "set", "relay", "--weight", "5"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.err, "") << describe(r);
    EXPECT_FALSE(cli_json({"endpoint", "set", "relay", "--weight", "6"}).contains("warning"));

    r = cli({"endpoint", "rm", "up"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.err, warning) << "the next start creates it again";
}

TEST_F(CliTest, EndpointSetDoesNotWarnWithoutAConfigFile) {
    // The fixture's endpoints are given in code (like `qcc serve --demo`'s), not by a file.
    const auto r = cli({"endpoint", "set", "up", "--weight", "5"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.err, "") << describe(r);
}

}  // namespace
}  // namespace qcc::test
