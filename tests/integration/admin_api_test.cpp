// The admin REST API (docs/admin-api.md) end to end: every route's happy path and validation
// errors, authentication, masking of credentials, live effect of writes on routing, the event
// stream and /metrics.
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "common/version.hpp"
#include "harness/admin_call.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "store/store.hpp"
#include "store/writer.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr std::string_view kSecret = "sk-ant-api03-very-secret-credential-0123456789";

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const json::object& obj(const AdminReply& r) {
    static const json::object kEmpty;
    return r.json.is_object() ? r.json.as_object() : kEmpty;
}

/// The status row of endpoint `name` in GET /api/status (null if absent).
json::value status_row(std::uint16_t port, std::string_view name) {
    auto res = admin_call(port, "GET", "/api/status");
    if (res.status != 200) return nullptr;
    for (const auto& row : obj(res).at("endpoints").as_array()) {
        if (row.at("name").as_string() == name) return row;
    }
    return nullptr;
}

std::string endpoint_body(std::string_view name, std::string_view url, std::string extra = "") {
    return R"({"name":")" + std::string(name) + R"(","base_url":")" + std::string(url) +
           R"(","api_key":")" + std::string(kSecret) + "\"" + extra + "}";
}

/// Expects a 400 whose message mentions `needle`.
void expect_400(const AdminReply& r, std::string_view needle) {
    EXPECT_EQ(r.status, 400) << r.response.body;
    EXPECT_NE(r.error_message().find(needle), std::string::npos)
        << "message: " << r.error_message();
    EXPECT_EQ(obj(r).at("type").as_string(), "error");
}

TEST(AdminApi, NeedsTheAdminToken) {
    // Every wrong token below is a failed login; more than the free ones would be throttled
    // (AdminLogin.RepeatedWrongAdminTokensAreRateLimited covers that).
    ProxyFixture proxy({}, [](config::Config& c) { c.limits.auth_free_failures = 100; });
    const auto port = proxy.port();
    struct Call {
        const char* method;
        const char* target;
        const char* body;
    };
    for (const auto& c : {Call{"GET", "/api/status", ""}, Call{"GET", "/api/endpoints", ""},
                          Call{"POST", "/api/keys", R"({"name":"x"})"},
                          Call{"PUT", "/api/settings/metrics.public", R"({"value":"true"})"},
                          Call{"GET", "/api/stats", ""}, Call{"GET", "/api/events", ""},
                          Call{"GET", "/api/nope", ""}}) {
        auto none = admin_call(port, c.method, c.target, c.body, "");
        EXPECT_EQ(none.status, 401) << c.method << " " << c.target;
        EXPECT_EQ(obj(none).at("error").at("type").as_string(), "authentication_error");
        auto wrong = admin_call(port, c.method, c.target, c.body, "not-the-token");
        EXPECT_EQ(wrong.status, 401) << c.method << " " << c.target;
    }
    // Nothing was written by the refused calls.
    EXPECT_EQ(admin_call(port, "GET", "/api/keys").response.body.find("\"x\""), std::string::npos);
    EXPECT_EQ(admin_call(port, "GET", "/api/settings/metrics.public").json.at("set"), false);
}

TEST(AdminApi, UnknownRoutesAndMethods) {
    ProxyFixture proxy({});
    auto missing = admin_call(proxy.port(), "GET", "/api/nothing/here");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(obj(missing).at("error").at("type").as_string(), "not_found_error");

    auto wrong = admin_call(proxy.port(), "DELETE", "/api/status");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.response.header("allow"), "GET");
    EXPECT_NE(wrong.error_message().find("GET"), std::string::npos) << wrong.error_message();

    auto put = admin_call(proxy.port(), "PUT", "/api/endpoints", "{}");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.response.header("allow"), "GET, POST");

    auto trailing = admin_call(proxy.port(), "GET", "/api/endpoints/");
    EXPECT_EQ(trailing.status, 404);
    auto bad_param = admin_call(proxy.port(), "GET", "/api/endpoints?verbose=1");
    expect_400(bad_param, "verbose");
}

