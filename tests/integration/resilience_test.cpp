// Integration tests of SPEC §4-§7 resilience: breaker, cooldowns, quarantine, fail-open, retry
// budget, session affinity and persistence across restarts — real gateway, fake upstreams, and a
// FakeClock so that open periods and cooldowns pass without waiting.
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "harness/admin_call.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "upstream/breaker.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
using upstream::BreakerState;

BreakerState breaker_state(ProxyFixture& proxy, const std::string& name) {
    return proxy.state(name).breaker.state(proxy.gateway().health().now());
}

std::vector<store::EventRecord> events_of(ProxyFixture& proxy, const std::string& endpoint) {
    proxy.gateway().tick();  // the control thread's pass: persists queued events now
    return proxy.gateway().store().recent_events(100, endpoint);
}

bool has_event(const std::vector<store::EventRecord>& events, std::string_view kind) {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; });
}

TEST(Breaker, OpensAfterThreeFailuresThenHalfOpenTrialClosesIt) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    for (int i = 0; i < 3; ++i) a.push(sim::Reply::error(500, "api_error", "down"));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    EXPECT_EQ(breaker_state(proxy, "a"), BreakerState::kOpen);

    // While open, a gets nothing.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(proxy.send_messages().header("x-qcc-attempts"), "1");
    EXPECT_EQ(a.request_count(), 3u);

    // After the open period, exactly one trial goes to a; its success closes the breaker.
    clock.advance(61s);
    auto trial = proxy.send_messages();
    EXPECT_EQ(trial.header("x-qcc-endpoint"), "a");
    EXPECT_EQ(breaker_state(proxy, "a"), BreakerState::kClosed);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");

    const auto events = events_of(proxy, "a");
    EXPECT_TRUE(has_event(events, "breaker_open"));
    EXPECT_TRUE(has_event(events, "breaker_half_open"));
    EXPECT_TRUE(has_event(events, "breaker_closed"));
}

TEST(Breaker, FailedTrialReopensWithDoubledPeriod) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.set_default(sim::Reply::error(503, "api_error", "still down"));
    for (int i = 0; i < 3; ++i) proxy.send_messages();
    ASSERT_EQ(breaker_state(proxy, "a"), BreakerState::kOpen);
    clock.advance(61s);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");  // the trial failed over
    EXPECT_EQ(breaker_state(proxy, "a"), BreakerState::kOpen);
    EXPECT_EQ(proxy.state("a").breaker.open_period(), 120s);
    clock.advance(61s);  // not yet: the period doubled
    proxy.send_messages();
    EXPECT_EQ(a.request_count(), 4u);
}

TEST(Cooldown, RateLimitedEndpointIsSkippedUntilRetryAfterEnds) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    auto limited = sim::Reply::error(429, "rate_limit_error", "slow down");
    limited.headers.emplace_back("retry-after", "30");
    a.push(limited);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    EXPECT_EQ(a.request_count(), 1u) << "skipped while cooling down";
    EXPECT_EQ(breaker_state(proxy, "a"), BreakerState::kClosed) << "a 429 is not a breaker failure";
    clock.advance(31s);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");
    const auto events = events_of(proxy, "a");
    EXPECT_TRUE(has_event(events, "cooldown_start"));
    EXPECT_TRUE(has_event(events, "cooldown_end"));
}

TEST(Cooldown, OverloadedEndpointGetsShortCooldownNotQuarantine) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(sim::Reply::error(529, "overloaded_error", "Overloaded"));
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    EXPECT_FALSE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    clock.advance(6s);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");
}

TEST(Cooldown, SoftRateLimitWarningLowersWeightButKeepsEndpoint) {
    FakeClock clock;
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())}, {}, "", &clock);
    auto warned = sim::Reply::json(200, sim::text_message_json("m", "hi", {}));
    warned.headers.emplace_back("anthropic-ratelimit-unified-status", "allowed_warning");
    a.push(warned);
    EXPECT_EQ(proxy.send_messages().status, 200);
    const auto now = proxy.gateway().health().now().time_since_epoch().count();
    EXPECT_GT(proxy.state("a").soft_limited_until_ns.load(), now);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a")
        << "a soft warning does not exclude";
}

TEST(FailOpen, AllEndpointsDownTriesThemAnywayAndReturnsLastRealStatus) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.set_default(sim::Reply::error(503, "api_error", "a unavailable"));
    b.set_default(sim::Reply::error(503, "api_error", "b unavailable"));
    for (int i = 0; i < 3; ++i) proxy.send_messages();
    ASSERT_EQ(breaker_state(proxy, "a"), BreakerState::kOpen);
    ASSERT_EQ(breaker_state(proxy, "b"), BreakerState::kOpen);
    const auto before = a.request_count() + b.request_count();
    auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 503) << "the last real upstream status, not an invented one";
    EXPECT_NE(res.body.find("unavailable"), std::string::npos);
    EXPECT_GT(a.request_count() + b.request_count(), before) << "fail open: still tried";
    EXPECT_GE(proxy.gateway().health().counters().fail_open.load(), 1u);
}

