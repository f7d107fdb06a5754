// Integration tests of SPEC §7 health: the recovery loop releases a quarantined endpoint only
// when its conversational check passes; warm-up pre-opens pooled connections; the admin route
// behind `qcc health` runs checks on demand.
#include <thread>

#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

/// Awaits `pred` with a deadline, running a control-loop pass between looks.
template <class Pred>
bool await_with_ticks(ProxyFixture& proxy, Pred pred, std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        proxy.gateway().tick();
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);  // polling interval of a bounded wait
    }
    return pred();
}

void answer_like_anthropic(FakeUpstream& up) {
    up.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
}

TEST(Recovery, PassingConversationalCheckReleasesQuarantinedEndpoint) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(sim::Reply::error(401, "authentication_error", "key revoked"));
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    ASSERT_TRUE(proxy.state("a").quarantined.load());
    answer_like_anthropic(a);  // the key works again
    proxy.gateway().tick();
    EXPECT_TRUE(proxy.state("a").quarantined.load()) << "no check before the interval";
    clock.advance(61s);
    ASSERT_TRUE(await_with_ticks(proxy, [&] { return !proxy.state("a").quarantined.load(); }));
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a")
        << "released endpoints serve again";
    // The check was a real conversation: max_tokens 20, the check model, Claude-Code-like headers.
    const auto reqs = a.requests();
    const auto& check = reqs.at(1);
    EXPECT_NE(check.body.find(R"("max_tokens":20)"), std::string::npos) << check.body;
    EXPECT_NE(check.body.find("claude-haiku-4-5"), std::string::npos);
    EXPECT_EQ(check.header("x-app"), "cli");
    EXPECT_EQ(check.header("x-api-key"), "sk-ant-a");
    ASSERT_TRUE(await_with_ticks(
        proxy, [&] { return !proxy.gateway().store().recent_health_checks(10, "a").empty(); }));
    const auto history = proxy.gateway().store().recent_health_checks(10, "a");
    EXPECT_EQ(history[0].result, "pass");
    EXPECT_TRUE(history[0].valid);
    EXPECT_GE(history[0].score, 50);
    const auto events = proxy.gateway().store().recent_events(20, "a");
    EXPECT_TRUE(std::any_of(events.begin(), events.end(),
                            [](const auto& e) { return e.kind == "release"; }));
}

TEST(Recovery, EmptyTwoHundredFailsTheCheckAndStaysQuarantined) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(sim::Reply::error(403, "permission_error", "nope"));
    proxy.send_messages();
    ASSERT_TRUE(proxy.state("a").quarantined.load());
    a.set_default(sim::Reply::json(200, ""));  // a relay that answers 200 with nothing
    clock.advance(61s);
    ASSERT_TRUE(await_with_ticks(
        proxy, [&] { return !proxy.gateway().store().recent_health_checks(10, "a").empty(); }));
    const auto history = proxy.gateway().store().recent_health_checks(10, "a");
    EXPECT_EQ(history[0].result, "fail");
    EXPECT_FALSE(history[0].valid);
    EXPECT_TRUE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
}

TEST(Recovery, OpenBreakerIsClosedByAPassingCheck) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    for (int i = 0; i < 3; ++i) a.push(sim::Reply::error(500, "api_error", "down"));
    for (int i = 0; i < 3; ++i) proxy.send_messages();
    const auto now = [&] { return proxy.gateway().health().now(); };
    ASSERT_EQ(proxy.state("a").breaker.state(now()), upstream::BreakerState::kOpen);
    answer_like_anthropic(a);
    clock.advance(61s);
    ASSERT_TRUE(await_with_ticks(proxy, [&] {
        return proxy.state("a").breaker.state(now()) == upstream::BreakerState::kClosed;
    }));
}

TEST(Warmup, FirstRequestReusesAPreOpenedConnection) {
    FakeUpstream a;
    // Warm connections are per worker: one worker makes the count exact.
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url())}, [](config::Config& c) { c.workers = 1; }, "", nullptr,
        /*warmup_connections=*/1);
    ASSERT_TRUE(proxy.gateway().wait_warmup(10s));
    // The proxy's connect completes before the upstream's accept runs: await the accept.
    ASSERT_TRUE(a.server().wait_until(
        [](const sim::Server& s) { return s.connections_accepted() >= 1; }, 10s));
    EXPECT_EQ(a.server().connections_accepted(), 1u) << "one worker, one warm connection";
    EXPECT_EQ(a.request_count(), 0u) << "warm-up spends no tokens";
    EXPECT_EQ(proxy.send_messages().status, 200);
    EXPECT_EQ(a.server().connections_accepted(), 1u) << "the request reused the warm connection";
}

TEST(AdminHealth, RequiresTheAdminToken) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/api/health/check", {}, "");
    EXPECT_EQ(res.status, 401);
    EXPECT_EQ(res.header("connection"), "close") << "refused from the head, then closed";
    client.reconnect();
    auto wrong = client.request("POST", "/api/health/check",
                                {{"authorization", "Bearer not-the-token"}}, "");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(a.request_count(), 0u);
}

TEST(AdminHealth, RunsChecksNowAndReportsEachEndpoint) {
    FakeUpstream good, empty;
    answer_like_anthropic(good);
    empty.set_default(sim::Reply::json(200, R"({"content":[]})"));
    ProxyFixture proxy(
        {endpoint_config("good", good.base_url()), endpoint_config("empty", empty.base_url())});
    TestClient client(proxy.port());
    const Headers auth{{"authorization", std::string("Bearer ") + kAdminToken}};
    auto res = client.request("POST", "/api/health/check", auth, "");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_NE(res.body.find(R"("all_passed":false)"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("endpoint":"good","method":"conversation","result":"pass")"),
              std::string::npos)
        << res.body;
    EXPECT_NE(res.body.find(R"("endpoint":"empty","method":"conversation","result":"fail")"),
              std::string::npos)
        << res.body;
    auto one = client.request("POST", "/api/health/check?endpoint=good&method=models", auth, "");
    EXPECT_NE(one.body.find(R"("all_passed":true)"), std::string::npos) << one.body;
    auto unknown = client.request("POST", "/api/health/check?endpoint=nope", auth, "");
    EXPECT_EQ(unknown.status, 404);
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(AdminHealth, EndpointTagSelectsItsProbeMethod) {
    FakeUpstream a;
    answer_like_anthropic(a);
    auto ep = endpoint_config("cheap", a.base_url());
    ep.tags = {"health:models"};
    ProxyFixture proxy({ep});
    TestClient client(proxy.port());
    const Headers auth{{"authorization", std::string("Bearer ") + kAdminToken}};
    auto res = client.request("POST", "/api/health/check", auth, "");
    ASSERT_EQ(res.status, 200);
    EXPECT_NE(res.body.find(R"("method":"models","result":"pass")"), std::string::npos) << res.body;
    ASSERT_EQ(a.request_count(), 1u);
    EXPECT_EQ(a.requests()[0].method, "GET") << "no tokens spent: GET /v1/models";
    EXPECT_EQ(a.requests()[0].target, "/v1/models");
}

}  // namespace
}  // namespace qcc::test