TEST(AdminApi, StatusReportsTheProcessAndEveryEndpoint) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    ASSERT_EQ(proxy.send_messages().status, 200);
    // (The request leaves in_flight just after its last byte reached the client.)
    auto res = admin_call(proxy.port(), "GET", "/api/status");
    EXPECT_TRUE(eventually([&] {
        res = admin_call(proxy.port(), "GET", "/api/status");
        return res.status == 200 && obj(res).at("in_flight").to_number<double>() == 0;
    }));
    ASSERT_EQ(res.status, 200) << res.response.body;
    const auto& o = obj(res);
    EXPECT_EQ(o.at("version").as_string(), std::string(kVersion));
    EXPECT_GE(o.at("uptime_s").to_number<double>(), 0);
    EXPECT_EQ(o.at("requests").to_number<double>(), 1);
    EXPECT_EQ(o.at("in_flight").to_number<double>(), 0);
    EXPECT_EQ(o.at("failovers").to_number<double>(), 0);
    EXPECT_TRUE(o.contains("log_rows_dropped"));
    EXPECT_TRUE(o.contains("sessions"));
    EXPECT_TRUE(o.contains("repins"));
    ASSERT_EQ(o.at("endpoints").as_array().size(), 1u);
    EXPECT_EQ(o.at("endpoints").at(0).at("name").as_string(), "a");
    EXPECT_EQ(o.at("endpoints").at(0).at("successes").to_number<double>(), 1);
}

TEST(AdminApi, EndpointLifecycleAndTheCredentialNeverLeaves) {
    FakeUpstream up;
    ProxyFixture proxy({});
    const auto port = proxy.port();
    std::vector<std::string> bodies;
    auto call = [&](std::string_view method, std::string_view target, std::string_view body = {}) {
        auto r = admin_call(port, method, target, body);
        bodies.push_back(r.response.body);
        return r;
    };

    auto created =
        call("POST", "/api/endpoints",
             endpoint_body("relay", up.base_url() + "/",
                           R"(,"tier":2,"weight":50,"model_map":{"claude-x":"m"},)"
                           R"("tags":["eu"],"models":["claude-sonnet-*"],"idle_timeout_ms":5000)"));
    ASSERT_EQ(created.status, 201) << created.response.body;
    const auto& ep = obj(created);
    EXPECT_EQ(ep.at("name").as_string(), "relay");
    EXPECT_EQ(ep.at("base_url").as_string(), up.base_url()) << "trailing '/' normalized";
    EXPECT_EQ(ep.at("kind").as_string(), "anthropic");
    EXPECT_EQ(ep.at("auth").as_string(), "x-api-key");
    EXPECT_EQ(ep.at("tier").as_int64(), 2);
    EXPECT_EQ(ep.at("weight").as_int64(), 50);
    EXPECT_EQ(ep.at("enabled").as_bool(), true);
    EXPECT_EQ(ep.at("model_map").at("claude-x").as_string(), "m");
    EXPECT_EQ(ep.at("tags").at(0).as_string(), "eu");
    EXPECT_EQ(ep.at("models").at(0).as_string(), "claude-sonnet-*");
    EXPECT_EQ(ep.at("idle_timeout_ms").as_int64(), 5000);
    EXPECT_TRUE(ep.at("connect_timeout_ms").is_null());
    EXPECT_EQ(ep.at("api_key").as_string(), "****6789");
    EXPECT_FALSE(ep.at("id").as_string().empty());
    EXPECT_GT(ep.at("created_at").to_number<double>(), 0);
    ASSERT_TRUE(ep.at("state").is_object()) << "the answer already reflects the reload";
    EXPECT_EQ(ep.at("state").at("tier").as_int64(), 2);

    auto dup = call("POST", "/api/endpoints", endpoint_body("relay", up.base_url()));
    EXPECT_EQ(dup.status, 409);
    EXPECT_NE(dup.error_message().find("relay"), std::string::npos);

    auto list = call("GET", "/api/endpoints");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(obj(list).at("endpoints").as_array().size(), 1u);

    auto one = call("GET", "/api/endpoints/relay");
    ASSERT_EQ(one.status, 200);
    EXPECT_TRUE(obj(one).at("events").is_array());
    EXPECT_TRUE(obj(one).at("checks").is_array());

    // PATCH merges; the live weight follows at once.
    auto patched =
        call("PATCH", "/api/endpoints/relay", R"({"weight":250,"idle_timeout_ms":null})");
    ASSERT_EQ(patched.status, 200) << patched.response.body;
    EXPECT_EQ(obj(patched).at("weight").as_int64(), 250);
    EXPECT_EQ(obj(patched).at("tier").as_int64(), 2) << "fields not sent are kept";
    EXPECT_TRUE(obj(patched).at("idle_timeout_ms").is_null());
    EXPECT_EQ(status_row(port, "relay").at("weight").as_int64(), 250);

    // Sending the masked credential back (GET → edit → PATCH) keeps the real one.
    auto roundtrip = call("PATCH", "/api/endpoints/relay", R"({"api_key":"****6789"})");
    ASSERT_EQ(roundtrip.status, 200);
    EXPECT_EQ(proxy.send_messages().status, 200);
    ASSERT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.requests()[0].header("x-api-key"), kSecret);

    auto disabled = call("POST", "/api/endpoints/relay/disable");
    ASSERT_EQ(disabled.status, 200);
    EXPECT_FALSE(obj(disabled).at("enabled").as_bool());
    EXPECT_FALSE(status_row(port, "relay").at("enabled").as_bool());
    auto enabled = call("POST", "/api/endpoints/relay/enable");
    ASSERT_EQ(enabled.status, 200);
    EXPECT_TRUE(obj(enabled).at("enabled").as_bool());

    expect_400(call("PATCH", "/api/endpoints/relay", R"({"name":"other"})"), "renamed");
    EXPECT_EQ(call("PATCH", "/api/endpoints/nope", R"({"weight":2})").status, 404);
    EXPECT_EQ(call("GET", "/api/endpoints/nope").status, 404);
    EXPECT_EQ(call("POST", "/api/endpoints/nope/enable").status, 404);

    auto deleted = call("DELETE", "/api/endpoints/relay");
    ASSERT_EQ(deleted.status, 200);
    EXPECT_EQ(obj(deleted).at("deleted").as_string(), "relay");
    EXPECT_TRUE(status_row(port, "relay").is_null());
    EXPECT_EQ(call("DELETE", "/api/endpoints/relay").status, 404);
    EXPECT_EQ(call("GET", "/api/endpoints/relay").status, 404);

    for (const auto& b : bodies) {
        EXPECT_EQ(b.find(kSecret), std::string::npos) << "credential in a response: " << b;
    }
}

