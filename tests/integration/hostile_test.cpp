// Hostile clients and QCC's own limits: a full pool, clients that never authenticate, bodies sent
// without a key, path tricks, malformed framing, bad keys on repeat, a second instance on the same
// port. Each test asserts what the client got (status or a closed connection), that QCC keeps
// serving others, and what the endpoint state is — a local limit is never the endpoint's fault.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "app/gateway.hpp"
#include "harness/admin_call.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "store/store.hpp"
#include "support/eventually.hpp"
#include "upstream/breaker.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> long_stream(int pieces) {
    return sim::text_stream("claude-sonnet-4-5", std::string(static_cast<std::size_t>(pieces), 'x'),
                            pieces, sim::Usage{10, 5, 0, 0});
}

/// A raw request head with the test key and a Content-Length, without the body.
std::string head_only(std::string_view target, std::size_t content_length, bool with_key = true) {
    std::string h = "POST " + std::string(target) + " HTTP/1.1\r\nhost: qcc\r\n";
    h += "content-type: application/json\r\n";
    if (with_key) h += std::string("x-api-key: ") + kClientKey + "\r\n";
    h += "content-length: " + std::to_string(content_length) + "\r\n\r\n";
    return h;
}

int status_of(const std::string& raw) {
    if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12) return 0;
    return std::stoi(raw.substr(9, 3));
}

// ---- local limits are local -----------------------------------------------------------------

TEST(LocalLimits, AFullPoolWaitsForAFreeConnectionInsteadOfFailing) {
    FakeUpstream a;
    a.set_default(sim::Reply::sse(long_stream(6), 40ms));
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.pool.max_per_endpoint = 2; });
    std::vector<std::future<ClientResponse>> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(std::async(std::launch::async, [&] {
            TestClient client(proxy.port());
            return client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                  ProxyFixture::messages_body(true));
        }));
    }
    for (auto& f : clients) {
        const auto res = f.get();
        EXPECT_EQ(res.status, 200) << res.body;
        EXPECT_TRUE(res.complete);
    }
    EXPECT_EQ(proxy.state("a").failures.load(), 0u);
    EXPECT_EQ(proxy.state("a").breaker.state(proxy.gateway().health().now()),
              upstream::BreakerState::kClosed);
}

TEST(LocalLimits, APoolThatStaysFullIsQccsOwnOverloadNeverTheEndpoints) {
    FakeUpstream a;
    a.set_default(sim::Reply::sse(long_stream(40), 100ms));  // holds its connection for 4 s
    auto ep = endpoint_config("a", a.base_url());
    ep.connect_timeout = 200ms;  // how long a request waits for a pooled slot
    ProxyFixture proxy({ep}, [](config::Config& c) {
        c.workers = 1;  // the pool is per worker
        c.pool.max_per_endpoint = 1;
    });
    TestClient holder(proxy.port());
    ASSERT_TRUE(holder.send("POST", "/v1/messages", ProxyFixture::client_headers(),
                            ProxyFixture::messages_body(true)));
    ASSERT_TRUE(a.wait_for_requests(1));
    const auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 529) << res.body;
    EXPECT_NE(res.body.find("overloaded_error"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("QCC"), std::string::npos) << res.body;
    EXPECT_EQ(a.request_count(), 1u) << "the waiting request never reached the upstream";
    EXPECT_EQ(proxy.state("a").failures.load(), 0u);
    EXPECT_EQ(proxy.state("a").breaker.state(proxy.gateway().health().now()),
              upstream::BreakerState::kClosed);
    EXPECT_FALSE(proxy.state("a").quarantined.load());
    EXPECT_EQ(proxy.state("a").stats.samples_in_window(), 0) << "no passive sample either";
}

TEST(LocalLimits, ManyStreamsOnOneHealthyEndpointAllSucceedOnTheDefaults) {
    FakeUpstream a;
    a.set_default(sim::Reply::sse(long_stream(4), 50ms));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    constexpr int kStreams = 150;  // more than the old per-worker limit of 64
    std::vector<std::future<int>> clients;
    for (int i = 0; i < kStreams; ++i) {
        clients.push_back(std::async(std::launch::async, [&] {
            TestClient client(proxy.port());
            return client
                .request("POST", "/v1/messages", ProxyFixture::client_headers(),
                         ProxyFixture::messages_body(true))
                .status;
        }));
    }
    int ok = 0;
    for (auto& f : clients) ok += f.get() == 200 ? 1 : 0;
    EXPECT_EQ(ok, kStreams);
    EXPECT_EQ(proxy.state("a").failures.load(), 0u);
}

