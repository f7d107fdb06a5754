// Integration tests of the gateway core (SPEC §2, §3, §4 failover rows, §8 timeouts): the real
// server in-process against scripted fake upstreams, asserting what the client received and what
// the endpoint state became.
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> demo_events(int pieces = 4) {
    return sim::text_stream("claude-sonnet-4-5",
                            "Hello from the fake upstream, streamed in pieces.", pieces,
                            sim::Usage{12, 7, 3, 5});
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x;
    return s;
}

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// ---- pass-through ------------------------------------------------------------------------

class FixturePassThrough : public ::testing::TestWithParam<std::string> {};

TEST_P(FixturePassThrough, ForwardsBodyAndHeadersByteForByte) {
    const std::string base = std::string(QCC_FIXTURES_DIR) + "/claude-code/" + GetParam();
    const std::string body = read_file(base + ".body.json");
    std::istringstream head_lines(read_file(base + ".headers.txt"));
    std::string request_line, line;
    std::getline(head_lines, request_line);
    Headers sent;
    while (std::getline(head_lines, line)) {
        if (line.empty()) continue;
        const auto colon = line.find(':');
        std::string name = line.substr(0, colon), value = line.substr(colon + 2);
        if (iequal(name, "content-length")) continue;  // recomputed for the real body
        if (iequal(name, "x-api-key")) value = kClientKey;
        sent.emplace_back(name, value);
    }

    FakeUpstream up;
    const auto events = demo_events();
    up.push(sim::Reply::sse(events));
    // A base URL with a path prefix, as relays have.
    ProxyFixture proxy({endpoint_config("relay", up.base_url() + "/api/anthropic")});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages?beta=true", sent, body);

    ASSERT_EQ(res.status, 200);
    EXPECT_TRUE(res.complete);
    EXPECT_EQ(res.body, joined(events)) << "SSE bytes must reach the client unchanged";
    EXPECT_EQ(res.header("x-qcc-endpoint"), "relay");
    EXPECT_EQ(res.header("x-qcc-attempts"), "1");

    ASSERT_EQ(up.request_count(), 1u);
    const auto got = up.requests()[0];
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.target, "/api/anthropic/v1/messages?beta=true");
    EXPECT_EQ(got.body, body) << "the body must be forwarded byte for byte";

    // Every client header except credentials, hop-by-hop and accept-encoding arrives unchanged,
    // in order, with the same name spelling.
    auto dropped = [](std::string_view n) {
        return iequal(n, "x-api-key") || iequal(n, "authorization") || iequal(n, "connection") ||
               iequal(n, "accept-encoding") || iequal(n, "host") || iequal(n, "content-length");
    };
    Headers expected, received;
    for (const auto& h : sent) {
        if (!dropped(h.first)) expected.push_back(h);
    }
    for (const auto& h : got.headers) {
        if (!dropped(h.first)) received.push_back(h);
    }
    EXPECT_EQ(received, expected);
    EXPECT_EQ(got.header("x-api-key"), "sk-ant-relay");
    EXPECT_EQ(got.header("authorization"), "");
    EXPECT_EQ(got.header("accept-encoding"), "identity");
    EXPECT_EQ(got.header("content-length"), std::to_string(body.size()));
    EXPECT_EQ(got.header("host"), "127.0.0.1:" + std::to_string(up.port()));
}

INSTANTIATE_TEST_SUITE_P(ClaudeCode, FixturePassThrough,
                         ::testing::Values("cc-2.1.197-request1", "cc-2.1.197-request2",
                                           "cc-2.1.332-request1", "cc-2.1.332-request2"));

TEST(ProxyCore, InjectsCredentialPerAuthMode) {
    FakeUpstream up;
    auto bearer = endpoint_config("bearer", up.base_url());
    bearer.auth = config::AuthMode::kBearer;
    ProxyFixture proxy({bearer});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.requests()[0].header("authorization"), "Bearer sk-ant-bearer");
    EXPECT_EQ(up.requests()[0].header("x-api-key"), "");
}