TEST(AdminApi, EndpointValidation) {
    FakeUpstream up;
    ProxyFixture proxy({});
    const auto port = proxy.port();
    const auto url = up.base_url();
    auto post = [&](const std::string& body) {
        return admin_call(port, "POST", "/api/endpoints", body);
    };
    expect_400(post(endpoint_body("x", "ftp://relay.example.com")), "base_url");
    expect_400(post(endpoint_body("x", "not a url")), "base_url");
    expect_400(post(endpoint_body("x", url, R"(,"weight":0)")),
               "weight: must be between 1 and 1000");
    expect_400(post(endpoint_body("x", url, R"(,"weight":1001)")), "weight");
    expect_400(post(endpoint_body("x", url, R"(,"tier":10)")), "tier: must be between 1 and 9");
    expect_400(post(endpoint_body("x", url, R"(,"tier":"1")")), "tier: expected an integer");
    expect_400(post(endpoint_body("x", url, R"(,"enabled":"yes")")), "enabled");
    expect_400(post(endpoint_body("x", url, R"(,"kind":"grpc")")), "kind");
    expect_400(post(endpoint_body("x", url, R"(,"auth":"basic")")), "auth");
    expect_400(post(endpoint_body("x", url, R"(,"tags":[1])")), "tags");
    expect_400(post(endpoint_body("x", url, R"(,"models":"haiku")")), "models: expected an array");
    expect_400(post(endpoint_body("x", url, R"(,"models":["a*b"])")),
               "models: '*' may only end a pattern");
    expect_400(post(endpoint_body("x", url, R"(,"model_map":{"a":1})")), "model_map");
    expect_400(post(endpoint_body("x", url, R"(,"connect_timeout_ms":0)")), "connect_timeout_ms");
    expect_400(post(endpoint_body("x", url, R"(,"colour":"red")")), "unknown field 'colour'");
    expect_400(post(endpoint_body("x", url, R"(,"id":"abc")")), "id: read-only");
    expect_400(post(endpoint_body("bad name!", url)), "name");
    expect_400(post(R"({"name":"x","base_url":")" + url + R"("})"), "api_key: required");
    expect_400(post("{not json"), "not valid JSON");
    expect_400(post("[1,2]"), "JSON object");
    expect_400(post(""), "JSON object");
    expect_400(admin_call(port, "PATCH", "/api/endpoints/x", "[]"), "JSON object");
    auto huge =
        post(endpoint_body("x", url, R"(,"tags":[")" + std::string(1100 * 1024, 'a') + "\"]"));
    EXPECT_EQ(huge.status, 413);
    // Nothing was stored by any of these.
    EXPECT_EQ(obj(admin_call(port, "GET", "/api/endpoints")).at("endpoints").as_array().size(), 0u);
}