TEST(RetryBudget, BoundsRetriesWhenEveryEndpointFails) {
    FakeClock clock;  // frozen: every request falls in one budget bucket
    std::vector<std::unique_ptr<FakeUpstream>> ups;
    std::vector<config::EndpointConfig> eps;
    for (int i = 0; i < 5; ++i) {
        ups.push_back(std::make_unique<FakeUpstream>());
        ups.back()->set_default(sim::Reply::error(500, "api_error", "down"));
        eps.push_back(endpoint_config("e" + std::to_string(i), ups.back()->base_url()));
    }
    ProxyFixture proxy(eps, {}, "", &clock);
    // Keep breakers out of the way: this test is about the budget alone.
    proxy.gateway().store().set_setting("breaker.consecutive_failures", "1000000");
    proxy.gateway().store().set_setting("breaker.min_volume", "1000000");
    proxy.gateway().store().set_setting("retry.budget_burst", "0");  // the ratio and floor alone
    proxy.gateway().tick();
    constexpr int kRequests = 60;
    for (int i = 0; i < kRequests; ++i) EXPECT_EQ(proxy.send_messages().status, 500);
    std::size_t attempts = 0;
    for (const auto& u : ups) attempts += u->request_count();
    // Without a budget: 5 attempts each = 300. With it: 20 % of requests plus the 10/s floor.
    EXPECT_LE(attempts, static_cast<std::size_t>(kRequests + kRequests / 5 + 10));
    EXPECT_GE(attempts, static_cast<std::size_t>(kRequests + 10));
    EXPECT_GT(proxy.gateway().health().counters().retries_denied.load(), 0u);
}

TEST(Affinity, SessionStaysOnOneEndpointWhileOtherSessionsSpread) {
    FakeUpstream a, b, c;
    ProxyFixture proxy({endpoint_config("a", a.base_url()), endpoint_config("b", b.base_url()),
                        endpoint_config("c", c.base_url())});
    const auto first =
        proxy.send_messages("3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c91").header("x-qcc-endpoint");
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(
            proxy.send_messages("3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c91").header("x-qcc-endpoint"),
            first);
    }
    std::map<std::string, int> spread;
    for (int i = 0; i < 30; ++i) {
        spread[proxy.send_messages("session-" + std::to_string(i)).header("x-qcc-endpoint")]++;
    }
    EXPECT_GE(spread.size(), 2u) << "other sessions spread over the endpoints";
    EXPECT_EQ(proxy.gateway().health().counters().repins.load(), 0u);
}

TEST(Affinity, SessionKeyFromMetadataUserIdJsonForm) {
    FakeUpstream a, b, c;
    ProxyFixture proxy({endpoint_config("a", a.base_url()), endpoint_config("b", b.base_url()),
                        endpoint_config("c", c.base_url())});
    const std::string body =
        R"({"model":"claude-sonnet-4-5","max_tokens":10,"metadata":{"user_id":"{\"device_id\":\"d\",\"account_uuid\":\"\",\"session_id\":\"9a9b0c1d-0000-4000-8000-000000000001\"}"},"messages":[{"role":"user","content":"hi"}]})";
    std::set<std::string> used;
    for (int i = 0; i < 8; ++i) {
        TestClient client(proxy.port());
        used.insert(client.request("POST", "/v1/messages", ProxyFixture::client_headers(), body)
                        .header("x-qcc-endpoint"));
    }
    EXPECT_EQ(used.size(), 1u);
}

