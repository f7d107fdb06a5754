#include "cli/format.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace qcc::cli {
namespace {

TEST(Format, HumanUnits) {
    EXPECT_EQ(format_ms(850.4), "850 ms");
    EXPECT_EQ(format_ms(12'345), "12.3 s");
    EXPECT_EQ(format_ms(-1), "-");
    EXPECT_EQ(format_usd(0.01234), "$0.0123");
    EXPECT_EQ(format_usd(0.0000123), "$0.000012");  // a real cost never shows as $0.0000
    EXPECT_EQ(format_usd(0.00009), "$0.000090");
    EXPECT_EQ(format_usd(0), "$0.0000");
    EXPECT_EQ(format_percent(0.975), "97.5%");
    EXPECT_EQ(format_time(0), "-");
    EXPECT_EQ(format_time(1'700'000'000'000).size(), 19u);
}

TEST(Format, CountsAreExactBelowAMillionThenThreeSignificantDigits) {
    EXPECT_EQ(format_count(0), "0");
    EXPECT_EQ(format_count(987), "987");
    EXPECT_EQ(format_count(61'820), "61,820");
    EXPECT_EQ(format_count(244'600), "244,600");  // never "244.6k" next to "61,820"
    EXPECT_EQ(format_count(999'999), "999,999");
    EXPECT_EQ(format_count(1'000'000), "1M");
    EXPECT_EQ(format_count(1'234'567), "1.23M");
    EXPECT_EQ(format_count(1'200'000), "1.2M");
    EXPECT_EQ(format_count(12'345'678), "12.3M");
    EXPECT_EQ(format_count(123'456'789), "123M");
    EXPECT_EQ(format_count(999'600'000), "1B");  // rounds up into the next unit, not "1e+03M"
    EXPECT_EQ(format_count(4'560'000'000), "4.56B");
    EXPECT_EQ(format_count(-61'820), "-61,820");
}

TEST(Format, TableAlignsColumnsByDisplayWidth) {
    Table t({"NAME", "N"}, {false, true});
    t.add_row({"sk-ant…wxyz", "1"});
    t.add_row({"b", "1234"});
    t.set_footer({"TOTAL", "1235"});
    std::ostringstream out;
    t.print(out, TableStyle{});
    EXPECT_EQ(out.str(),
              "NAME            N\n"
              "sk-ant…wxyz     1\n"
              "b            1234\n"
              "TOTAL        1235\n");
}

TEST(Format, TableWithoutColourHasNoEscapeBytesAndNoTrailingBlanks) {
    Table t({"KEY", "VALUE", "STATE"});
    t.state_column(2);
    t.add_row({"a", "x", "ok"});
    t.add_row({"longer key", "yy", ""});
    std::ostringstream out;
    t.print(out, TableStyle{false, 0});
    EXPECT_EQ(out.str(),
              "KEY         VALUE  STATE\n"
              "a           x      ok\n"
              "longer key  yy\n");
    EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
}

TEST(Format, ColourEscapesDoNotCountTowardsTheWidth) {
    Table t({"NAME", "STATE", "N"}, {false, false, true});
    t.state_column(1);
    t.add_row({"é-ü", "open", "1"});
    t.add_row({"b", "closed", "22"});
    std::ostringstream colored, plain;
    t.print(colored, TableStyle{true, 0});
    t.print(plain, TableStyle{false, 0});
    EXPECT_NE(colored.str().find("\x1b[1mNAME\x1b[0m"), std::string::npos) << colored.str();
    EXPECT_NE(colored.str().find("\x1b[31mopen\x1b[0m    "), std::string::npos) << colored.str();
    EXPECT_NE(colored.str().find("\x1b[32mclosed\x1b[0m"), std::string::npos) << colored.str();
    // Without the escapes, the coloured table is the plain one: same padding everywhere.
    std::string stripped = colored.str();
    for (auto at = stripped.find('\x1b'); at != std::string::npos; at = stripped.find('\x1b')) {
        stripped.erase(at, stripped.find('m', at) - at + 1);
    }
    EXPECT_EQ(stripped, plain.str());
    EXPECT_EQ(plain.str(),
              "NAME  STATE    N\n"
              "é-ü   open     1\n"
              "b     closed  22\n");
    EXPECT_EQ(display_width("\x1b[31mopen\x1b[0m"), 4u);
    EXPECT_EQ(display_width("sk-ant…"), 7u);
}

TEST(Format, ColumnsAreCutToTheirMaximumAndWrappedToTheTerminal) {
    Table t({"KEY", "VALUE", "DESCRIPTION"});
    t.column_width(1, 0, 8).wrap_to_terminal(2);
    t.add_row({"a", "{\"x\":{\"input\":1}}", "a long description of the setting"});
    t.add_row({"bb", "1", "short"});
    std::ostringstream wide, narrow;
    t.print(wide, TableStyle{false, 0});
    t.print(narrow, TableStyle{false, 30});
    EXPECT_EQ(wide.str(),
              "KEY  VALUE     DESCRIPTION\n"
              "a    {\"x\":{\"…  a long description of the setting\n"
              "bb   1         short\n");
    // 30 columns leave 15 for the description: it wraps under itself, every line within 30.
    EXPECT_EQ(narrow.str(),
              "KEY  VALUE     DESCRIPTION\n"
              "a    {\"x\":{\"…  a long\n"
              "               description of\n"
              "               the setting\n"
              "bb   1         short\n");
    EXPECT_EQ(truncate("abcdef", 4), "abc…");
    EXPECT_EQ(truncate("abc", 4), "abc");
    EXPECT_EQ(truncate("ééééé", 3), "éé…");
    EXPECT_EQ(wrap("one two three", 7), (std::vector<std::string>{"one two", "three"}));
    EXPECT_EQ(wrap("abcdefghij xy", 4), (std::vector<std::string>{"abcd", "efgh", "ij", "xy"}));
    EXPECT_EQ(wrap("fits", 4), std::vector<std::string>{"fits"});
    EXPECT_EQ(wrap("fits", 0), std::vector<std::string>{"fits"});
}

TEST(Format, RowsPrintedAsTheyComeUseTheFixedWidths) {
    Table t({"TIME", "ID", "TRIED"});
    t.column_width(0, 6, 6).column_width(1, 4, 4).right_align(1);
    EXPECT_EQ(t.header_line(TableStyle{}), "TIME      ID  TRIED");
    EXPECT_EQ(t.row_line({"12:00:00", "7", "a,b"}, TableStyle{}), "12:00…     7  a,b");
}

TEST(Format, HeaderlessTablePrintsOnlyItsRows) {
    Table t({"", ""});
    t.column_width(0, 6);
    t.add_row({"name", "up"});
    std::ostringstream out;
    t.print(out, TableStyle{});
    EXPECT_EQ(out.str(), "name    up\n");
}

TEST(Format, StateTones) {
    EXPECT_EQ(state_tone("ok"), Tone::kGood);
    EXPECT_EQ(state_tone("closed"), Tone::kGood);
    EXPECT_EQ(state_tone("degraded"), Tone::kWarn);
    EXPECT_EQ(state_tone("half-open"), Tone::kWarn);
    EXPECT_EQ(state_tone("breaker half_open"), Tone::kWarn);
    EXPECT_EQ(state_tone("open"), Tone::kBad);
    EXPECT_EQ(state_tone("breaker open"), Tone::kBad);
    EXPECT_EQ(state_tone("quarantined"), Tone::kBad);
    EXPECT_EQ(state_tone("failed"), Tone::kBad);
    EXPECT_EQ(state_tone("unavailable"), Tone::kBad);
    EXPECT_EQ(state_tone("cuts, on trial"), Tone::kWarn);
    EXPECT_EQ(state_tone("200"), Tone::kGood);
    EXPECT_EQ(state_tone("502 upstream_error"), Tone::kBad);
    EXPECT_EQ(state_tone("200 client_cancel"), Tone::kBad);
    EXPECT_EQ(state_tone("claude-sonnet-4-5"), Tone::kPlain);
    EXPECT_EQ(paint("ok", Tone::kGood, false), "ok");
    EXPECT_EQ(paint("ok", Tone::kGood, true), "\x1b[32mok\x1b[0m");
}

TEST(Format, ColourOnlyOnATerminalWithoutNoColorOrDumbTerm) {
    EXPECT_TRUE(decide_color(ColorMode::kAuto, true, nullptr, "xterm-256color"));
    EXPECT_TRUE(decide_color(ColorMode::kAuto, true, nullptr, nullptr));
    EXPECT_TRUE(decide_color(ColorMode::kAuto, true, "", "xterm"));  // empty NO_COLOR: unset
    EXPECT_FALSE(decide_color(ColorMode::kAuto, false, nullptr, "xterm"));
    EXPECT_FALSE(decide_color(ColorMode::kAuto, true, "1", "xterm"));
    EXPECT_FALSE(decide_color(ColorMode::kAuto, true, "false", "xterm"));  // any value counts
    EXPECT_FALSE(decide_color(ColorMode::kAuto, true, nullptr, "dumb"));
    // An explicit --color wins over the environment and the terminal check.
    EXPECT_TRUE(decide_color(ColorMode::kAlways, false, "1", "dumb"));
    EXPECT_FALSE(decide_color(ColorMode::kNever, true, nullptr, "xterm"));
    EXPECT_EQ(parse_color_mode("always"), ColorMode::kAlways);
    EXPECT_EQ(parse_color_mode("never"), ColorMode::kNever);
    EXPECT_EQ(parse_color_mode("auto"), ColorMode::kAuto);
    EXPECT_EQ(parse_color_mode("yes"), std::nullopt);
}

TEST(Format, StdoutRedirectedToABufferIsNotATerminal) {
    std::ostringstream sink;
    auto* old = std::cout.rdbuf(sink.rdbuf());
    const bool terminal = stdout_is_terminal();
    const bool color = color_enabled();
    std::cout.rdbuf(old);
    EXPECT_FALSE(terminal);
    EXPECT_FALSE(color);
}

}  // namespace
}  // namespace qcc::cli
