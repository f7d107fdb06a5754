#include "proxy/unserved.hpp"

#include <gtest/gtest.h>

namespace qcc::proxy {
namespace {

using namespace std::chrono_literals;
using upstream::Blocked;
using upstream::Endpoint;
using upstream::EndpointSet;
using upstream::Selection;

std::shared_ptr<const Endpoint> make(
    const std::string& name, bool enabled = true, std::vector<std::string> models = {},
    std::vector<std::pair<std::string, std::string>> model_map = {}) {
    config::EndpointConfig cfg;
    cfg.name = name;
    cfg.base_url = "https://" + name + ".example.com";
    cfg.enabled = enabled;
    cfg.models = std::move(models);
    cfg.model_map = std::move(model_map);
    return std::make_shared<const Endpoint>(upstream::make_endpoint(name, cfg, {}, nullptr));
}

const SteadyTime kNow{std::chrono::hours(100)};
constexpr std::int64_t kNowUnixMs = 1'796'000'000'000;  // 2026-11-30 00:53:20 UTC

void cool(const Endpoint& ep, std::chrono::milliseconds left, std::string reason) {
    ep.state->cooldown_until_ns.store((kNow + left).time_since_epoch().count());
    ep.state->set_cooldown_reason(std::move(reason));
}

Selection blocked(Blocked why, const Endpoint* first = nullptr, SteadyTime at = {}) {
    Selection s;
    s.blocked = why;
    s.recovers_first = first;
    s.recovers_at = at;
    return s;
}

TEST(Unserved, ConfigurationProblemsStopTheClientAndNameTheFix) {
    EndpointSet empty;
    auto u = unserved(empty, blocked(Blocked::kNoEndpoint), "", kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 502);
    EXPECT_EQ(u.type, "api_error");
    EXPECT_EQ(u.error_class, "no_endpoint");
    EXPECT_EQ(u.headers, "x-should-retry: false\r\n");
    EXPECT_TRUE(u.message.starts_with("QCC: no upstream endpoint is configured"));
    EXPECT_NE(u.message.find("qcc endpoint add NAME --url"), std::string::npos);

    EndpointSet off;
    off.endpoints = {make("x", false), make("y", false)};
    u = unserved(off, blocked(Blocked::kNoneEnabled), "", kNow, kNowUnixMs);
    EXPECT_EQ(u.error_class, "no_endpoint_enabled");
    EXPECT_EQ(u.headers, "x-should-retry: false\r\n");
    EXPECT_NE(u.message.find("Disabled: x, y (enable one: qcc endpoint enable x)"),
              std::string::npos)
        << u.message;

    EndpointSet bad;
    bad.endpoints = {make("k1"), make("k2"), make("spare", false)};
    for (const auto& ep : bad.endpoints) ep->state->quarantined = true;
    bad.endpoints[0]->state->set_quarantine_reason("auth_failed");
    u = unserved(bad, blocked(Blocked::kAllQuarantined), "", kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 502);
    EXPECT_EQ(u.error_class, "all_quarantined");
    EXPECT_EQ(u.headers, "x-should-retry: false\r\n");
    EXPECT_NE(u.message.find("quarantined: k1 (auth_failed), k2."), std::string::npos) << u.message;
    EXPECT_NE(u.message.find("qcc endpoint set k1 --key NEW_KEY"), std::string::npos);
    EXPECT_NE(u.message.find("qcc endpoint release k1"), std::string::npos);
    EXPECT_NE(u.message.find("Disabled: spare"), std::string::npos) << u.message;
}

TEST(Unserved, AModelNoEndpointServesNamesWhatEachServesAndTheFix) {
    EndpointSet set;
    set.endpoints = {make("a", true, {"claude-sonnet-*", "haiku"}),
                     make("b", true, {"claude-haiku-4-5"}, {{"sonnet", "glm-4.6"}})};
    const auto u =
        unserved(set, blocked(Blocked::kModelUnserved), "claude-opus-4-8", kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 502);
    EXPECT_EQ(u.error_class, "model_unserved");
    EXPECT_EQ(u.headers, "x-should-retry: false\r\n");
    EXPECT_NE(u.message.find("no enabled upstream endpoint serves model \"claude-opus-4-8\" "
                             "(a: claude-sonnet-* haiku; b: claude-haiku-4-5 sonnet)"),
              std::string::npos)
        << u.message;
    EXPECT_NE(u.message.find("qcc endpoint set a --model claude-opus-4-8"), std::string::npos);
}

TEST(Unserved, ShortCooldownsAskTheClientToWaitExactlyUntilTheFirstRecovery) {
    EndpointSet set;
    set.endpoints = {make("a"), make("b")};
    cool(*set.endpoints[0], 2500ms, "rate_limited");
    cool(*set.endpoints[1], 40s, "overloaded");
    auto u = unserved(set, blocked(Blocked::kAllCooling, set.endpoints[0].get(), kNow + 2500ms), "",
                      kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 503);
    EXPECT_EQ(u.error_class, "all_cooling");
    EXPECT_EQ(u.headers, "retry-after: 3\r\nx-should-retry: true\r\n") << "rounded up";
    EXPECT_NE(u.message.find("a (rate_limited, 3 s left), b (overloaded, 40 s left)"),
              std::string::npos)
        << u.message;
    EXPECT_NE(u.message.find("Retry in 3 s."), std::string::npos) << u.message;

    // At the cap: still waited for.
    u = unserved(set, blocked(Blocked::kAllCooling, set.endpoints[0].get(), kNow + kMaxRetryAfter),
                 "", kNow, kNowUnixMs);
    EXPECT_EQ(u.headers, "retry-after: 60\r\nx-should-retry: true\r\n");
}

TEST(Unserved, LongCooldownsAreReportedWithTheClockTime) {
    EndpointSet set;
    set.endpoints = {make("a")};
    cool(*set.endpoints[0], 2h + 5min, "rate_limited");
    const auto u =
        unserved(set, blocked(Blocked::kAllCooling, set.endpoints[0].get(), kNow + 2h + 5min), "",
                 kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 503);
    EXPECT_EQ(u.headers, "retry-after: 7500\r\nx-should-retry: false\r\n");
    EXPECT_NE(u.message.find("The first, a, is available again in 2 h 5 min (at 02:58:20 UTC)"),
              std::string::npos)
        << u.message;
    EXPECT_NE(u.message.find("qcc endpoint list"), std::string::npos);
}

TEST(Unserved, AllFailingWaitsForTheFirstBreakerToReopen) {
    EndpointSet set;
    set.endpoints = {make("a"), make("b")};
    for (const auto& ep : set.endpoints) {
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(ep->state->breaker.try_acquire(kNow));
            ep->state->breaker.on_failure(kNow);
        }
    }
    auto u = all_failing(set, "a (connect_refused), b (connect_refused)", kNow + 15s, kNowUnixMs);
    EXPECT_EQ(u.status, 503);
    EXPECT_EQ(u.error_class, "all_failing");
    EXPECT_EQ(u.headers, "retry-after: 45\r\nx-should-retry: true\r\n");
    EXPECT_NE(u.message.find("failing (a (connect_refused), b (connect_refused)); their circuit "
                             "breakers are open. Retry in 45 s."),
              std::string::npos)
        << u.message;
}

TEST(Unserved, EveryBreakerBusyWithItsTrialMeansRetrySoon) {
    EndpointSet set;
    set.endpoints = {make("a")};
    const auto u = unserved(set, blocked(Blocked::kNone), "", kNow, kNowUnixMs);
    EXPECT_EQ(u.status, 503);
    EXPECT_EQ(u.error_class, "all_recovering");
    EXPECT_EQ(u.headers, "retry-after: 1\r\nx-should-retry: true\r\n");
}

}  // namespace
}  // namespace qcc::proxy
