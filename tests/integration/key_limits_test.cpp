// Per-key limits and budgets through the gateway: a key over its request rate gets 429
// rate_limit_error with retry-after before its body is read, a key over its budget gets 429 that
// says not to retry, neither touches the endpoint, and a budget survives a restart (the spend is
// read back from the request log).
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "harness/admin_call.hpp"
#include "harness/cli_harness.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {
namespace {

namespace json = boost::json;

/// Creates a client key with `limits` (a JSON object); returns the key.
std::string create_key(ProxyFixture& proxy, const std::string& name, const std::string& limits) {
    const auto r = admin_call(proxy.port(), "POST", "/api/keys",
                              R"({"name":")" + name + R"(","limits":)" + limits + "}");
    EXPECT_EQ(r.status, 201) << r.response.body;
    return r.status == 201 ? std::string(r.json.at("key").as_string()) : std::string();
}

ClientResponse send_with(ProxyFixture& proxy, const std::string& key) {
    TestClient client(proxy.port());
    auto headers = ProxyFixture::client_headers(false);
    headers.emplace_back("x-api-key", key);
    return client.request("POST", "/v1/messages", headers, ProxyFixture::messages_body(false));
}

json::object key_row(ProxyFixture& proxy, const std::string& name) {
    const auto r = admin_call(proxy.port(), "GET", "/api/keys");
    for (const auto& k : r.json.at("keys").as_array()) {
        if (k.at("name") == json::value(name)) return k.as_object();
    }
    ADD_FAILURE() << "no key " << name;
    return {};
}

double spent_today(ProxyFixture& proxy, const std::string& name) {
    const auto row = key_row(proxy, name);
    return row.at("usage").at("spent_today_usd").to_number<double>();
}

TEST(KeyLimits, ARequestRateLimitIsTheKeysOwn429AndNeverTheEndpoints) {
    FakeUpstream up;
    ProxyFixture proxy({endpoint_config("up", up.base_url())});
    const auto key = create_key(proxy, "alice", R"({"requests_per_minute":2})");
    // The minute may turn between requests: then a third one passes too, so allow one more.
    int ok = 0;
    ClientResponse refused;
    for (int i = 0; i < 4 && refused.status == 0; ++i) {
        auto r = send_with(proxy, key);
        if (r.status == 200) {
            ++ok;
        } else {
            refused = std::move(r);
        }
    }
    ASSERT_EQ(refused.status, 429) << refused.body;
    EXPECT_GE(ok, 2);
    EXPECT_LE(ok, 3);
    EXPECT_EQ(json::parse(refused.body).at("error").at("type"), json::value("rate_limit_error"));
    EXPECT_NE(refused.body.find("client key alice is limited to 2 requests per minute"),
              std::string::npos);
    const auto retry = refused.header("retry-after");
    ASSERT_FALSE(retry.empty());
    EXPECT_GE(std::stoi(retry), 1);
    EXPECT_LE(std::stoi(retry), 60);
    EXPECT_TRUE(refused.header("x-should-retry").empty());
    // The endpoint saw only the admitted requests and stays healthy.
    EXPECT_EQ(up.request_count(), static_cast<std::size_t>(ok));
    EXPECT_EQ(proxy.state("up").breaker.state(proxy.gateway().health().now()),
              upstream::BreakerState::kClosed);
    EXPECT_EQ(proxy.state("up").cooldown_until_ns.load(), 0);
    // Other keys are not limited; removing the limit lets alice through at once.
    EXPECT_EQ(send_with(proxy, create_key(proxy, "bob", "{}")).status, 200);
    const auto patched = admin_call(proxy.port(), "PATCH", "/api/keys/alice",
                                    R"({"limits":{"requests_per_minute":0}})");
    ASSERT_EQ(patched.status, 200) << patched.response.body;
    EXPECT_EQ(patched.json.at("limits"), json::object());
    EXPECT_EQ(send_with(proxy, key).status, 200);
}

TEST(KeyLimits, ASpentBudgetStopsTheKeyAndSurvivesARestart) {
    FakeUpstream up;  // every answer: 12 input + 6 output tokens of claude-sonnet-4-5 = $0.000126
    TempDir dir;
    const auto path = (dir.path() / "qcc.sqlite").string();
    std::string key;
    {
        ProxyFixture proxy({endpoint_config("up", up.base_url())}, {}, path);
        key = create_key(proxy, "carol", R"({"budget_daily_usd":0.0002})");
        ASSERT_EQ(send_with(proxy, key).status, 200);
        ASSERT_TRUE(eventually([&] { return spent_today(proxy, "carol") > 0.0001; }));
        ASSERT_EQ(send_with(proxy, key).status, 200);
        ASSERT_TRUE(eventually([&] { return spent_today(proxy, "carol") > 0.0002; }));
        const auto refused = send_with(proxy, key);
        ASSERT_EQ(refused.status, 429) << refused.body;
        EXPECT_EQ(refused.header("x-should-retry"), "false");
        EXPECT_NE(refused.body.find("client key carol has spent $0.000252 of its daily budget of "
                                    "$0.0002; the budget starts again at 00:00 UTC"),
                  std::string::npos)
            << refused.body;
        EXPECT_EQ(up.request_count(), 2u);
        proxy.gateway().writer().flush();
    }
    // After a restart the day's spend is read back from the request log.
    ProxyFixture proxy({endpoint_config("up", up.base_url())}, {}, path);
    EXPECT_EQ(send_with(proxy, key).status, 429);
    EXPECT_EQ(key_row(proxy, "carol").at("limits"), json::parse(R"({"budget_daily_usd":0.0002})"));
    // Raising the budget lets it through at once.
    ASSERT_EQ(
        admin_call(proxy.port(), "PATCH", "/api/keys/carol", R"({"limits":{"budget_daily_usd":1}})")
            .status,
        200);
    EXPECT_EQ(send_with(proxy, key).status, 200);
}

TEST(KeyLimits, AKeyUsesOnlyItsAllowedTiersAndEndpoints) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    const auto key = create_key(proxy, "contractor", R"({"endpoints":["b"]})");
    ASSERT_EQ(send_with(proxy, key).status, 200);
    EXPECT_EQ(a.request_count(), 0u);  // tier 1 is better, but not this key's
    EXPECT_EQ(b.request_count(), 1u);
    EXPECT_EQ(send_with(proxy, create_key(proxy, "staff", "{}")).status, 200);
    EXPECT_EQ(a.request_count(), 1u);

