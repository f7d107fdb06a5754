// Resilience under a realistic mix: while a healthy endpoint exists, clients see no error that
// QCC could have avoided. The retry budget never stops a failover to a healthy endpoint and
// starts with a burst allowance; an endpoint that cuts streams after the commit point (where
// nothing can be retried) is demoted until it completes a stream again. Real gateway, fake
// upstreams, a FakeClock where time matters.
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "store/store.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> stream_events() {
    return sim::text_stream("claude-sonnet-4-5", "A reply streamed in several pieces.", 6,
                            sim::Usage{12, 7, 0, 0});
}

/// A stream the upstream resets after its first content delta (bytes already relayed to the
/// client: events 0-2 are message_start, content_block_start and ping).
sim::Reply cut_stream() {
    const auto events = stream_events();
    auto r = sim::Reply::sse(events);
    r.reset_after_bytes = bytes_past_first_delta(events);
    return r;
}

/// A stream the upstream resets after message_start, before any content.
sim::Reply cut_before_content() {
    const auto events = stream_events();
    auto r = sim::Reply::sse(events);
    r.reset_after_bytes = events[0].size() + events[1].size() + 10;
    return r;
}

ClientResponse send_stream(ProxyFixture& proxy) {
    TestClient client(proxy.port());
    return client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                          ProxyFixture::messages_body(true));
}

bool has_event(ProxyFixture& proxy, const std::string& endpoint, std::string_view kind) {
    proxy.gateway().tick();  // persists queued events now
    const auto events = proxy.gateway().store().recent_events(100, endpoint);
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; });
}

/// Spends the whole process-wide retry budget (the clock is frozen: it stays spent).
void spend_retry_budget(ProxyFixture& proxy) {
    auto& health = proxy.gateway().health();
    const auto budget = health.retry_budget();
    for (int i = 0; i < 10'000 && budget->try_spend_retry(health.now()); ++i) {
    }
    ASSERT_FALSE(budget->try_spend_retry(health.now()));
}

TEST(RetryBudgetVsFailover, ASpentBudgetStillFailsOverToAHealthyEndpoint) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    spend_retry_budget(proxy);
    const auto overloaded = sim::Reply::error(529, "overloaded_error", "Overloaded");

    // b has never answered: not known to be healthy, so the (empty) budget refuses the retry.
    a.push(overloaded);
    EXPECT_EQ(proxy.send_messages().status, 529);
    EXPECT_EQ(b.request_count(), 0u);
    const auto denied = proxy.gateway().health().counters().retries_denied.load();
    EXPECT_GE(denied, 1u);

    // a cools down; b serves and so proves itself healthy.
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");
    clock.advance(6s);

    // Now a's 529 moves to b although the budget is still empty.
    a.push(overloaded);
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(proxy.gateway().health().counters().retries_denied.load(), denied);
}

TEST(RetryBudgetVsFailover, AFailingEndpointIsNotHealthyEnoughToSkipTheBudget) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    spend_retry_budget(proxy);
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");  // a has succeeded once
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "a");
    // b failed its last attempt (a 500): it has a failure streak, so not healthy.
    b.push(sim::Reply::error(500, "api_error", "b down"));
    a.push(sim::Reply::error(500, "api_error", "a down"));
    a.push(sim::Reply::error(500, "api_error", "a down again"));
    EXPECT_EQ(proxy.send_messages().status, 500);  // a fails; b is unknown: budget says no
    EXPECT_EQ(b.request_count(), 0u);
}

TEST(StartUpBurst, NoClientErrorWhileAHealthyEndpointExists) {
    // Tier 1: a answers 529 (slowly), c is healthy; tier 2: b is a healthy backup. Every client
    // arrives at once on a fresh gateway, with the default budget.
    FakeUpstream a, b, c;
    auto slow_529 = sim::Reply::error(529, "overloaded_error", "Overloaded");
    slow_529.head_delay = 100ms;
    a.set_default(slow_529);
    ProxyFixture proxy({endpoint_config("a", a.base_url(), 1),
                        endpoint_config("c", c.base_url(), 1),
                        endpoint_config("b", b.base_url(), 2)});
    constexpr int kClients = 60;
    std::latch start(kClients);
    std::atomic<int> ok{0};
    std::vector<std::string> failures;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&] {
            TestClient client(proxy.port());
            start.arrive_and_wait();
            const auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                            ProxyFixture::messages_body(false));
            if (res.status == 200) {
                ok.fetch_add(1);
            } else {
                std::lock_guard lock(mu);
                failures.push_back(std::to_string(res.status) + " " + res.body);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kClients) << (failures.empty() ? "" : failures.front());
    EXPECT_GE(a.request_count(), 1u) << "the 529 endpoint was tried";
}

TEST(StreamCuts, AnEndpointThatCutsAStreamIsTriedLastUntilItCompletesOne) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    const auto events = stream_events();
    a.push(cut_stream());
    auto first = send_stream(proxy);
    EXPECT_EQ(first.header("x-qcc-endpoint"), "a");
    EXPECT_NE(first.body.find("event: error"), std::string::npos) << "the client saw the cut";
    auto& st = proxy.state("a");
    EXPECT_EQ(st.stream_cuts.load(), 1u);
    EXPECT_EQ(st.cut_hold_ms.load(), 30'000);
    EXPECT_EQ(st.breaker.state(proxy.gateway().health().now()), upstream::BreakerState::kClosed)
        << "one failure does not open the breaker, yet a is demoted";
    EXPECT_TRUE(has_event(proxy, "a", "stream_cut"));

    // Demoted: tier-2 b serves streams and other requests, although a is tier 1.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "b");
    EXPECT_EQ(proxy.send_messages().header("x-qcc-endpoint"), "b");

    // After the hold a is on probation: one streaming trial, which it completes: cleared.
    clock.advance(31s);
    a.push(sim::Reply::sse(events));
    const auto trial = send_stream(proxy);
    EXPECT_EQ(trial.header("x-qcc-endpoint"), "a");
    EXPECT_NE(trial.body.find("message_stop"), std::string::npos);
    // (QCC notes the completed stream just after relaying its last byte.)
    EXPECT_TRUE(eventually([&] { return st.cut_hold_ms.load() == 0; }));
    EXPECT_TRUE(eventually([&] { return has_event(proxy, "a", "streams_recovered"); }));
    EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "a") << "back in its place";
}