TEST(AdminApi, CreatedEndpointTakesTraffic) {
    FakeUpstream old_up, new_up;
    ProxyFixture proxy({endpoint_config("old", old_up.base_url(), 2)});
    auto created = admin_call(proxy.port(), "POST", "/api/endpoints",
                              endpoint_body("new", new_up.base_url(), R"(,"tier":1)"));
    ASSERT_EQ(created.status, 201) << created.response.body;
    EXPECT_EQ(proxy.send_messages().status, 200);
    EXPECT_EQ(new_up.request_count(), 1u) << "tier 1 endpoint created through the API is used";
    EXPECT_EQ(old_up.request_count(), 0u);
    ASSERT_EQ(new_up.requests().size(), 1u);
    EXPECT_EQ(new_up.requests()[0].header("x-api-key"), kSecret);
}

TEST(AdminApi, QuarantineAndRelease) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    auto q = admin_call(port, "POST", "/api/endpoints/a/quarantine", R"({"reason":"maintenance"})");
    ASSERT_EQ(q.status, 200) << q.response.body;
    EXPECT_EQ(obj(q).at("endpoint").as_string(), "a");
    EXPECT_TRUE(obj(q).at("quarantined").as_bool());
    auto row = status_row(port, "a");
    EXPECT_TRUE(row.at("quarantined").as_bool());
    EXPECT_EQ(row.at("quarantine_reason").as_string(), "maintenance");

    auto r = admin_call(port, "POST", "/api/endpoints/a/release");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(obj(r).at("released").as_bool());
    EXPECT_FALSE(status_row(port, "a").at("quarantined").as_bool());
    auto again = admin_call(port, "POST", "/api/endpoints/a/release");
    EXPECT_FALSE(obj(again).at("released").as_bool()) << "was not quarantined";

    EXPECT_EQ(admin_call(port, "POST", "/api/endpoints/zz/quarantine").status, 404);
    EXPECT_EQ(admin_call(port, "POST", "/api/endpoints/zz/release").status, 404);
    expect_400(admin_call(port, "POST", "/api/endpoints/a/quarantine", R"({"why":"x"})"), "why");
    expect_400(admin_call(port, "POST", "/api/endpoints/a/quarantine", R"({"reason":5})"),
               "reason");
    EXPECT_EQ(admin_call(port, "GET", "/api/endpoints/a/quarantine").status, 405);
}

TEST(AdminApi, ClientKeysAuthenticateUntilRevoked) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    auto created = admin_call(port, "POST", "/api/keys", R"({"name":"laptop"})");
    ASSERT_EQ(created.status, 201) << created.response.body;
    const std::string key(obj(created).at("key").as_string());
    EXPECT_TRUE(key.starts_with("sk-qcc-"));
    EXPECT_EQ(key.size(), 7u + 48u);  // the one key format: 48 hex characters (192 bits)
    EXPECT_EQ(key.find_first_not_of(
                  "sk-qcABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(obj(created).at("prefix").as_string(), key.substr(0, 13));
    EXPECT_GT(obj(created).at("created_at").to_number<double>(), 0);

    auto send_with = [&](const std::string& k) {
        TestClient client(port);
        Headers h = ProxyFixture::client_headers(false);
        h.emplace_back("x-api-key", k);
        return client.request("POST", "/v1/messages", h, ProxyFixture::messages_body(false));
    };
    EXPECT_EQ(send_with(key).status, 200) << "usable at once";

    auto list = admin_call(port, "GET", "/api/keys");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.response.body.find(key), std::string::npos) << "shown once only";
    bool found = false;
    for (const auto& k : obj(list).at("keys").as_array()) {
        if (k.at("name").as_string() != "laptop") continue;
        found = true;
        EXPECT_FALSE(k.at("revoked").as_bool());
        EXPECT_EQ(k.at("prefix").as_string(), key.substr(0, 13));
    }
    EXPECT_TRUE(found);

    EXPECT_EQ(admin_call(port, "POST", "/api/keys", R"({"name":"laptop"})").status, 409);
    expect_400(admin_call(port, "POST", "/api/keys", R"({"name":"no spaces"})"), "name");
    expect_400(admin_call(port, "POST", "/api/keys", R"({})"), "name: required");
    expect_400(admin_call(port, "POST", "/api/keys", R"({"name":"k","scope":"all"})"), "scope");
    expect_400(admin_call(port, "POST", "/api/keys", R"({"name":7})"), "name: expected a string");

    auto revoked = admin_call(port, "DELETE", "/api/keys/laptop");
    ASSERT_EQ(revoked.status, 200);
    EXPECT_EQ(obj(revoked).at("revoked").as_string(), "laptop");
    EXPECT_EQ(send_with(key).status, 401) << "refused at once";
    EXPECT_EQ(admin_call(port, "DELETE", "/api/keys/nobody").status, 404);

    // A revoked name can be reused; the new key works, the old one stays refused.
    auto again = admin_call(port, "POST", "/api/keys", R"({"name":"laptop"})");
    ASSERT_EQ(again.status, 201);
    const std::string key2(obj(again).at("key").as_string());
    EXPECT_NE(key2, key);
    EXPECT_EQ(send_with(key2).status, 200);
    EXPECT_EQ(send_with(key).status, 401);
}