TEST(ProxyCore, BothAuthModeSendsBothHeadersAndAddsVersionOnlyIfMissing) {
    FakeUpstream up;
    auto both = endpoint_config("both", up.base_url());
    both.auth = config::AuthMode::kBoth;
    ProxyFixture proxy({both});
    TestClient client(proxy.port());
    Headers h{{"content-type", "application/json"}, {"x-api-key", kClientKey}};
    auto res =
        client.request("POST", "/v1/messages/count_tokens", h, ProxyFixture::messages_body(false));
    ASSERT_EQ(res.status, 200);
    const auto got = up.requests().at(0);
    EXPECT_EQ(got.target, "/v1/messages/count_tokens");
    EXPECT_EQ(got.header("authorization"), "Bearer sk-ant-both");
    EXPECT_EQ(got.header("x-api-key"), "sk-ant-both");
    EXPECT_EQ(got.header("anthropic-version"), "2023-06-01");
}

TEST(ProxyCore, SplicesMappedModelAndKeepsEveryOtherByte) {
    FakeUpstream up;
    auto ep = endpoint_config("mapped", up.base_url());
    ep.model_map = {{"sonnet", "glm-4.6"}};
    ProxyFixture proxy({ep});
    TestClient client(proxy.port());
    const std::string body = ProxyFixture::messages_body(false, "claude-sonnet-4-5");
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(), body);
    ASSERT_EQ(res.status, 200);
    std::string expected = body;
    expected.replace(expected.find("claude-sonnet-4-5"), 17, "glm-4.6");
    EXPECT_EQ(up.requests().at(0).body, expected);
}

// ---- local routes, authentication, limits ---------------------------------------------------

TEST(ProxyCore, AnswersHeadAndHealthzLocally) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("a", up.base_url())});
    TestClient client(proxy.port());
    EXPECT_EQ(client.request("HEAD", "/", {}, "").status, 200);
    auto health = client.request("GET", "/healthz", {}, "");
    EXPECT_EQ(health.status, 200);
    EXPECT_NE(health.body.find("ok"), std::string::npos);
    EXPECT_EQ(up.request_count(), 0u);
}

TEST(ProxyCore, RejectsMissingAndUnknownClientKeysWithAnthropicError) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("a", up.base_url())});
    TestClient client(proxy.port());
    auto missing = client.request("POST", "/v1/messages", ProxyFixture::client_headers(false),
                                  ProxyFixture::messages_body(false));
    EXPECT_EQ(missing.status, 401);
    EXPECT_NE(missing.body.find(R"("type":"authentication_error")"), std::string::npos);
    EXPECT_EQ(missing.header("connection"), "close") << "refused from the head, then closed";
    client.reconnect();
    auto h = ProxyFixture::client_headers(false);
    h.emplace_back("authorization", "Bearer sk-qcc-not-a-real-key-000000");
    auto unknown = client.request("POST", "/v1/messages", h, ProxyFixture::messages_body(false));
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(up.request_count(), 0u) << "QCC must never be an open relay";
    client.reconnect();
    // The key as a Bearer token works.
    auto ok_headers = ProxyFixture::client_headers(false);
    ok_headers.emplace_back("Authorization", std::string("Bearer ") + kClientKey);
    EXPECT_EQ(client.request("POST", "/v1/messages", ok_headers, ProxyFixture::messages_body(false))
                  .status,
              200);
}

TEST(ProxyCore, RejectsBodyThatIsNotJson) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("a", up.base_url())});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(), "{not json");
    EXPECT_EQ(res.status, 400);
    EXPECT_NE(res.body.find("invalid_request_error"), std::string::npos);
    EXPECT_EQ(up.request_count(), 0u);
}

TEST(ProxyCore, RejectsOversizeBodyWith413) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("a", up.base_url())},
                       [](config::Config& c) { c.max_body_bytes = 1024; });
    TestClient client(proxy.port());
    const std::string big = R"({"model":"m","pad":")" + std::string(4096, 'x') + "\"}";
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(), big);
    EXPECT_EQ(res.status, 413);
    EXPECT_NE(res.body.find("request_too_large"), std::string::npos);
    EXPECT_EQ(up.request_count(), 0u);
}

// ---- streaming -------------------------------------------------------------------------------

TEST(ProxyCore, StreamsEventsAsTheyArriveWithoutBunching) {
    FakeUpstream up;
    const auto events = demo_events(6);
    up.push(sim::Reply::sse(events, 80ms));
    ProxyFixture proxy({endpoint_config("a", up.base_url())});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(true));
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.body, joined(events));
    // Each event was written by the upstream 80 ms after the previous one; a buffering proxy
    // would deliver several in one piece. QCC holds the stream back only until its first content
    // (message_start, content_block_start, ping and the first delta arrive together), then
    // relays every event as it arrives.
    EXPECT_GE(res.chunks.size(), events.size() - 3);
    EXPECT_EQ(proxy.state("a").successes.load(), 1u);
}

