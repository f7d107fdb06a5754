#include "proxy/key_limits.hpp"

#include <gtest/gtest.h>

namespace qcc::proxy {
namespace {

// 2026-12-31 23:59:30 UTC: a minute, a day, a month and a year end 30 s later.
constexpr std::int64_t kNewYearsEve = 1798761570000;
constexpr std::int64_t kMinute = 60'000;

TEST(KeyLimits, WindowStartsAreUtc) {
    EXPECT_EQ(KeyMeter::minute_start(kNewYearsEve), kNewYearsEve - 30'000);
    EXPECT_EQ(KeyMeter::day_start(kNewYearsEve), 1798675200000);         // 2026-12-31 00:00
    EXPECT_EQ(KeyMeter::month_start(kNewYearsEve), 1796083200000);       // 2026-12-01 00:00
    EXPECT_EQ(KeyMeter::next_month_start(kNewYearsEve), 1798761600000);  // 2027-01-01 00:00
    EXPECT_EQ(KeyMeter::month_start(1798761600000), 1798761600000);
}

TEST(KeyLimits, RequestsPerMinuteRefuseWithTheSecondsLeftAndDoNotCountRefusals) {
    KeyMeter m;
    KeyLimits l;
    l.requests_per_minute = 2;
    EXPECT_FALSE(m.admit("alice", l, kNewYearsEve));
    EXPECT_FALSE(m.admit("alice", l, kNewYearsEve + 1000));
    const auto refused = m.admit("alice", l, kNewYearsEve + 2000);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->message, "client key alice is limited to 2 requests per minute");
    EXPECT_EQ(refused->retry_after_s, 28);
    EXPECT_FALSE(refused->budget);
    EXPECT_TRUE(m.admit("alice", l, kNewYearsEve + 3000));
    EXPECT_EQ(m.usage(kNewYearsEve + 3000).requests_this_minute, 2);
    // The next minute starts afresh.
    EXPECT_FALSE(m.admit("alice", l, kNewYearsEve + 30'000));
    EXPECT_EQ(m.usage(kNewYearsEve + 30'000).requests_this_minute, 1);
}

TEST(KeyLimits, TokensPerMinuteCountWhatFinishedRequestsUsed) {
    KeyMeter m;
    KeyLimits l;
    l.tokens_per_minute = 1000;
    EXPECT_FALSE(m.admit("bob", l, kNewYearsEve));
    m.add_usage(l, 999, 0, kNewYearsEve);
    EXPECT_FALSE(m.admit("bob", l, kNewYearsEve));
    m.add_usage(l, 1, 0, kNewYearsEve);
    const auto refused = m.admit("bob", l, kNewYearsEve);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->message, "client key bob used its 1000 tokens per minute");
    EXPECT_FALSE(m.admit("bob", l, kNewYearsEve + kMinute));
}

TEST(KeyLimits, ASpentDailyBudgetRefusesUntilMidnightAndSaysSo) {
    KeyMeter m;
    KeyLimits l;
    l.budget_daily_usd = 10;
    EXPECT_EQ(m.add_usage(l, 100, 7.99, kNewYearsEve - 3'600'000), "");
    EXPECT_EQ(m.add_usage(l, 100, 0.02, kNewYearsEve - 3'600'000), "daily");  // crosses 80 %
    EXPECT_EQ(m.add_usage(l, 100, 0.5, kNewYearsEve - 3'600'000), "");        // only once
    EXPECT_FALSE(m.admit("carol", l, kNewYearsEve));
    m.add_usage(l, 100, 1.49, kNewYearsEve);
    const auto refused = m.admit("carol", l, kNewYearsEve);
    ASSERT_TRUE(refused);
    EXPECT_TRUE(refused->budget);
    EXPECT_EQ(refused->retry_after_s, 30);
    EXPECT_EQ(refused->message,
              "client key carol has spent $10.00 of its daily budget of $10.00; the budget "
              "starts again at 00:00 UTC");
    EXPECT_FALSE(m.admit("carol", l, kNewYearsEve + 30'000));  // a new day
}

TEST(KeyLimits, AMonthlyBudgetCountsEveryDayOfTheMonth) {
    KeyMeter m;
    KeyLimits l;
    l.budget_monthly_usd = 0.0002;
    m.seed_spend(0, 0.00015, kNewYearsEve);  // spent earlier this month (request log)
    EXPECT_FALSE(m.admit("dan", l, kNewYearsEve));
    m.add_usage(l, 10, 0.00005, kNewYearsEve);
    const auto refused = m.admit("dan", l, kNewYearsEve);
    ASSERT_TRUE(refused);
    EXPECT_NE(
        refused->message.find("monthly budget of $0.0002; the budget starts again on the 1st"),
        std::string::npos)
        << refused->message;
    EXPECT_EQ(m.usage(kNewYearsEve).spent_this_month_usd, 0.0002);
    EXPECT_FALSE(m.admit("dan", l, kNewYearsEve + 30'000));  // January
}

TEST(KeyLimits, AFleetSharesPerMinuteLimitsAndSaysSo) {
    KeyMeter m;
    KeyLimits l;
    l.requests_per_minute = 10;
    l.tokens_per_minute = 100;
    EXPECT_EQ(m.fleet_size(), 1);
    m.set_fleet_size(3);  // each of three instances admits ceil(10 / 3) = 4 requests
    EXPECT_EQ(m.fleet_size(), 3);
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(m.admit("erin", l, kNewYearsEve)) << i;
    auto refused = m.admit("erin", l, kNewYearsEve);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->message,
              "client key erin is limited to 10 requests per minute (4 on each of 3 instances)");

    // Tokens: ceil(100 / 3) = 34 here.
    KeyMeter t;
    KeyLimits tl;
    tl.tokens_per_minute = 100;
    t.set_fleet_size(3);
    t.add_usage(tl, 33, 0, kNewYearsEve);
    EXPECT_FALSE(t.admit("erin", tl, kNewYearsEve));
    t.add_usage(tl, 1, 0, kNewYearsEve);
    refused = t.admit("erin", tl, kNewYearsEve);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->message,
              "client key erin used its 100 tokens per minute (34 on each of 3 instances)");

    // Back to one instance: the whole limit again; nonsense sizes count as alone.
    t.set_fleet_size(0);
    EXPECT_EQ(t.fleet_size(), 1);
    EXPECT_FALSE(t.admit("erin", tl, kNewYearsEve));
}

TEST(KeyLimits, SharedSpendOnlyEverRaisesTheMeter) {
    KeyMeter m;
    KeyLimits l;
    l.budget_daily_usd = 1;
    m.add_usage(l, 10, 0.25, kNewYearsEve);
    m.raise_spend(0.10, 0.10, kNewYearsEve);  // the shared log lags behind: keep what we know
    EXPECT_EQ(m.usage(kNewYearsEve).spent_today_usd, 0.25);
    m.raise_spend(1.0, 3.0, kNewYearsEve);  // other instances spent the rest
    EXPECT_EQ(m.usage(kNewYearsEve).spent_today_usd, 1.0);
    EXPECT_EQ(m.usage(kNewYearsEve).spent_this_month_usd, 3.0);
    EXPECT_TRUE(m.admit("fay", l, kNewYearsEve));
    EXPECT_FALSE(m.admit("fay", l, kNewYearsEve + 30'000));  // the next day starts at zero
}

TEST(KeyLimits, ParseValidatesAndRoundTrips) {
    std::string error;
    const auto l = parse_key_limits(
        R"({"requests_per_minute":60,"tokens_per_minute":null,"budget_daily_usd":2.5,"budget_monthly_usd":0})",
        &error);
    ASSERT_TRUE(l) << error;
    EXPECT_EQ(l->requests_per_minute, 60);
    EXPECT_EQ(l->tokens_per_minute, 0);
    EXPECT_EQ(l->budget_daily_usd, 2.5);
    EXPECT_EQ(key_limits_json(*l), R"({"requests_per_minute":60,"budget_daily_usd":2.5E0})");
    EXPECT_EQ(parse_key_limits(key_limits_json(*l), &error), l);
    EXPECT_FALSE(parse_key_limits(R"({"rpm":1})", &error));
    EXPECT_NE(error.find("unknown field 'rpm'"), std::string::npos) << error;
    EXPECT_FALSE(parse_key_limits(R"({"requests_per_minute":1.5})", &error));
    EXPECT_EQ(error, "requests_per_minute: expected a whole number (0 or null: no limit)");
    EXPECT_FALSE(parse_key_limits(R"({"budget_daily_usd":-1})", &error));
    EXPECT_EQ(error, "budget_daily_usd: must be between 0 and 1000000000000");
    EXPECT_FALSE(parse_key_limits(R"([1])", &error));
    EXPECT_FALSE(KeyLimits{}.any());
    // Allowed tiers and endpoints: lists; null or [] means every one; they do not meter requests.
    const auto allowed = parse_key_limits(R"({"tiers":[1,2],"endpoints":["relay-a"]})", &error);
    ASSERT_TRUE(allowed) << error;
    EXPECT_EQ(allowed->tiers, (std::vector<int>{1, 2}));
    EXPECT_EQ(allowed->endpoints, std::vector<std::string>{"relay-a"});
    EXPECT_FALSE(allowed->any());
    EXPECT_EQ(key_limits_json(*allowed), R"({"tiers":[1,2],"endpoints":["relay-a"]})");
    EXPECT_TRUE(parse_key_limits(R"({"tiers":null,"endpoints":[]})", &error));
    EXPECT_FALSE(parse_key_limits(R"({"tiers":[0]})", &error));
    EXPECT_EQ(error, "tiers: expected tier numbers between 1 and 100");
    EXPECT_FALSE(parse_key_limits(R"({"endpoints":"a"})", &error));
    EXPECT_EQ(error, "endpoints: expected a list (null or []: every endpoint)");
}

}  // namespace
}  // namespace qcc::proxy