TEST(AdminApi, Settings) {
    ProxyFixture proxy({});
    const auto port = proxy.port();
    auto list = admin_call(port, "GET", "/api/settings");
    ASSERT_EQ(list.status, 200);
    bool found = false;
    for (const auto& s : obj(list).at("settings").as_array()) {
        if (s.at("key").as_string() != "breaker.window") continue;
        found = true;
        EXPECT_EQ(s.at("value").as_string(), "60s");
        EXPECT_EQ(s.at("default").as_string(), "60s");
        EXPECT_FALSE(s.at("set").as_bool());
        EXPECT_EQ(s.at("kind").as_string(), "duration");
        EXPECT_FALSE(s.at("description").as_string().empty());
    }
    EXPECT_TRUE(found);

    auto put = admin_call(port, "PUT", "/api/settings/breaker.window", R"({"value":"90s"})");
    ASSERT_EQ(put.status, 200) << put.response.body;
    EXPECT_EQ(obj(put).at("value").as_string(), "90s");
    EXPECT_TRUE(obj(put).at("set").as_bool());
    EXPECT_EQ(proxy.gateway().snapshots().policy()->breaker.window, 90s) << "applied at once";
    auto get = admin_call(port, "GET", "/api/settings/breaker.window");
    ASSERT_EQ(get.status, 200);
    EXPECT_EQ(obj(get).at("value").as_string(), "90s");

    expect_400(admin_call(port, "PUT", "/api/settings/breaker.window", R"({"value":"soon"})"),
               "breaker.window: expected a duration");
    expect_400(admin_call(port, "PUT", "/api/settings/breaker.window", R"({"value":90})"),
               "value: expected a string");
    expect_400(admin_call(port, "PUT", "/api/settings/breaker.window", R"({})"), "value: required");
    expect_400(admin_call(port, "PUT", "/api/settings/breaker.window", R"({"value":"1s","x":1})"),
               "'x'");
    EXPECT_EQ(admin_call(port, "GET", "/api/settings/no.such").status, 404);
    EXPECT_EQ(admin_call(port, "PUT", "/api/settings/no.such", R"({"value":"1"})").status, 404);
    EXPECT_EQ(obj(admin_call(port, "GET", "/api/settings/breaker.window")).at("value").as_string(),
              "90s")
        << "rejected writes changed nothing";
}

/// Request-log rows written straight into the store (the API is what is under test here).
std::vector<store::RequestRecord> seed_requests(store::Store& st, std::int64_t ts) {
    std::vector<store::RequestRecord> rows;
    auto row = [&](std::string endpoint, int status, std::string error_class, int attempts,
                   std::int64_t total_ms) {
        store::RequestRecord r;
        r.request_id = "req-" + std::to_string(rows.size());
        r.ts_unix_ms = ts + static_cast<std::int64_t>(rows.size());
        r.method = "POST";
        r.path = "/v1/messages";
        r.client_key = "test";
        r.session_key = "s1";
        r.endpoint = std::move(endpoint);
        r.attempts = attempts;
        r.tried = r.endpoint;
        r.model_requested = r.model_sent = "claude-sonnet-4-5";
        r.status = status;
        r.error_class = std::move(error_class);
        r.ttfb_ms = total_ms / 2;
        r.total_ms = total_ms;
        r.input_tokens = 10;
        r.output_tokens = 5;
        r.cost_usd = 0.001;
        r.request_payload = status == 200 ? "" : R"({"model":"claude-sonnet-4-5"})";
        r.response_payload = status == 200 ? "" : R"({"type":"error"})";
        rows.push_back(std::move(r));
    };
    row("a", 200, "", 1, 100);
    row("a", 200, "", 2, 200);
    row("b", 529, "overloaded", 1, 300);
    st.append_requests(rows);
    return rows;
}

