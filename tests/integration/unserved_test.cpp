// When QCC cannot make a single attempt for a request, the answer tells the client (Claude Code)
// what to do: stop at once and show the fix (a configuration problem), or wait exactly until the
// first endpoint recovers (a transient one). When endpoints did answer, their last answer goes
// back unchanged. Real gateway, fake upstreams, a FakeClock for cooldowns.
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "upstream/breaker.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

sim::Reply rate_limited(std::string_view retry_after) {
    auto r = sim::Reply::error(429, "rate_limit_error", "slow down");
    r.headers.emplace_back("retry-after", std::string(retry_after));
    return r;
}

void expect_error_body(const ClientResponse& res, std::string_view type) {
    EXPECT_NE(res.body.find(R"("type":"error")"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(std::string(R"("type":")") + std::string(type) + "\""),
              std::string::npos)
        << res.body;
}

ClientResponse count_tokens(ProxyFixture& proxy) {
    TestClient client(proxy.port());
    return client.request(
        "POST", "/v1/messages/count_tokens", ProxyFixture::client_headers(),
        R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]})");
}

TEST(Unserved, NoEndpointConfiguredStopsTheClientAndSaysHowToAddOne) {
    ProxyFixture proxy({});
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 502);
    EXPECT_EQ(res.header("x-should-retry"), "false");
    EXPECT_EQ(res.header("retry-after"), "");
    expect_error_body(res, "api_error");
    EXPECT_NE(res.body.find("qcc endpoint add"), std::string::npos) << res.body;
}

TEST(Unserved, EveryEndpointDisabledNamesThemAndTheEnableCommand) {
    FakeUpstream a, b;
    auto ca = endpoint_config("a", a.base_url());
    auto cb = endpoint_config("b", b.base_url(), 2);
    ca.enabled = cb.enabled = false;
    ProxyFixture proxy({ca, cb});
    for (const auto& res : {proxy.send_messages(), count_tokens(proxy)}) {
        EXPECT_EQ(res.status, 502);
        EXPECT_EQ(res.header("x-should-retry"), "false");
        expect_error_body(res, "api_error");
        EXPECT_NE(res.body.find("no upstream endpoint is enabled"), std::string::npos) << res.body;
        EXPECT_NE(res.body.find("Disabled: a, b"), std::string::npos) << res.body;
        EXPECT_NE(res.body.find("qcc endpoint enable a"), std::string::npos) << res.body;
    }
    EXPECT_EQ(a.request_count() + b.request_count(), 0u);
}

TEST(Unserved, AModelNoEndpointServesStopsTheClientAndOthersStillFlow) {
    FakeUpstream a;
    auto ca = endpoint_config("a", a.base_url());
    ca.models = {"claude-haiku-*"};
    ProxyFixture proxy({ca});
    TestClient client(proxy.port());
    const auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                    ProxyFixture::messages_body(false, "claude-opus-4-8"));
    EXPECT_EQ(res.status, 502);
    EXPECT_EQ(res.header("x-should-retry"), "false");
    expect_error_body(res, "api_error");
    EXPECT_NE(res.body.find(R"(serves model \"claude-opus-4-8\" (a: claude-haiku-*))"),
              std::string::npos)
        << res.body;
    EXPECT_NE(res.body.find("qcc endpoint set a --model claude-opus-4-8"), std::string::npos);
    EXPECT_EQ(a.request_count(), 0u);

    const auto haiku = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                      ProxyFixture::messages_body(false, "claude-haiku-4-5"));
    EXPECT_EQ(haiku.status, 200) << haiku.body;
    EXPECT_EQ(a.request_count(), 1u);
}

TEST(Unserved, EveryEndpointQuarantinedIsNotTriedAndNamesTheReleaseCommand) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.set_default(sim::Reply::error(401, "authentication_error", "invalid x-api-key"));
    b.set_default(sim::Reply::error(401, "authentication_error", "invalid x-api-key"));
    // The endpoints answered: their last answer goes back unchanged, and both are quarantined.
    const auto answered = proxy.send_messages();
    EXPECT_EQ(answered.status, 401);
    EXPECT_NE(answered.body.find("invalid x-api-key"), std::string::npos) << answered.body;
    EXPECT_EQ(answered.header("x-should-retry"), "");
    ASSERT_TRUE(proxy.state("a").quarantined.load());
    ASSERT_TRUE(proxy.state("b").quarantined.load());
    const auto tried = a.request_count() + b.request_count();

    for (const auto& res : {proxy.send_messages(), count_tokens(proxy)}) {
        EXPECT_EQ(res.status, 502);
        EXPECT_EQ(res.header("x-should-retry"), "false");
        expect_error_body(res, "api_error");
        EXPECT_NE(res.body.find("quarantined: a ("), std::string::npos) << res.body;
        EXPECT_NE(res.body.find("qcc endpoint release a"), std::string::npos) << res.body;
    }
    EXPECT_EQ(a.request_count() + b.request_count(), tried) << "a bad key is not tried again";
    EXPECT_TRUE(proxy.state("a").quarantined.load());
}