TEST(ProxyCore, ReusesUpstreamConnectionsAcrossRequests) {
    FakeUpstream up;
    // Pools are per worker: with one worker every request can reuse the same connection.
    ProxyFixture proxy({endpoint_config("a", up.base_url())},
                       [](config::Config& c) { c.workers = 1; });
    for (int i = 0; i < 3; ++i) {
        TestClient client(proxy.port());
        ASSERT_EQ(client
                      .request("POST", "/v1/messages", ProxyFixture::client_headers(),
                               ProxyFixture::messages_body(false))
                      .status,
                  200);
    }
    EXPECT_EQ(up.server().connections_accepted(), 1u);
}

TEST(ProxyCore, KeepsEveryUpstreamConnectionOfAConcurrentBurstForTheNext) {
    // 40 requests at once, three times, on the default pool settings: the connections the first
    // burst opened serve the next bursts. Closing all but a few of them when they turn idle made
    // every burst reconnect (a TCP and TLS handshake per request on a real endpoint).
    constexpr int kConcurrent = 40;
    FakeUpstream up;
    auto reply = sim::Reply::json(
        200, sim::text_message_json("claude-sonnet-4-5", "hi", sim::Usage{12, 7, 0, 0}));
    reply.head_delay = 200ms;  // keeps the requests of a burst in flight together
    up.set_default(reply);
    ProxyFixture proxy({endpoint_config("a", up.base_url())},
                       [](config::Config& c) { c.workers = 1; });
    for (int burst = 0; burst < 3; ++burst) {
        std::vector<int> statuses(kConcurrent, 0);
        std::vector<std::thread> clients;
        for (int i = 0; i < kConcurrent; ++i) {
            clients.emplace_back([&, i] {
                TestClient client(proxy.port());
                statuses[static_cast<std::size_t>(i)] =
                    client
                        .request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                 ProxyFixture::messages_body(false))
                        .status;
            });
        }
        for (auto& t : clients) t.join();
        for (int s : statuses) ASSERT_EQ(s, 200) << "burst " << burst;
    }
    EXPECT_EQ(up.request_count(), 3u * kConcurrent);
    EXPECT_LE(up.server().connections_accepted(), static_cast<std::size_t>(kConcurrent))
        << "a burst reconnected instead of reusing the previous burst's connections";
}

TEST(ProxyCore, RetriesOnceOnFreshConnectionWhenPooledSocketIsStale) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("a", up.base_url())});
    TestClient client(proxy.port());
    ASSERT_EQ(client
                  .request("POST", "/v1/messages", ProxyFixture::client_headers(),
                           ProxyFixture::messages_body(false))
                  .status,
              200);
    // The pooled connection dies as the next request arrives, before any response byte.
    sim::Reply drop;
    drop.close_without_response = true;
    up.push(drop);
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "a");
    EXPECT_EQ(up.request_count(), 3u);
    EXPECT_EQ(up.server().connections_accepted(), 2u);
    EXPECT_EQ(proxy.state("a").failures.load(), 0u) << "a stale socket is not the endpoint's fault";
}

// ---- failover before the commit point ----------------------------------------------------------

struct TwoEndpoints {
    FakeUpstream a, b;
    ProxyFixture proxy{
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)}};
    ClientResponse send(bool stream = false) { return proxy.send_messages({}, stream); }
};

TEST(Failover, MovesOnWhenFirstEndpointRefusesConnections) {
    TwoEndpoints t;
    t.a.refuse();
    auto res = t.send();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(t.proxy.state("a").failures.load(), 1u);
    EXPECT_EQ(t.proxy.state("b").successes.load(), 1u);
}

TEST(Failover, MovesOnAfter5xx) {
    TwoEndpoints t;
    t.a.push(sim::Reply::error(500, "api_error", "boom"));
    auto res = t.send();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(t.proxy.state("a").stats.consecutive_failures(), 1);
}