TEST(Affinity, SessionMovesWhenItsEndpointDiesAndStaysOnTheNewOne) {
    FakeUpstream a, b, c;
    std::map<std::string, FakeUpstream*> by_name{{"a", &a}, {"b", &b}, {"c", &c}};
    ProxyFixture proxy({endpoint_config("a", a.base_url()), endpoint_config("b", b.base_url()),
                        endpoint_config("c", c.base_url())});
    const std::string session = "5b1c2d3e-0000-4000-8000-0000000000aa";
    const auto original = proxy.send_messages(session).header("x-qcc-endpoint");
    ASSERT_TRUE(by_name.count(original));
    // Its endpoint starts failing (pooled connections included).
    by_name[original]->set_default(sim::Reply::error(503, "api_error", "gone"));
    const auto moved = proxy.send_messages(session).header("x-qcc-endpoint");
    EXPECT_NE(moved, original);
    EXPECT_EQ(proxy.gateway().health().counters().repins.load(), 1u);
    by_name[original]->set_fallback(
        [](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(proxy.send_messages(session).header("x-qcc-endpoint"), moved);
    EXPECT_TRUE(has_event(events_of(proxy, moved), "repin"));
}

TEST(Quarantine, OperatorReleaseAndQuarantineThroughTheAdminApi) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(sim::Reply::error(403, "permission_error", "key disabled"));
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    EXPECT_TRUE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.state("a").quarantine_reason(), "auth_failed");
    // What `qcc endpoint release a` sends; it acts on the running server before answering.
    EXPECT_EQ(admin_call(proxy.port(), "POST", "/api/endpoints/a/release").status, 200);
    EXPECT_FALSE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");
    EXPECT_EQ(admin_call(proxy.port(), "POST", "/api/endpoints/a/quarantine").status, 200);
    EXPECT_TRUE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    const auto events = events_of(proxy, "a");
    EXPECT_TRUE(has_event(events, "quarantine"));
    EXPECT_TRUE(has_event(events, "release"));
}

TEST(Settings, RuntimeChangeAppliesWithoutRestart) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    proxy.gateway().store().set_setting("breaker.consecutive_failures", "1");
    proxy.gateway().tick();  // what the control thread does within 1 s
    a.push(sim::Reply::error(500, "api_error", "once"));
    proxy.send_messages();
    EXPECT_EQ(breaker_state(proxy, "a"), BreakerState::kOpen);
}

TEST(Persistence, QuarantineBreakerAndBindingsSurviveRestart) {
    TempDir dir;
    const auto db = dir.file("qcc.sqlite");
    FakeUpstream a, b, c, d;
    auto endpoints = std::vector<config::EndpointConfig>{
        endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2),
        endpoint_config("c", c.base_url(), 2), endpoint_config("d", d.base_url(), 3)};
    const std::string session = "7c7c7c7c-0000-4000-8000-000000000007";
    std::string bound;
    {
        FakeClock clock;
        ProxyFixture proxy(endpoints, {}, db, &clock);
        a.push(sim::Reply::error(401, "authentication_error", "bad key"));
        bound = proxy.send_messages(session).header("x-qcc-endpoint");
        ASSERT_TRUE(proxy.state("a").quarantined.load());
        ASSERT_TRUE(bound == "b" || bound == "c");
        const std::string other = bound == "b" ? "c" : "b";
        auto& up = bound == "b" ? c : b;
        up.set_default(sim::Reply::error(500, "api_error", "down"));
        // Open the other tier-2 endpoint's breaker with failures of its own (sessionless
        // requests alternate between the two tier-2 endpoints).
        for (int i = 0; i < 20 && breaker_state(proxy, other) != BreakerState::kOpen; ++i) {
            proxy.send_messages();
        }
        ASSERT_EQ(breaker_state(proxy, other), BreakerState::kOpen);
    }  // stop(): final persistence
    FakeClock clock;
    ProxyFixture proxy(endpoints, {}, db, &clock);
    const std::string other = bound == "b" ? "c" : "b";
    EXPECT_TRUE(proxy.state("a").quarantined.load()) << "quarantine survives a restart";
    EXPECT_EQ(proxy.state("a").quarantine_reason(), "auth_failed");
    EXPECT_EQ(breaker_state(proxy, other), BreakerState::kOpen) << "breaker survives a restart";
    const auto a_before = a.request_count();
    EXPECT_EQ(proxy.send_messages(session).header("x-qcc-endpoint"), bound) << "binding survives";
    EXPECT_EQ(a.request_count(), a_before);
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(AdaptiveWeights, ComputedFromPassiveStatsAndPersisted) {
    TempDir dir;
    const auto db = dir.file("qcc.sqlite");
    FakeUpstream a;
    auto endpoints = std::vector<config::EndpointConfig>{endpoint_config("a", a.base_url())};
    double computed = 0;
    {
        FakeClock clock;
        ProxyFixture proxy(endpoints, {}, db, &clock);
        proxy.gateway().store().set_setting("balance.adaptive_weights", "true");
        proxy.gateway().tick();
        for (int i = 0; i < 5; ++i) EXPECT_EQ(proxy.send_messages().status, 200);
        clock.advance(31s);
        proxy.gateway().tick();
        computed = proxy.state("a").adaptive_weight.load();
        // Fast, always successful: the SPEC §6 formula moves the weight up from 100.
        EXPECT_GT(computed, 100.0);
        EXPECT_LE(computed, 200.0);
    }
    FakeClock clock;
    ProxyFixture proxy(endpoints, {}, db, &clock);
    EXPECT_NEAR(proxy.state("a").adaptive_weight.load(), computed, 0.001)
        << "the adaptive weight survives a restart";
}

}  // namespace
}  // namespace qcc::test