TEST(AdminApi, StatsOverAWindow) {
    ProxyFixture proxy({});
    const auto port = proxy.port();
    seed_requests(proxy.gateway().store(), now_ms() - 60'000);

    auto res = admin_call(port, "GET", "/api/stats?window=1h&by=endpoint");
    ASSERT_EQ(res.status, 200) << res.response.body;
    const auto& o = obj(res);
    EXPECT_EQ(o.at("by").as_string(), "endpoint");
    EXPECT_EQ(o.at("to").as_int64() - o.at("from").as_int64(), 3'600'000);
    EXPECT_EQ(o.at("bucket_ms").as_int64(), 0);
    const auto& rows = o.at("rows").as_array();
    ASSERT_EQ(rows.size(), 2u) << res.response.body;
    EXPECT_EQ(rows.at(0).at("group").as_string(), "a");
    EXPECT_EQ(rows.at(0).at("count").as_int64(), 2);
    EXPECT_EQ(rows.at(0).at("failovers").as_int64(), 1);
    EXPECT_EQ(rows.at(1).at("group").as_string(), "b");
    EXPECT_EQ(rows.at(1).at("successes").as_int64(), 0);
    const auto& totals = o.at("totals");
    EXPECT_EQ(totals.at("count").as_int64(), 3);
    EXPECT_EQ(totals.at("successes").as_int64(), 2);
    EXPECT_EQ(totals.at("input_tokens").as_int64(), 30);
    EXPECT_TRUE(totals.at("latency_p50_ms").is_number());

    auto bucketed = admin_call(port, "GET", "/api/stats?window=2h&bucket=1h");
    ASSERT_EQ(bucketed.status, 200);
    EXPECT_EQ(obj(bucketed).at("bucket_ms").as_int64(), 3'600'000);
    EXPECT_EQ(obj(bucketed).at("totals").at("count").as_int64(), 3);

    const auto from = now_ms() - 120'000;
    auto ranged = admin_call(
        port, "GET",
        "/api/stats?from=" + std::to_string(from) + "&to=" + std::to_string(from + 1000));
    ASSERT_EQ(ranged.status, 200);
    EXPECT_EQ(obj(ranged).at("totals").at("count").as_int64(), 0) << "nothing in that second";

    expect_400(admin_call(port, "GET", "/api/stats?window=soon"), "window");
    expect_400(admin_call(port, "GET", "/api/stats?window=0h"), "window");
    expect_400(admin_call(port, "GET", "/api/stats?by=colour"), "by: expected");
    expect_400(admin_call(port, "GET", "/api/stats?window=1h&from=1"), "window");
    expect_400(admin_call(port, "GET", "/api/stats?to=5"), "from");
    expect_400(admin_call(port, "GET", "/api/stats?from=10&to=5"), "from");
    expect_400(admin_call(port, "GET", "/api/stats?from=abc"), "from");
    expect_400(admin_call(port, "GET", "/api/stats?window=30d&bucket=1s"), "bucket");
    expect_400(admin_call(port, "GET", "/api/stats?bucket=x"), "bucket");
    expect_400(admin_call(port, "GET", "/api/stats?group=endpoint"), "group");
}

TEST(AdminApi, RequestLogBrowsing) {
    ProxyFixture proxy({});
    const auto port = proxy.port();
    const auto rows = seed_requests(proxy.gateway().store(), now_ms() - 60'000);

    auto page1 = admin_call(port, "GET", "/api/requests?limit=2");
    ASSERT_EQ(page1.status, 200) << page1.response.body;
    const auto& r1 = obj(page1).at("requests").as_array();
    ASSERT_EQ(r1.size(), 2u);
    EXPECT_EQ(r1.at(0).at("id").as_int64(), rows[2].id) << "newest first";
    EXPECT_EQ(r1.at(0).at("endpoint").as_string(), "b");
    EXPECT_EQ(r1.at(0).at("ts").as_int64(), rows[2].ts_unix_ms);
    EXPECT_EQ(r1.at(0).at("error_class").as_string(), "overloaded");
    EXPECT_FALSE(r1.at(0).as_object().contains("request_payload")) << "payloads only by id";
    const auto next = obj(page1).at("next_before").as_int64();
    EXPECT_EQ(next, rows[1].id);
    auto page2 = admin_call(port, "GET", "/api/requests?limit=2&before=" + std::to_string(next));
    ASSERT_EQ(page2.status, 200);
    ASSERT_EQ(obj(page2).at("requests").as_array().size(), 1u);
    EXPECT_TRUE(obj(page2).at("next_before").is_null());

    auto only_a = admin_call(port, "GET", "/api/requests?endpoint=a");
    EXPECT_EQ(obj(only_a).at("requests").as_array().size(), 2u);
    auto errors = admin_call(port, "GET", "/api/requests?errors=1");
    ASSERT_EQ(obj(errors).at("requests").as_array().size(), 1u);
    auto by_status = admin_call(port, "GET", "/api/requests?status=529&class=overloaded");
    EXPECT_EQ(obj(by_status).at("requests").as_array().size(), 1u);

    auto one = admin_call(port, "GET", "/api/requests/" + std::to_string(rows[2].id));
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(obj(one).at("request_id").as_string(), "req-2");
    EXPECT_EQ(obj(one).at("request_payload").as_string(), rows[2].request_payload);
    EXPECT_EQ(obj(one).at("response_payload").as_string(), rows[2].response_payload);

    EXPECT_EQ(admin_call(port, "GET", "/api/requests/999999").status, 404);
    expect_400(admin_call(port, "GET", "/api/requests/abc"), "id");
    expect_400(admin_call(port, "GET", "/api/requests?limit=0"), "limit");
    expect_400(admin_call(port, "GET", "/api/requests?limit=1001"), "limit");
    expect_400(admin_call(port, "GET", "/api/requests?limit=ten"), "limit");
    expect_400(admin_call(port, "GET", "/api/requests?status=abc"), "status");
    expect_400(admin_call(port, "GET", "/api/requests?errors=maybe"), "errors");
    expect_400(admin_call(port, "GET", "/api/requests?before=0"), "before");
    expect_400(admin_call(port, "GET", "/api/requests?endpoint_name=a"), "endpoint_name");
}

TEST(AdminApi, HealthChecksAndEventHistory) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    auto& st = proxy.gateway().store();
    store::HealthCheckRecord check;
    check.endpoint = "a";
    check.method = "models";
    check.result = "pass";
    check.valid = true;
    check.score = 100;
    st.append_health_checks({check, check});
    st.append_events({store::EventRecord{0, 0, "a", "quarantine", "operator"},
                      store::EventRecord{0, 0, "b", "release", "check"}});

    auto checks = admin_call(port, "GET", "/api/health/checks?endpoint=a&limit=1");
    ASSERT_EQ(checks.status, 200) << checks.response.body;
    ASSERT_EQ(obj(checks).at("checks").as_array().size(), 1u);
    EXPECT_EQ(obj(checks).at("checks").at(0).at("result").as_string(), "pass");
    EXPECT_EQ(obj(checks).at("checks").at(0).at("method").as_string(), "models");

    auto events = admin_call(port, "GET", "/api/events/history");
    ASSERT_EQ(events.status, 200);
    ASSERT_EQ(obj(events).at("events").as_array().size(), 2u);
    EXPECT_EQ(obj(events).at("events").at(0).at("kind").as_string(), "release") << "newest first";
    auto only_a = admin_call(port, "GET", "/api/events/history?endpoint=a");
    ASSERT_EQ(obj(only_a).at("events").as_array().size(), 1u);
    EXPECT_EQ(obj(only_a).at("events").at(0).at("detail").as_string(), "operator");

    auto detail = admin_call(port, "GET", "/api/endpoints/a");
    EXPECT_EQ(obj(detail).at("events").as_array().size(), 1u);
    EXPECT_EQ(obj(detail).at("checks").as_array().size(), 2u);

    expect_400(admin_call(port, "GET", "/api/health/checks?limit=0"), "limit");
    expect_400(admin_call(port, "GET", "/api/events/history?limit=5000"), "limit");
    EXPECT_EQ(admin_call(port, "POST", "/api/health/checks").status, 405);
}

TEST(AdminApi, Sessions) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    ASSERT_EQ(proxy.send_messages("11111111-2222-3333-4444-555555555555").status, 200);
    ASSERT_EQ(proxy.send_messages("66666666-2222-3333-4444-555555555555").status, 200);
    auto res = admin_call(port, "GET", "/api/sessions?limit=1");
    ASSERT_EQ(res.status, 200) << res.response.body;
    EXPECT_EQ(obj(res).at("count").to_number<double>(), 2);
    EXPECT_EQ(obj(res).at("repins").to_number<double>(), 0);
    const auto& sessions = obj(res).at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 1u) << "limit applies";
    EXPECT_NE(sessions.at(0).at("session").as_string().find("66666666"), std::string::npos)
        << "most recent first: " << res.response.body;
    EXPECT_EQ(sessions.at(0).at("endpoint").as_string(), "a");
    EXPECT_GT(sessions.at(0).at("last_used").to_number<double>(), 0);
    expect_400(admin_call(port, "GET", "/api/sessions?limit=-1"), "limit");
}

