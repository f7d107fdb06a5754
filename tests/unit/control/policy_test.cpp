#include <gtest/gtest.h>

#include "control/controller.hpp"
#include "store/store.hpp"

namespace qcc::control {
using proxy::known_settings;
using proxy::PayloadCapture;
using proxy::validate_setting;
namespace {

TEST(Policy, DefaultsAreTheSpecDefaults) {
    auto store = store::open_sqlite(":memory:");
    const auto p = load_policy(*store);
    EXPECT_EQ(p.breaker.consecutive_failures, 3);
    EXPECT_DOUBLE_EQ(p.breaker.failure_ratio, 0.5);
    EXPECT_EQ(p.breaker.min_volume, 10);
    EXPECT_EQ(p.breaker.window, std::chrono::seconds(60));
    EXPECT_EQ(p.breaker.open_base, std::chrono::seconds(60));
    EXPECT_EQ(p.breaker.open_max, std::chrono::minutes(10));
    EXPECT_EQ(p.max_attempts, 5);
    EXPECT_EQ(p.max_attempts_per_endpoint, 2);
    EXPECT_DOUBLE_EQ(p.retry_budget.ratio, 0.2);
    EXPECT_EQ(p.retry_budget.min_per_second, 10);
    EXPECT_EQ(p.overload_cooldown, std::chrono::seconds(5));
    EXPECT_EQ(p.rate_limit_cooldown, std::chrono::seconds(30));
    EXPECT_EQ(p.strategy, upstream::Strategy::kWeighted);
    EXPECT_EQ(p.affinity.ttl, std::chrono::hours(5));
    EXPECT_EQ(p.affinity_sweep, std::chrono::minutes(5));
    EXPECT_EQ(p.recovery_interval, std::chrono::seconds(60));
    EXPECT_EQ(p.health_interval.count(), 0) << "periodic checks of healthy endpoints are off";
    EXPECT_EQ(p.health_method, "conversation");
    EXPECT_EQ(p.health_concurrency, 2);
    EXPECT_FALSE(p.adaptive_weights);
}

TEST(Policy, StoredSettingsApplyAndBadOnesFallBackWithAWarning) {
    auto store = store::open_sqlite(":memory:");
    store->set_setting("balance.strategy", "least-inflight");
    store->set_setting("breaker.open", "2m");
    store->set_setting("health.interval", "10m");
    store->set_setting("retry.budget_ratio", "7");  // out of range
    std::vector<std::string> warnings;
    const auto p = load_policy(*store, &warnings);
    EXPECT_EQ(p.strategy, upstream::Strategy::kLeastInflight);
    EXPECT_EQ(p.breaker.open_base, std::chrono::minutes(2));
    EXPECT_EQ(p.health_interval, std::chrono::minutes(10));
    EXPECT_DOUBLE_EQ(p.retry_budget.ratio, 0.2);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("retry.budget_ratio"), std::string::npos);
}

TEST(Policy, ValidateSettingNamesTheProblem) {
    EXPECT_EQ(validate_setting("breaker.open", "30s"), "");
    EXPECT_EQ(validate_setting("health.interval", "off"), "");
    EXPECT_NE(validate_setting("breaker.open", "soon"), "");
    EXPECT_NE(validate_setting("balance.strategy", "fastest"), "");
    EXPECT_NE(validate_setting("warmup.connections", "-1"), "");
    EXPECT_EQ(validate_setting("warmup.connections", "0"), "");
    EXPECT_NE(validate_setting("no.such.key", "1").find("unknown setting"), std::string::npos);
    for (const auto& s : known_settings()) {
        EXPECT_EQ(validate_setting(s.key, s.default_value), "")
            << s.key << " default must be valid";
    }
}

}  // namespace
}  // namespace qcc::control