// ---- nothing is buffered before the key is checked -------------------------------------------

TEST(BeforeAuth, A401IsAnsweredFromTheHeadAndTheBodyIsNeverRead) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    TestClient client(proxy.port());
    // 30 MiB announced, nothing sent: QCC must answer and close without waiting for it.
    const auto out = client.raw(head_only("/v1/messages", 30u << 20, false), 5s);
    EXPECT_EQ(status_of(out), 401) << out;
    EXPECT_NE(out.find("connection: close"), std::string::npos) << out;
    EXPECT_EQ(a.request_count(), 0u);
}

TEST(BeforeAuth, AnOversizedBodyIs413FromTheHead) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.max_body_bytes = 1000; });
    TestClient client(proxy.port());
    const auto out = client.raw(head_only("/v1/messages", 5000), 5s);
    EXPECT_EQ(status_of(out), 413) << out;
}

TEST(BeforeAuth, UnauthenticatedConnectionsAreCappedAndOthersKeepWorking) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.limits.max_unauthenticated = 3; });
    // An authenticated keep-alive connection made first keeps working throughout.
    TestClient good(proxy.port());
    ASSERT_EQ(good.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                           ProxyFixture::messages_body(false))
                  .status,
              200);
    std::vector<std::unique_ptr<TestClient>> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<TestClient>(proxy.port()));
    // Wait until the server has seen them (an accepted connection is counted at once).
    ASSERT_TRUE(
        eventually([&] { return proxy.gateway().server().unauthenticated_connections() == 3; }));
    TestClient refused(proxy.port());
    EXPECT_EQ(refused.raw("", 3s), "") << "the excess connection is closed without an answer";
    EXPECT_EQ(good.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                           ProxyFixture::messages_body(false))
                  .status,
              200);
    idle.clear();
    ASSERT_TRUE(
        eventually([&] { return proxy.gateway().server().unauthenticated_connections() == 0; }));
    EXPECT_EQ(proxy.send_messages().status, 200) << "new connections are accepted again";
}

TEST(BeforeAuth, ASilentConnectionIsClosedAfterTheHeadTimeout) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.limits.header_timeout = 300ms; });
    TestClient silent(proxy.port());
    EXPECT_EQ(silent.raw("", 5s), "") << "closed by the server before the deadline";
    EXPECT_TRUE(
        eventually([&] { return proxy.gateway().server().unauthenticated_connections() == 0; }));
}

// ---- 401s are counted, not stored -------------------------------------------------------------

TEST(Unauthorized, RefusalsAreCountedNotStoredAndARepeatOffenderIsSlowedDown) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.limits.auth_max_delay = 20ms; });
    for (int i = 0; i < 12; ++i) {
        TestClient client(proxy.port());
        auto headers = ProxyFixture::client_headers(false);
        headers.emplace_back("x-api-key", "sk-qcc-wrong-" + std::to_string(i));
        EXPECT_EQ(client.request("POST", "/v1/messages", headers, "{}").status, 401);
    }
    proxy.gateway().writer().flush();
    EXPECT_EQ(proxy.gateway().store().count_requests(), 0) << "401s are not request-log rows";
    EXPECT_EQ(proxy.gateway().health().counters().unauthorized.load(), 12u);
    const auto metrics = admin_call(proxy.port(), "GET", "/metrics");
    EXPECT_NE(metrics.response.body.find("qcc_unauthorized_total 12"), std::string::npos);
    EXPECT_NE(metrics.response.body.find("qcc_auth_throttled_total"), std::string::npos);
    EXPECT_EQ(metrics.response.body.find("qcc_auth_throttled_total 0\n"), std::string::npos)
        << "12 bad keys in a row from one address are slowed down";
    EXPECT_EQ(proxy.send_messages().status, 200) << "the right key still works at once";
}

// ---- paths and framing ------------------------------------------------------------------------

TEST(Paths, DotSegmentsAndBackslashesAreRejectedBeforeAnyUpstreamSeesThem) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url() + "/relay/anthropic")});
    for (const char* target :
         {"/v1/../../admin/secret", "/v1/./messages", "/v1/%2e%2e/admin", "/v1/%2E%2e/%2e%2E/x",
          "/v1/..%2fadmin", "/v1/messages\\..\\x", "/v1/%5c..%5cadmin", "/v1/a/%2E/b"}) {
        TestClient client(proxy.port());
        const std::string raw = "POST " + std::string(target) + " HTTP/1.1\r\nhost: qcc\r\n" +
                                "x-api-key: " + kClientKey + "\r\ncontent-length: 2\r\n\r\n{}";
        const auto out = client.raw(raw, 5s);
        EXPECT_EQ(status_of(out), 400) << target << "\n" << out;
    }
    EXPECT_EQ(a.request_count(), 0u);
    EXPECT_EQ(proxy.send_messages().status, 200);
}

