#include "cli/format.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace qcc::cli {
namespace {

TEST(Format, HumanUnits) {
    EXPECT_EQ(format_ms(850.4), "850 ms");
    EXPECT_EQ(format_ms(12'345), "12.3 s");
    EXPECT_EQ(format_ms(-1), "-");
    EXPECT_EQ(format_tokens(987), "987");
    EXPECT_EQ(format_tokens(12'345), "12,345");
    EXPECT_EQ(format_tokens(123'456), "123.5k");
    EXPECT_EQ(format_tokens(12'345'678), "12.35M");
    EXPECT_EQ(format_count(1'234'567), "1,234,567");
    EXPECT_EQ(format_usd(0.01234), "$0.0123");
    EXPECT_EQ(format_usd(0.0000123), "$0.000012");  // a real cost never shows as $0.0000
    EXPECT_EQ(format_usd(0.00009), "$0.000090");
    EXPECT_EQ(format_usd(0), "$0.0000");
    EXPECT_EQ(format_percent(0.975), "97.5%");
    EXPECT_EQ(format_time(0), "-");
    EXPECT_EQ(format_time(1'700'000'000'000).size(), 19u);
}

TEST(Format, TableAlignsColumnsByDisplayWidth) {
    Table t({"NAME", "N"}, {false, true});
    t.add_row({"sk-ant…wxyz", "1"});
    t.add_row({"b", "1234"});
    t.set_footer({"TOTAL", "1235"});
    std::ostringstream out;
    t.print(out);
    EXPECT_EQ(out.str(),
              "NAME            N\n"
              "sk-ant…wxyz     1\n"
              "b            1234\n"
              "TOTAL        1235\n");
}

}  // namespace
}  // namespace qcc::cli