TEST(Failover, MovesOnAfter529AndCoolsTheEndpointDown) {
    TwoEndpoints t;
    t.a.push(sim::Reply::error(529, "overloaded_error", "Overloaded"));
    auto res = t.send();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    EXPECT_GT(t.proxy.state("a").cooldown_until_ns.load(), now);
    // While a cools down, the next request goes straight to b.
    auto next = t.send();
    EXPECT_EQ(next.header("x-qcc-attempts"), "1");
    EXPECT_EQ(next.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(t.a.request_count(), 1u);
}

TEST(Failover, StreamOpeningWithErrorEventIsAFailedAttempt) {
    TwoEndpoints t;
    t.a.push(sim::Reply::sse({"event: ping\ndata: {\"type\":\"ping\"}\n\n",
                              sim::error_event("overloaded_error", "Overloaded")}));
    const auto events = demo_events();
    t.b.push(sim::Reply::sse(events));
    auto res = t.send(true);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.body, joined(events)) << "nothing of a's failed stream may reach the client";
    EXPECT_EQ(t.proxy.state("a").failures.load(), 1u);
}

TEST(Failover, ClientErrorIsReturnedAsIsWithoutRetry) {
    TwoEndpoints t;
    t.a.push(sim::Reply::error(400, "invalid_request_error", "max_tokens: too large"));
    auto res = t.send();
    EXPECT_EQ(res.status, 400);
    EXPECT_NE(res.body.find("max_tokens: too large"), std::string::npos);
    EXPECT_EQ(t.b.request_count(), 0u);
    EXPECT_EQ(t.proxy.state("a").failures.load(), 0u);
    EXPECT_FALSE(t.proxy.state("a").quarantined.load());
}

TEST(Failover, AuthFailureQuarantinesAndMovesOn) {
    TwoEndpoints t;
    t.a.push(sim::Reply::error(401, "authentication_error", "invalid x-api-key"));
    auto res = t.send();
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(t.proxy.state("a").quarantined.load());
    t.send();
    EXPECT_EQ(t.a.request_count(), 1u) << "a quarantined endpoint is not tried again";
}

TEST(Failover, ReturnsLastUpstreamResponseWhenAllFail) {
    TwoEndpoints t;
    t.a.push(sim::Reply::error(500, "api_error", "a is broken"));
    auto last = sim::Reply::error(429, "rate_limit_error", "b is rate limited");
    last.headers.emplace_back("retry-after", "7");
    t.b.push(last);
    auto res = t.send();
    EXPECT_EQ(res.status, 429);
    EXPECT_NE(res.body.find("b is rate limited"), std::string::npos);
    EXPECT_EQ(res.header("retry-after"), "7");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
}

TEST(Failover, Returns502NamingEndpointsWhenNoneAnswered) {
    TwoEndpoints t;
    t.a.refuse();
    t.b.refuse();
    auto res = t.send();
    EXPECT_EQ(res.status, 502);
    EXPECT_NE(res.body.find(R"("type":"api_error")"), std::string::npos);
    EXPECT_NE(res.body.find("a (connect_refused)"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("b (connect_refused)"), std::string::npos) << res.body;
}

TEST(Failover, FirstByteTimeoutMovesOn) {
    FakeUpstream a, b;
    auto slow = endpoint_config("a", a.base_url(), 1);
    slow.first_byte_timeout = 300ms;
    ProxyFixture proxy({slow, endpoint_config("b", b.base_url(), 2)});
    sim::Reply stall;
    stall.stall = true;
    a.push(stall);
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
}

// ---- after the commit point ---------------------------------------------------------------------

TEST(AfterCommit, MidStreamCutEndsWithSseErrorEventAndCleanEnd) {
    FakeUpstream a, b;
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)});
    const auto events = demo_events(8);
    auto cut = sim::Reply::sse(events, 20ms);
    // After the first content delta: a cut before it would still fail over.
    cut.reset_after_bytes = bytes_past_first_delta(events);
    a.push(cut);
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(true));
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.complete) << "the response must end cleanly, never hang or truncate";
    EXPECT_EQ(res.body.rfind(events[0] + events[1] + events[2] + events[3], 0), 0u);
    EXPECT_NE(res.body.find("event: error\ndata: {\"type\":\"error\""), std::string::npos);
    EXPECT_EQ(b.request_count(), 0u) << "never retry after the commit point";
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
}