TEST(StreamCuts, ACutOnProbationDoublesTheHold) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(cut_stream());
    send_stream(proxy);
    clock.advance(31s);
    a.push(cut_stream());
    EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "a");  // the trial, cut again
    auto& st = proxy.state("a");
    EXPECT_EQ(st.cut_hold_ms.load(), 60'000);
    EXPECT_EQ(st.stream_cuts.load(), 2u);
    clock.advance(31s);
    EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "b") << "still within the 60 s hold";
    clock.advance(30s);
    // On probation again: the trial completes the stream.
    a.push(sim::Reply::sse(stream_events()));
    EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "a");
    EXPECT_TRUE(eventually([&] { return st.cut_hold_ms.load() == 0; })) << "a completed it";
}

TEST(StreamCuts, ProbationAdmitsOneStreamingTrialPerSpacing) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    // A slow trial keeps a on probation while other streams arrive.
    a.push(cut_stream());
    send_stream(proxy);
    clock.advance(31s);
    auto slow = sim::Reply::sse(stream_events(), 200ms);
    a.push(slow);
    b.set_default(sim::Reply::sse(stream_events()));
    std::thread trial([&] { EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "a"); });
    ASSERT_TRUE(a.wait_for_requests(2));  // the trial is under way
    EXPECT_EQ(send_stream(proxy).header("x-qcc-endpoint"), "b") << "one trial at a time";
    trial.join();
    EXPECT_TRUE(eventually([&] { return proxy.state("a").cut_hold_ms.load() == 0; }));
}

TEST(HoldForContent, ACutBeforeTheFirstContentFailsOverInvisibly) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(cut_before_content());
    b.push(sim::Reply::sse(stream_events()));
    const auto res = send_stream(proxy);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(res.body.find("event: error"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("event: message_start"), res.body.rfind("event: message_start"))
        << "a's held message_start never reached the client";
    EXPECT_NE(res.body.find("message_stop"), std::string::npos);
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
    EXPECT_EQ(proxy.state("a").stream_cuts.load(), 0u) << "not a cut the client saw";
}

TEST(HoldForContent, AnErrorEventAfterMessageStartFailsOverToo) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    const auto events = stream_events();
    a.push(sim::Reply::sse(
        {events[0], events[1], sim::error_event("overloaded_error", "Overloaded")}));
    b.push(sim::Reply::sse(stream_events()));
    const auto res = send_stream(proxy);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.body.find("event: error"), std::string::npos) << res.body;
}

TEST(HoldForContent, AStallBeforeContentFailsOver) {
    FakeUpstream a, b;
    auto ca = endpoint_config("a", a.base_url(), 1);
    ca.idle_timeout = 300ms;
    ProxyFixture proxy({ca, endpoint_config("b", b.base_url(), 2)});
    a.push(sim::Reply::sse(stream_events(), 5s));  // message_start, then silence
    b.push(sim::Reply::sse(stream_events()));
    const auto res = send_stream(proxy);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.body.find("event: error"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("message_stop"), std::string::npos);
}

TEST(HoldForContent, OffCommitsAtMessageStartAsBefore) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    proxy.gateway().store().set_setting("stream.hold_for_content", "off");
    proxy.gateway().tick();
    a.push(cut_before_content());
    const auto res = send_stream(proxy);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "a");
    EXPECT_NE(res.body.find("event: error"), std::string::npos) << "committed, then cut";
    EXPECT_EQ(b.request_count(), 0u);
}

TEST(HoldForContent, TheHoldIsBounded) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    proxy.gateway().store().set_setting("stream.hold_for_content", "100ms");
    proxy.gateway().tick();
    // message_start, then only pings for longer than the hold, then a cut before any content:
    // the hold ended at a ping, so the stream was committed and the cut reaches the client.
    const auto events = stream_events();
    std::vector<std::string> slow{events[0]};
    for (int i = 0; i < 6; ++i) slow.push_back(events[2]);  // pings, 50 ms apart
    slow.insert(slow.end(), events.begin() + 3, events.end());
    auto r = sim::Reply::sse(slow, 50ms);
    std::size_t before_content = 0;
    for (int i = 0; i < 7; ++i) before_content += slow[static_cast<std::size_t>(i)].size();
    r.reset_after_bytes = before_content;
    a.push(r);
    const auto res = send_stream(proxy);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "a");
    EXPECT_NE(res.body.find("message_start"), std::string::npos);
    EXPECT_NE(res.body.find("event: error"), std::string::npos) << res.body;
    EXPECT_EQ(b.request_count(), 0u);
}

TEST(StreamCuts, StatusShowsCutsStreams) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.push(cut_stream());
    send_stream(proxy);
    TestClient client(proxy.port());
    const auto res = client.request("GET", "/api/status",
                                    {{"authorization", std::string("Bearer ") + kAdminToken}}, "");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_NE(res.body.find(R"("cuts_streams":true)"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("stream_cuts":1)"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("demoted_ms":30000)"), std::string::npos) << res.body;
}

}  // namespace
}  // namespace qcc::test
