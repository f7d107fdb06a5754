#include "admin/json_text.hpp"

#include <limits>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace qcc::admin {
namespace {

namespace json = boost::json;

TEST(JsonText, NumbersWithAFractionAreWrittenAsPeopleWriteThem) {
    json::object o;
    o["weight"] = 100.0;
    o["ratio"] = 0.983;
    o["ttfb"] = 820.5;
    o["zero"] = 0.0;
    o["tiny"] = 1e-9;
    o["count"] = std::int64_t{61820};
    o["nan"] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(to_json_text(o),
              R"({"weight":100,"ratio":0.983,"ttfb":820.5,"zero":0,"tiny":1e-09,"count":61820,)"
              R"("nan":null})");
}

TEST(JsonText, EverythingElseIsWhatBoostWrites) {
    const auto v = json::parse(
        R"({"s":"a\"b\n\u00e9\u0001","a":[1,-2,true,false,null,{},[]],"u":18446744073709551615,)"
        R"("k\"ey":{"n":{"m":"x"}}})");
    EXPECT_EQ(to_json_text(v), json::serialize(v));
    EXPECT_EQ(json::parse(to_json_text(v)), v);
}

}  // namespace
}  // namespace qcc::admin