TEST(AdminApi, EventStreamCarriesStateCheckAndRequestEvents) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    EventStream events(port);
    ASSERT_EQ(events.status(), 200) << events.head();
    EXPECT_NE(events.head().find("text/event-stream"), std::string::npos) << events.head();
    EXPECT_NE(events.head().find("no-cache"), std::string::npos);
    EXPECT_EQ(proxy.gateway().hub().subscribers(), 1u);

    ASSERT_EQ(admin_call(port, "POST", "/api/endpoints/a/quarantine", R"({"reason":"sse"})").status,
              200);
    ASSERT_TRUE(events.wait_for("event: state\ndata: {")) << events.text();
    EXPECT_NE(events.text().find(R"("kind":"quarantine")"), std::string::npos) << events.text();
    EXPECT_NE(events.text().find(R"("detail":"sse")"), std::string::npos) << events.text();

    auto mark = events.text().size();
    ASSERT_EQ(admin_call(port, "POST", "/api/health/check?endpoint=a&method=models").status, 200);
    ASSERT_TRUE(events.wait_for("event: check\ndata: {", mark)) << events.text();
    EXPECT_NE(events.text().find(R"("endpoint":"a")", mark), std::string::npos);

    mark = events.text().size();
    ASSERT_EQ(proxy.send_messages().status, 200);
    ASSERT_NE(&proxy.gateway().writer(), nullptr) << "request events come from the writer";
    ASSERT_TRUE(events.wait_for("event: request\ndata: {", mark)) << events.text();
    EXPECT_NE(events.text().find(R"("path":"/v1/messages")", mark), std::string::npos)
        << events.text();

    // The server notices the disconnect and frees the subscription.
    events.close();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (proxy.gateway().hub().subscribers() != 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    EXPECT_EQ(proxy.gateway().hub().subscribers(), 0u);
}

