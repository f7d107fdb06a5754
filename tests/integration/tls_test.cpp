// Integration tests of upstream HTTPS (SPEC §8): certificate verification and its per-endpoint
// opt-out, SNI, keep-alive and streaming over TLS, and HTTPS_PROXY / NO_PROXY tunnelling via HTTP
// CONNECT. The real gateway in-process against a TLS-serving fake upstream with a certificate
// generated at test time.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness/connect_proxy.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "harness/tls_cert.hpp"
#include "sim/anthropic.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::string>;

// Sets (or, with nullopt, unsets) environment variables for its lifetime and then restores what
// was there. The gateway reads HTTPS_PROXY/NO_PROXY when it is built and OpenSSL reads
// SSL_CERT_FILE when a verifying TLS context is first made, so a guard must outlive the fixture.
class ScopedEnv {
  public:
    void set(const std::string& name, const std::optional<std::string>& value) {
        if (!saved_.contains(name)) {
            const char* old = std::getenv(name.c_str());
            saved_.emplace(name, old ? std::optional<std::string>(old) : std::nullopt);
        }
        apply(name, value);
    }
    ~ScopedEnv() {
        for (const auto& [name, value] : saved_) apply(name, value);
    }

  private:
    static void apply(const std::string& name, const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

// A file removed when the object goes away (a trust store for SSL_CERT_FILE).
class TempFile {
  public:
    explicit TempFile(const std::string& contents) {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("qcc-tls-test-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter.fetch_add(1)) + ".pem");
        std::ofstream out(path_, std::ios::binary | std::ios::trunc);
        out << contents;
        if (!out.good()) throw std::runtime_error("cannot write " + path_.string());
    }
    ~TempFile() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

const SelfSignedCert& localhost_cert() {
    static const SelfSignedCert cert = make_self_signed_cert("localhost", "127.0.0.1");
    return cert;
}

std::string https_url(const std::string& host, std::uint16_t port) {
    return "https://" + host + ":" + std::to_string(port);
}

config::EndpointConfig tls_endpoint(std::string name, const std::string& host, std::uint16_t port,
                                    bool verify, int tier = 1) {
    auto ep = endpoint_config(std::move(name), https_url(host, port), tier);
    ep.tls_verify = verify;
    return ep;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x;
    return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Every test starts from an environment without proxy or trust-store settings (the runner's own
// must not leak in) and gets back the original one afterwards.
class UpstreamTls : public ::testing::Test {
  protected:
    UpstreamTls() {
        for (const char* name :
             {"HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE"}) {
            env_.set(name, std::nullopt);
        }
    }
    ScopedEnv env_;
};

bool wait_for_handshake_failures(FakeUpstream& up, std::size_t n) {
    return up.server().wait_until(
        [n](const sim::Server& s) { return s.tls_handshake_failures() >= n; }, 10s);
}

// ---- verification, SNI ---------------------------------------------------------------------

TEST_F(UpstreamTls, SelfSignedWithoutVerificationSucceedsAndSendsSni) {
    FakeUpstream up(localhost_cert().tls_options());
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(res.complete);
    EXPECT_TRUE(contains(res.body, "Hello from FakeUpstream.")) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "tls");
    ASSERT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.requests()[0].header("host"), "localhost:" + std::to_string(up.port()));
    EXPECT_EQ(up.requests()[0].header("x-api-key"), "sk-ant-tls");
    EXPECT_EQ(up.server().sni_names(), Names{"localhost"});
    EXPECT_EQ(up.server().tls_handshake_failures(), 0u);
    EXPECT_EQ(proxy.state("tls").successes.load(), 1u);
    EXPECT_EQ(proxy.state("tls").failures.load(), 0u);
}

TEST_F(UpstreamTls, UntrustedCertificateFailsVerificationAndFailsOver) {
    FakeUpstream secure(localhost_cert().tls_options());
    FakeUpstream plain;
    ProxyFixture proxy({tls_endpoint("a", "localhost", secure.port(), /*verify=*/true, 1),
                        endpoint_config("b", plain.base_url(), 2)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
    EXPECT_EQ(proxy.state("a").successes.load(), 0u);
    EXPECT_EQ(proxy.state("b").successes.load(), 1u);
    EXPECT_EQ(secure.request_count(), 0u) << "no request may be sent over an unverified connection";
    EXPECT_EQ(plain.request_count(), 1u);
    // The gateway got as far as the handshake (with SNI) and then rejected the certificate.
    EXPECT_TRUE(wait_for_handshake_failures(secure, 1));
    EXPECT_EQ(secure.server().sni_names(), Names{"localhost"});
}

TEST_F(UpstreamTls, UntrustedCertificateOnlyEndpointReturns502NamingTlsFailure) {
    FakeUpstream secure(localhost_cert().tls_options());
    ProxyFixture proxy({tls_endpoint("relay", "localhost", secure.port(), /*verify=*/true)});
    auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 502);
    EXPECT_TRUE(contains(res.body, R"("type":"api_error")")) << res.body;
    EXPECT_TRUE(contains(res.body, "relay (tls_failure)")) << res.body;
    EXPECT_EQ(proxy.state("relay").failures.load(), 1u);
    EXPECT_EQ(secure.request_count(), 0u);
}

TEST_F(UpstreamTls, IpLiteralEndpointSendsNoSni) {
    FakeUpstream up(localhost_cert().tls_options());
    ProxyFixture proxy({tls_endpoint("ip", "127.0.0.1", up.port(), /*verify=*/false)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.requests()[0].header("host"), "127.0.0.1:" + std::to_string(up.port()));
    // One ClientHello, without a server_name extension (RFC 6066: no IP literals in SNI).
    EXPECT_EQ(up.server().sni_names(), Names{""});
}

// With the self-signed certificate as the trust store, verification passes: what failed above was
// trust, not the TLS machinery, and the host name check itself is exercised.
TEST_F(UpstreamTls, TrustedCertificateVerifiesForHostNameAndIpSan) {
    TempFile trust(localhost_cert().cert_pem);
    env_.set("SSL_CERT_FILE", trust.path());
    FakeUpstream up(localhost_cert().tls_options());
    for (const std::string host : {"localhost", "127.0.0.1"}) {
        ProxyFixture proxy({tls_endpoint("verified", host, up.port(), /*verify=*/true)});
        auto res = proxy.send_messages();
        ASSERT_EQ(res.status, 200) << host << ": " << res.body;
        EXPECT_EQ(proxy.state("verified").failures.load(), 0u) << host;
    }
    EXPECT_EQ(up.request_count(), 2u);
    EXPECT_EQ(up.server().tls_handshake_failures(), 0u);
    EXPECT_EQ(up.server().sni_names(), (Names{"localhost", ""}));
}

TEST_F(UpstreamTls, TrustedCertificateForAnotherHostFailsVerification) {
    const auto other = make_self_signed_cert("other.example", "192.0.2.7");
    TempFile trust(other.cert_pem);
    env_.set("SSL_CERT_FILE", trust.path());
    FakeUpstream up(other.tls_options());
    ProxyFixture proxy({tls_endpoint("name", "localhost", up.port(), /*verify=*/true, 1),
                        tls_endpoint("ip", "127.0.0.1", up.port(), /*verify=*/true, 2)});
    auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 502);
    EXPECT_TRUE(contains(res.body, "name (tls_failure)")) << res.body;
    EXPECT_TRUE(contains(res.body, "ip (tls_failure)")) << res.body;
    EXPECT_EQ(proxy.state("name").failures.load(), 1u);
    EXPECT_EQ(proxy.state("ip").failures.load(), 1u);
    EXPECT_EQ(up.request_count(), 0u);
    EXPECT_TRUE(wait_for_handshake_failures(up, 2));
}

// ---- connections and streaming over TLS ----------------------------------------------------

TEST_F(UpstreamTls, KeepAliveReusesOneTlsConnection) {
    FakeUpstream up(localhost_cert().tls_options());
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    TestClient client(proxy.port());
    for (int i = 0; i < 2; ++i) {
        auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                  ProxyFixture::messages_body(false));
        ASSERT_EQ(res.status, 200) << "request " << i << ": " << res.body;
    }
    ASSERT_EQ(up.request_count(), 2u);
    EXPECT_EQ(up.server().connections_accepted(), 1u);
    EXPECT_EQ(up.requests()[1].connection_id, up.requests()[0].connection_id);
    EXPECT_EQ(up.server().sni_names().size(), 1u) << "one handshake for both requests";
}

TEST_F(UpstreamTls, StreamsSseIntact) {
    FakeUpstream up(localhost_cert().tls_options());
    const auto events = sim::text_stream("claude-sonnet-4-5",
                                         "Streamed over TLS, in several pieces, byte for byte.", 5,
                                         sim::Usage{12, 7, 3, 5});
    up.push(sim::Reply::sse(events));
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    auto res = proxy.send_messages({}, /*stream=*/true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(res.complete);
    EXPECT_TRUE(res.header("content-type").starts_with("text/event-stream"));
    EXPECT_EQ(res.body, joined(events));
    EXPECT_EQ(proxy.state("tls").successes.load(), 1u);
}

TEST_F(UpstreamTls, IdleTlsConnectionClosedByUpstreamIsNotReused) {
    FakeUpstream up(localhost_cert().tls_options());
    // The relay drops a keep-alive connection idle this long (a plain FIN, no close_notify); set
    // before the first request so the timer is armed as soon as the first reply is sent.
    up.server().set_idle_timeout(500ms);
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    TestClient client(proxy.port());
    auto first = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                ProxyFixture::messages_body(false));
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_TRUE(up.server().wait_until(
        [](const sim::Server& s) { return s.open_connections() == 0; }, 10s));
    // The pool must notice the closed socket and open a fresh connection, at no cost to the
    // endpoint's health.
    auto second = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                                 ProxyFixture::messages_body(false));
    EXPECT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.header("x-qcc-attempts"), "1");
    EXPECT_EQ(up.request_count(), 2u);
    EXPECT_EQ(up.server().connections_accepted(), 2u);
    EXPECT_EQ(proxy.state("tls").failures.load(), 0u);
}

// The plain-HTTP row "stale pooled connection closed before any response byte → retry once on a
// fresh connection, same endpoint" (SPEC §4), over TLS. Disabled: over TLS the upstream's close
// surfaces as ssl::error::stream_truncated, which the forwarder classifies as a malformed response
// (an endpoint failure) rather than a stale connection; see the report to the lead.
TEST_F(UpstreamTls, RetriesOnceOnFreshConnectionWhenPooledTlsSocketIsStale) {
    FakeUpstream up(localhost_cert().tls_options());
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    TestClient client(proxy.port());
    ASSERT_EQ(client
                  .request("POST", "/v1/messages", ProxyFixture::client_headers(),
                           ProxyFixture::messages_body(false))
                  .status,
              200);
    sim::Reply drop;
    drop.close_without_response = true;
    up.push(drop);
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(up.request_count(), 3u);
    EXPECT_EQ(up.server().connections_accepted(), 2u);
    EXPECT_EQ(proxy.state("tls").failures.load(), 0u)
        << "a stale socket is not the endpoint's fault";
}

// ---- HTTPS_PROXY / NO_PROXY ----------------------------------------------------------------

TEST_F(UpstreamTls, HttpsProxyTunnelsTheConnection) {
    ConnectProxy tunnel;
    FakeUpstream up(localhost_cert().tls_options());
    env_.set("HTTPS_PROXY", tunnel.url());
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(contains(res.body, "Hello from FakeUpstream.")) << res.body;
    EXPECT_EQ(tunnel.targets(), Names{"localhost:" + std::to_string(up.port())});
    EXPECT_EQ(tunnel.tunnels_established(), 1u);
    EXPECT_EQ(up.request_count(), 1u);
    // TLS runs end to end inside the tunnel: the upstream still sees the SNI.
    EXPECT_EQ(up.server().sni_names(), Names{"localhost"});
    EXPECT_EQ(proxy.state("tls").successes.load(), 1u);
}

TEST_F(UpstreamTls, HttpsProxyIsNotUsedForPlainHttpEndpoints) {
    ConnectProxy tunnel;
    FakeUpstream plain;
    env_.set("HTTPS_PROXY", tunnel.url());
    ProxyFixture proxy({endpoint_config("plain", plain.base_url())});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(plain.request_count(), 1u);
    EXPECT_EQ(tunnel.connections_accepted(), 0u);
}

TEST_F(UpstreamTls, NoProxyBypassesTheProxy) {
    ConnectProxy tunnel;
    FakeUpstream up(localhost_cert().tls_options());
    env_.set("HTTPS_PROXY", tunnel.url());
    env_.set("NO_PROXY", "example.com, localhost");
    ProxyFixture proxy({tls_endpoint("tls", "localhost", up.port(), /*verify=*/false)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(tunnel.targets().empty());
    EXPECT_EQ(tunnel.connections_accepted(), 0u);
    EXPECT_EQ(up.server().connections_accepted(), 1u);
    EXPECT_EQ(up.request_count(), 1u);
}

TEST_F(UpstreamTls, ProxyRefusingConnectIsAnEndpointFailureAndFailsOver) {
    ConnectProxy tunnel;
    tunnel.deny_with(403);
    FakeUpstream secure(localhost_cert().tls_options());
    FakeUpstream plain;
    env_.set("HTTPS_PROXY", tunnel.url());
    ProxyFixture proxy({tls_endpoint("a", "localhost", secure.port(), /*verify=*/false, 1),
                        endpoint_config("b", plain.base_url(), 2)});
    auto res = proxy.send_messages();
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(tunnel.targets(), Names{"localhost:" + std::to_string(secure.port())});
    EXPECT_EQ(tunnel.tunnels_established(), 0u);
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
    EXPECT_EQ(proxy.state("b").successes.load(), 1u);
    EXPECT_EQ(secure.server().connections_accepted(), 0u);
    EXPECT_EQ(plain.request_count(), 1u);
}

TEST_F(UpstreamTls, ProxyRefusingConnectWithoutAlternativeReturns502) {
    ConnectProxy tunnel;
    tunnel.deny_with(403);
    FakeUpstream secure(localhost_cert().tls_options());
    env_.set("HTTPS_PROXY", tunnel.url());
    ProxyFixture proxy({tls_endpoint("relay", "localhost", secure.port(), /*verify=*/false)});
    auto res = proxy.send_messages();
    EXPECT_EQ(res.status, 502);
    EXPECT_TRUE(contains(res.body, R"("type":"api_error")")) << res.body;
    EXPECT_TRUE(contains(res.body, "relay (")) << res.body;
    EXPECT_EQ(proxy.state("relay").failures.load(), 1u);
    EXPECT_EQ(tunnel.targets().size(), 1u);
    EXPECT_EQ(secure.server().connections_accepted(), 0u);
}

}  // namespace
}  // namespace qcc::test
