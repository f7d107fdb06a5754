// ProxyFixture: the real gateway, in-process, on 127.0.0.1:0, with an in-memory store, one client
// key and the given endpoints.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/gateway.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/test_client.hpp"
#include "store/writer.hpp"
#include "upstream/endpoint.hpp"

namespace qcc::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char* kClientKey = "sk-qcc-test-0123456789abcdef";
inline constexpr const char* kAdminToken = "qcc-admin-test-token";

/// An endpoint config pointing at `base_url` with a recognisable credential "sk-ant-<name>".
config::EndpointConfig endpoint_config(std::string name, std::string base_url, int tier = 1,
                                       int weight = 100);

/// Wraps the fixture's store (a test double around the real one), e.g. to hold writes back.
using StoreWrapper = std::function<std::unique_ptr<store::Store>(std::unique_ptr<store::Store>)>;

class ProxyFixture {
  public:
    /// `store_path` "" = a private in-memory store; a file path lets a second fixture reopen the
    /// same state (restart tests); a PostgreSQL URL lets several fixtures share one database.
    /// `clock` (may be null) drives breakers, cooldowns and TTLs. Warm-up is off unless asked for,
    /// so tests can count upstream connections exactly.
    explicit ProxyFixture(std::vector<config::EndpointConfig> endpoints,
                          const std::function<void(config::Config&)>& tweak = {},
                          std::string store_path = "", const Clock* clock = nullptr,
                          int warmup_connections = 0, const StoreWrapper& wrap_store = {},
                          store::WriterOptions writer = {});
    ~ProxyFixture();

    std::uint16_t port() const { return gateway_->port(); }
    app::Gateway& gateway() { return *gateway_; }
    /// The live state of the endpoint called `name` (fails the test if there is none).
    upstream::EndpointState& state(const std::string& name);
    /// Headers a Claude-Code-like client sends, with the test client key.
    static Headers client_headers(bool with_key = true);
    /// Sends a small Messages request on a new connection, with a Claude Code session id header
    /// when `session` is not empty, and returns the whole response.
    ClientResponse send_messages(std::string_view session = {}, bool stream = false);
    /// A small valid Messages request body.
    static std::string messages_body(bool stream, std::string_view model = "claude-sonnet-4-5");

  private:
    std::unique_ptr<app::Gateway> gateway_;
};

/// The common failover setup: endpoints "a" (tier 1) and "b" (tier 2) behind one gateway whose
/// breakers, cooldowns and TTLs follow `clock`. Use as `TwoTierProxy t; auto& [clock, a, b,
/// proxy] = t;`.
struct TwoTierProxy {
    FakeClock clock;
    FakeUpstream a, b;
    ProxyFixture proxy{
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)},
        {},
        "",
        &clock};
};

}  // namespace qcc::test