TEST(AdminApi, EventStreamChecksTheOrigin) {
    ProxyFixture proxy({});
    const auto port = proxy.port();
    EventStream foreign(port, {{"origin", "https://evil.example"}});
    EXPECT_EQ(foreign.status(), 403) << foreign.head();
    EXPECT_EQ(proxy.gateway().hub().subscribers(), 0u);
    EventStream same(port, {{"origin", "http://127.0.0.1:" + std::to_string(port)}});
    EXPECT_EQ(same.status(), 200) << same.head();
    expect_400(admin_call(port, "GET", "/api/events?since=1"), "since");
}

TEST(AdminApi, MetricsNeedTheTokenUnlessPublic) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto port = proxy.port();
    ASSERT_EQ(proxy.send_messages().status, 200);
    EXPECT_EQ(admin_call(port, "GET", "/metrics", "", "").status, 401);
    EXPECT_EQ(admin_call(port, "GET", "/metrics", "", "wrong").status, 401);
    auto with = admin_call(port, "GET", "/metrics");
    ASSERT_EQ(with.status, 200);
    EXPECT_NE(with.response.header("content-type").find("text/plain"), std::string::npos);
    EXPECT_NE(with.response.body.find("# TYPE "), std::string::npos) << with.response.body;
    EXPECT_EQ(admin_call(port, "POST", "/metrics").status, 405);

    ASSERT_EQ(admin_call(port, "PUT", "/api/settings/metrics.public", R"({"value":"true"})").status,
              200);
    auto open = admin_call(port, "GET", "/metrics", "", "");
    EXPECT_EQ(open.status, 200);
    EXPECT_NE(open.response.body.find("# TYPE "), std::string::npos);
    EXPECT_EQ(admin_call(port, "GET", "/api/status", "", "").status, 401)
        << "only /metrics becomes public";
}

}  // namespace
}  // namespace qcc::test