TEST(AfterCommit, IdleTimeoutBetweenChunksEndsWithSseError) {
    FakeUpstream a;
    auto ep = endpoint_config("a", a.base_url());
    ep.idle_timeout = 300ms;
    ProxyFixture proxy({ep});
    // Committed at the first event (with the default hold, a stall before the first content is
    // still before the commit point: HoldForContent.AStallBeforeContentFailsOver).
    proxy.gateway().store().set_setting("stream.hold_for_content", "off");
    proxy.gateway().tick();
    auto events = demo_events(3);
    a.push(sim::Reply::sse(events, 5s));  // the second event comes long after the idle timeout
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(true), 20s);
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.complete);
    EXPECT_NE(res.body.find("idle timeout"), std::string::npos) << res.body;
}

TEST(AfterCommit, ClientDisconnectMidStreamCancelsUpstream) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    a.push(sim::Reply::sse(demo_events(20), 200ms));
    TestClient client(proxy.port());
    client.request_and_abort("POST", "/v1/messages", ProxyFixture::client_headers(),
                             ProxyFixture::messages_body(true), 20);
    EXPECT_TRUE(a.wait_for_client_aborts(1)) << "the upstream attempt must be cancelled at once";
    EXPECT_EQ(proxy.state("a").failures.load(), 0u) << "a client cancel is not an endpoint failure";
}

TEST(AfterCommit, ClientDisconnectBeforeFirstByteCancelsUpstream) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    sim::Reply stall;
    stall.stall = true;
    a.push(stall);
    TestClient client(proxy.port());
    ASSERT_TRUE(client.send("POST", "/v1/messages", ProxyFixture::client_headers(),
                            ProxyFixture::messages_body(true)));
    ASSERT_TRUE(a.wait_for_requests(1));
    client.close();
    EXPECT_TRUE(a.wait_for_client_aborts(1));
    EXPECT_EQ(proxy.state("a").failures.load(), 0u);
}

TEST(AfterCommit, SlowClientGetsEveryByteThroughTheBoundedBuffer) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    std::vector<std::string> chunks(64, std::string(64 * 1024, 'x'));  // 4 MiB in 64 KiB chunks
    sim::Reply big;
    big.headers = {{"content-type", "application/octet-stream"}};
    big.chunks = chunks;
    a.push(big);
    TestClient client(proxy.port(), 4096);  // a tiny receive window: the client is the bottleneck
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false), 60s);
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.complete);
    EXPECT_EQ(res.body.size(), 64u * 64 * 1024);
}

TEST(AfterCommit, AClientThatStopsReadingIsDroppedAfterTheIdleTimeout) {
    // The response does not fit in the socket buffers and the client never reads: the write that
    // has to wait gives up after timeouts.idle and the connection is dropped, while other clients
    // are served.
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.timeouts.idle = 300ms; });
    sim::Reply big;
    big.headers = {{"content-type", "application/octet-stream"}};
    big.chunks.assign(64, std::string(64 * 1024, 'x'));  // 4 MiB
    a.push(big);
    TestClient stuck(proxy.port(), 4096);
    ASSERT_TRUE(stuck.send("POST", "/v1/messages", ProxyFixture::client_headers(),
                           ProxyFixture::messages_body(false)));
    auto& state = proxy.state("a");
    ASSERT_TRUE(eventually([&] { return a.request_count() == 1; }));
    EXPECT_TRUE(eventually([&] { return state.in_flight.load() == 0; }))
        << "the write to a client that does not read never gave up";
    a.set_default(sim::Reply::json(
        200, sim::text_message_json("claude-sonnet-4-5", "hi", sim::Usage{1, 1, 0, 0})));
    EXPECT_EQ(proxy.send_messages().status, 200);
}

TEST(Drain, InFlightStreamFinishesDuringGracefulStop) {
    FakeUpstream a;
    auto proxy = std::make_unique<ProxyFixture>(
        std::vector<config::EndpointConfig>{endpoint_config("a", a.base_url())});
    const auto events = demo_events(6);
    a.push(sim::Reply::sse(events, 100ms));
    TestClient client(proxy->port());
    ASSERT_TRUE(client.send("POST", "/v1/messages", ProxyFixture::client_headers(),
                            ProxyFixture::messages_body(true)));
    ASSERT_TRUE(a.wait_for_requests(1));
    std::thread stopper([&] { proxy->gateway().stop(); });
    auto res = client.read_response();
    stopper.join();
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.complete);
    EXPECT_EQ(res.body, joined(events));
    EXPECT_EQ(res.header("connection"), "") << "the head was sent before the drain began";
}

}  // namespace
}  // namespace qcc::test