    // Only tier 1, which is disabled: told at once, with the fix, and no endpoint is touched.
    ASSERT_EQ(admin_call(proxy.port(), "PATCH", "/api/keys/contractor",
                         R"({"limits":{"endpoints":null,"tiers":[1]}})")
                  .status,
              200);
    ASSERT_EQ(admin_call(proxy.port(), "POST", "/api/endpoints/a/disable").status, 200);
    const auto refused = send_with(proxy, key);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(refused.header("x-should-retry"), "false");
    EXPECT_EQ(json::parse(refused.body).at("error").at("type"), json::value("permission_error"));
    EXPECT_NE(refused.body.find("client key contractor may use only tiers 1, and no enabled "
                                "endpoint is among them"),
              std::string::npos)
        << refused.body;
    EXPECT_EQ(b.request_count(), 1u);
    EXPECT_EQ(key_row(proxy, "contractor").at("limits"), json::parse(R"({"tiers":[1]})"));
}

TEST(KeyLimits, BadLimitsAreRefusedWithTheField) {
    ProxyFixture proxy({});
    auto r = admin_call(proxy.port(), "POST", "/api/keys",
                        R"({"name":"x","limits":{"requests_per_minute":-1}})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.error_message(), "requests_per_minute: must be between 0 and 1000000000000");
    r = admin_call(proxy.port(), "PATCH", "/api/keys/nobody", R"({"limits":{}})");
    EXPECT_EQ(r.status, 404);
    r = admin_call(proxy.port(), "POST", "/api/keys", R"({"name":"y","limits":{"rpm":5}})");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.error_message().find("unknown field 'rpm'"), std::string::npos);
}

TEST_F(CliTest, KeyLimitsFromTheCli) {
    auto r = cli(
        {"key", "create", "alice", "--rpm", "60", "--budget-day", "5", "--budget-month", "99.5"});
    ASSERT_EQ(r.code, 0) << describe(r);
    r = cli({"key", "list"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("60 req/min, $5/day, $99.50/month"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SPENT TODAY / MONTH"), std::string::npos) << r.out;
    // set changes only what it is given; 0 removes a limit.
    r = cli({"key", "set", "alice", "--rpm", "0", "--tpm", "200000"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.out, "client key alice limits: 200,000 tok/min, $5/day, $99.50/month\n");
    const auto keys = cli_json({"key", "list"});
    for (const auto& k : keys.at("keys").as_array()) {
        if (k.at("name") != json::value("alice")) continue;
        EXPECT_EQ(k.at("limits"), json::parse(R"({"tokens_per_minute":200000,"budget_daily_usd":5,)"
                                              R"("budget_monthly_usd":99.5})"));
    }
    r = cli({"key", "set", "alice"});
    EXPECT_EQ(r.code, 2) << describe(r);
    r = cli({"key", "set", "nobody", "--rpm", "5"});
    EXPECT_EQ(r.code, 4) << describe(r);
    r = cli({"key", "create", "bob", "--rpm", "-3"});
    EXPECT_EQ(r.code, 2) << describe(r);
    r = cli({"key", "set", "alice", "--tiers", "1,2", "--endpoints", "up"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("tiers 1,2, endpoints up"), std::string::npos) << r.out;
    r = cli({"key", "set", "alice", "--tiers", "all"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(r.out.find("tiers"), std::string::npos) << r.out;
    r = cli({"key", "set", "alice", "--tiers", "one"});
    EXPECT_EQ(r.code, 2) << describe(r);
}

}  // namespace
}  // namespace qcc::test