TEST(Unserved, EveryEndpointCoolingAsksTheClientToWaitUntilTheFirstRecovers) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(rate_limited("3"));
    b.push(rate_limited("7"));
    // Both answered 429: the client gets the last one, retry-after and all, unchanged.
    const auto answered = proxy.send_messages();
    EXPECT_EQ(answered.status, 429);
    EXPECT_EQ(answered.header("retry-after"), "7");
    EXPECT_EQ(answered.header("x-should-retry"), "");

    // Now nothing may be tried: wait for a, the first to recover (3 s), and retry.
    for (const auto& res : {proxy.send_messages(), count_tokens(proxy)}) {
        EXPECT_EQ(res.status, 503);
        EXPECT_EQ(res.header("retry-after"), "3");
        EXPECT_EQ(res.header("x-should-retry"), "true");
        expect_error_body(res, "api_error");
        EXPECT_NE(res.body.find("cooling down"), std::string::npos) << res.body;
        EXPECT_NE(res.body.find("a (rate_limited, 3 s left)"), std::string::npos) << res.body;
    }
    EXPECT_EQ(a.request_count() + b.request_count(), 2u) << "cooling endpoints are not tried";
    EXPECT_GT(proxy.state("a").cooldown_until_ns.load(), 0);

    clock.advance(2s);
    EXPECT_EQ(proxy.send_messages().header("retry-after"), "1");
    clock.advance(1s);
    const auto later = proxy.send_messages();
    EXPECT_EQ(later.status, 200) << later.body;
    EXPECT_EQ(later.header("x-qcc-endpoint"), "a");
}

TEST(Unserved, ARecoveryFarAwayIsReportedInsteadOfWaitedFor) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(rate_limited("3600"));
    b.push(rate_limited("7200"));
    EXPECT_EQ(proxy.send_messages().status, 429);
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("x-should-retry"), "false") << "nobody waits an hour at a silent prompt";
    EXPECT_EQ(res.header("retry-after"), "3600");
    EXPECT_NE(res.body.find("The first, a, is available again in 1 h"), std::string::npos)
        << res.body;
    EXPECT_NE(res.body.find("UTC"), std::string::npos) << res.body;
}

TEST(Unserved, AQuarantinedAndACoolingEndpointMeanWaitForTheCoolingOne) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(sim::Reply::error(401, "authentication_error", "invalid x-api-key"));
    b.push(rate_limited("5"));
    EXPECT_EQ(proxy.send_messages().status, 429);
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "5");
    EXPECT_EQ(res.header("x-should-retry"), "true");
    EXPECT_NE(res.body.find("b (rate_limited"), std::string::npos) << res.body;
}

TEST(Unserved, EveryEndpointDownWithOpenBreakersAsksToWaitForTheFirstTrial) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.refuse();
    b.refuse();
    // Before the breakers open: each request tries both and says what happened.
    for (int i = 0; i < 3; ++i) {
        const auto res = proxy.send_messages();
        EXPECT_EQ(res.status, 502);
        EXPECT_NE(res.body.find("all upstream endpoints failed"), std::string::npos) << res.body;
    }
    ASSERT_EQ(proxy.state("a").breaker.state(proxy.gateway().health().now()),
              upstream::BreakerState::kOpen);
    ASSERT_EQ(proxy.state("b").breaker.state(proxy.gateway().health().now()),
              upstream::BreakerState::kOpen);
    // Both open (60 s): QCC still tries them (fail open); refused again, the client is asked to
    // wait until the first breaker lets a trial through.
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "60");
    EXPECT_EQ(res.header("x-should-retry"), "true");
    expect_error_body(res, "api_error");
    EXPECT_NE(res.body.find("every upstream endpoint is failing"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("circuit breakers are open"), std::string::npos) << res.body;
    EXPECT_GE(proxy.gateway().health().counters().fail_open.load(), 1u);
}

TEST(Unserved, UpstreamAnswersGoBackUnchangedWithoutQccRetryAdvice) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    auto down = sim::Reply::error(503, "api_error", "upstream maintenance");
    down.headers.emplace_back("retry-after", "11");
    a.set_default(down);
    b.set_default(down);
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "11");
    EXPECT_EQ(res.header("x-should-retry"), "");
    EXPECT_NE(res.body.find("upstream maintenance"), std::string::npos) << res.body;
}

}  // namespace
}  // namespace qcc::test