TEST(Framing, Http11WithoutHostAndUnknownTransferCodingsAre400AndClose) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    {
        TestClient client(proxy.port());
        const auto out = client.raw(std::string("POST /v1/messages HTTP/1.1\r\nx-api-key: ") +
                                        kClientKey + "\r\ncontent-length: 2\r\n\r\n{}",
                                    5s);
        EXPECT_EQ(status_of(out), 400) << out;
        EXPECT_NE(out.find("Host"), std::string::npos) << out;
    }
    {
        // Read as bodyless, the "body" would be parsed as a second request (smuggling).
        TestClient client(proxy.port());
        const std::string smuggled = "GET /v1/models HTTP/1.1\r\nhost: qcc\r\n\r\n";
        const auto out = client.raw(std::string("POST /v1/messages HTTP/1.1\r\nhost: qcc\r\n") +
                                        "x-api-key: " + kClientKey +
                                        "\r\ntransfer-encoding: xchunked\r\n\r\n" + smuggled,
                                    5s);
        EXPECT_EQ(status_of(out), 400) << out;
        EXPECT_EQ(out.find("HTTP/1.1", 5), std::string::npos) << "exactly one answer, then close";
    }
    EXPECT_EQ(a.request_count(), 0u);
}

TEST(Framing, AnInvalidBodyMessageSaysItOnce) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    TestClient client(proxy.port());
    const auto res =
        client.request("POST", "/v1/messages", ProxyFixture::client_headers(), "{not json");
    EXPECT_EQ(res.status, 400);
    const std::string prefix = "request body is not valid JSON";
    const auto first = res.body.find(prefix);
    ASSERT_NE(first, std::string::npos) << res.body;
    EXPECT_EQ(res.body.find(prefix, first + 1), std::string::npos) << res.body;
}

// ---- credentials and header values ------------------------------------------------------------

TEST(HeaderValues, ControlCharactersInACredentialAreRefusedEverywhere) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto r = admin_call(proxy.port(), "POST", "/api/endpoints",
                              R"({"name":"evil","base_url":"http://127.0.0.1:9","api_key":)"
                              R"("sk-x\r\nx-injected: 1"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.error_message().find("api_key"), std::string::npos) << r.error_message();
    for (const char* url : {"http://127.0.0.1:0", "http://127.0.0.1:99999"}) {
        const auto p = admin_call(
            proxy.port(), "POST", "/api/endpoints",
            std::string(R"({"name":"p","api_key":"sk-1234567890","base_url":")") + url + "\"}");
        EXPECT_EQ(p.status, 400) << url;
        EXPECT_NE(p.error_message().find("port"), std::string::npos) << p.error_message();
    }
}

TEST(Settings, NotANumberIsNotARatio) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    for (const char* v : {"nan", "NaN", "inf", "-0.1", "1.5"}) {
        const auto r = admin_call(proxy.port(), "PUT", "/api/settings/breaker.failure_ratio",
                                  std::string(R"({"value":")") + v + "\"}");
        EXPECT_EQ(r.status, 400) << v;
    }
}

TEST(AdminLogin, RepeatedWrongAdminTokensAreRateLimited) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())},
                       [](config::Config& c) { c.limits.auth_max_delay = 20ms; });
    int limited = 0;
    for (int i = 0; i < 20; ++i) {
        const auto r = admin_call(proxy.port(), "GET", "/api/status", {}, "wrong-token");
        if (r.status == 429) {
            ++limited;
            EXPECT_FALSE(r.response.header("retry-after").empty());
        } else {
            EXPECT_EQ(r.status, 401);
        }
    }
    EXPECT_GT(limited, 0);
    EXPECT_EQ(admin_call(proxy.port(), "GET", "/api/status").status, 200)
        << "the right token is never locked out";
}

// ---- one QCC per address ----------------------------------------------------------------------

TEST(OneInstance, ASecondGatewayOnTheSamePortFailsAtStartWithAClearError) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    config::Config cfg;
    cfg.listen = "127.0.0.1:" + std::to_string(proxy.port());
    cfg.workers = 2;
    try {
        app::Gateway second(cfg, store::open_sqlite(":memory:"));
        ADD_FAILURE() << "a second instance bound the same port";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos) << e.what();
    }
    EXPECT_EQ(proxy.send_messages().status, 200) << "the first one keeps all the traffic";
}

}  // namespace
}  // namespace qcc::test
