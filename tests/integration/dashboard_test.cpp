// The dashboard's server side through the real gateway: the embedded app at /ui/ (CSP, gzip,
// ETag, immutable hashed assets, the browser redirect) and browser sessions (login with the
// admin token for an HttpOnly SameSite=Strict cookie, cookie-authenticated API calls, the Origin
// check against CSRF, logout, throttled wrong tokens). The browser itself:
// tests/e2e/dashboard_e2e.sh.
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "admin/ui_assets.hpp"
#include "harness/admin_call.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {
namespace {

ClientResponse send(ProxyFixture& proxy, std::string_view method, std::string_view target,
                    Headers headers, std::string_view body = {}) {
    TestClient client(proxy.port());
    return client.request(method, target, headers, std::string(body));
}

std::string origin(ProxyFixture& proxy) {
    return "http://127.0.0.1:" + std::to_string(proxy.port());
}

Headers browser(ProxyFixture& proxy, std::string cookie = {}) {
    Headers h{{"host", "127.0.0.1:" + std::to_string(proxy.port())}, {"origin", origin(proxy)}};
    if (!cookie.empty()) h.emplace_back("cookie", "qcc_session=" + cookie);
    return h;
}

std::string session_cookie(const ClientResponse& res) {
    const auto set = res.header("set-cookie");
    const auto start = set.find("qcc_session=");
    if (start == std::string::npos) return {};
    const auto value = set.substr(start + 12);
    return value.substr(0, value.find(';'));
}

TEST(Dashboard, TheAppIsServedFromTheBinaryWithStrictHeaders) {
    ProxyFixture proxy({});
    const auto index = send(proxy, "GET", "/ui/", {{"accept-encoding", "gzip, deflate, br"}});
    ASSERT_EQ(index.status, 200);
    EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(index.header("content-encoding"), admin::ui_built() ? "gzip" : "");
    EXPECT_EQ(index.header("cache-control"), "no-cache");
    EXPECT_NE(index.header("content-security-policy").find("script-src 'self'"), std::string::npos);
    EXPECT_NE(index.header("content-security-policy").find("frame-ancestors 'none'"),
              std::string::npos);
    EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
    EXPECT_EQ(index.header("x-frame-options"), "DENY");
    const auto etag = index.header("etag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(send(proxy, "GET", "/ui/", {{"if-none-match", etag}}).status, 304);

    // Without gzip: the raw page, which names its hashed assets; those are cached for a year.
    const auto plain = send(proxy, "GET", "/ui/index.html", {});
    ASSERT_EQ(plain.status, 200);
    EXPECT_NE(plain.body.find("<html"), std::string::npos) << plain.body;
    for (const auto& a : admin::ui_assets()) {
        if (!a.immutable) continue;
        const auto res = send(proxy, "GET", "/ui/" + std::string(a.path), {});
        EXPECT_EQ(res.status, 200) << a.path;
        EXPECT_EQ(res.header("cache-control"), "public, max-age=31536000, immutable");
        EXPECT_EQ(res.body.size(), a.raw.size());
        EXPECT_NE(plain.body.find(std::string(a.path)), std::string::npos) << a.path;
    }
    EXPECT_EQ(send(proxy, "GET", "/ui/assets/nope.js", {}).status, 404);
    EXPECT_EQ(send(proxy, "POST", "/ui/", {}, "x").status, 405);
    // A browser at QCC's address is sent to the dashboard; an API client gets the usual 404.
    const auto root = send(proxy, "GET", "/", {{"accept", "text/html,application/xhtml+xml"}});
    EXPECT_EQ(root.status, 302);
    EXPECT_EQ(root.header("location"), "/ui/");
    EXPECT_EQ(send(proxy, "GET", "/", {{"accept", "application/json"}}).status, 404);
}

TEST(Dashboard, LoginGivesAnHttpOnlyCookieThatAuthenticatesTheApiUntilLogout) {
    ProxyFixture proxy({});
    const auto wrong = send(proxy, "POST", "/api/login", browser(proxy), R"({"token":"nope"})");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_NE(wrong.body.find("invalid admin token"), std::string::npos) << wrong.body;
    EXPECT_EQ(wrong.header("set-cookie"), "");
    EXPECT_EQ(send(proxy, "POST", "/api/login", browser(proxy), "not json").status, 400);

    const auto ok = send(proxy, "POST", "/api/login", browser(proxy),
                         std::string(R"({"token":")") + kAdminToken + "\"}");
    ASSERT_EQ(ok.status, 200) << ok.body;
    const auto set = ok.header("set-cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(set.find("Path=/"), std::string::npos);
    const auto cookie = session_cookie(ok);
    ASSERT_EQ(cookie.size(), 64u);
    EXPECT_EQ(ok.body.find(kAdminToken), std::string::npos);

    EXPECT_EQ(send(proxy, "GET", "/api/session", browser(proxy, cookie)).status, 200);
    EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, cookie)).status, 200);
    const auto put = send(proxy, "PUT", "/api/settings/breaker.open", browser(proxy, cookie),
                          R"({"value":"45s"})");
    EXPECT_EQ(put.status, 200) << put.body;

    // CSRF: the cookie from another site's page (or without an Origin) changes nothing.
    auto foreign = browser(proxy, cookie);
    foreign[1].second = "http://evil.example";
    const auto csrf =
        send(proxy, "PUT", "/api/settings/breaker.open", foreign, R"({"value":"1s"})");
    EXPECT_EQ(csrf.status, 403);
    EXPECT_NE(csrf.body.find("permission_error"), std::string::npos);
    Headers no_origin{{"cookie", "qcc_session=" + cookie}};
    EXPECT_EQ(send(proxy, "DELETE", "/api/keys/x", no_origin).status, 403);
    EXPECT_EQ(send(proxy, "GET", "/api/status", no_origin).status, 200);  // reads are fine
    EXPECT_EQ(send(proxy, "POST", "/api/login", foreign, R"({"token":"x"})").status, 403);

    // A forged or unknown cookie is not a session.
    EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, std::string(64, 'a'))).status, 401);

    const auto out = send(proxy, "POST", "/api/logout", browser(proxy, cookie));
    EXPECT_EQ(out.status, 200);
    EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, cookie)).status, 401);
    EXPECT_EQ(send(proxy, "GET", "/api/session", browser(proxy, cookie)).status, 401);
}

TEST(Dashboard, WrongTokensAreThrottled) {
    ProxyFixture proxy({}, [](config::Config& c) { c.limits.auth_free_failures = 2; });
    int last = 0;
    std::string retry_after;
    for (int i = 0; i < 4; ++i) {
        const auto res = send(proxy, "POST", "/api/login", browser(proxy), R"({"token":"bad"})");
        last = res.status;
        retry_after = res.header("retry-after");
    }
    EXPECT_EQ(last, 429);
    EXPECT_FALSE(retry_after.empty());
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(Dashboard, WhatThePagesShowComesFromTheApi) {
    FakeUpstream a, b;
    a.push(sim::Reply::error(529, "overloaded_error", "Overloaded"));
    b.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)});
    const auto res = proxy.send_messages("5b0c1a2e-0000-4000-8000-00000000000a", true);
    ASSERT_EQ(res.status, 200);

    // The request's attempts, as the waterfall draws them.
    boost::json::object row;
    ASSERT_TRUE(eventually([&] {
        proxy.gateway().writer().flush();
        const auto list = admin_call(proxy.port(), "GET", "/api/requests");
        const auto& reqs = list.json.at("requests").as_array();
        if (reqs.empty()) return false;
        row = reqs[0].as_object();
        return true;
    }));
    const auto& attempts = row.at("attempts_detail").as_array();
    ASSERT_EQ(attempts.size(), 2u) << boost::json::serialize(row);
    EXPECT_EQ(attempts[0].at("endpoint").as_string(), "a");
    EXPECT_EQ(attempts[0].at("error_class").as_string(), "overloaded");
    EXPECT_EQ(attempts[0].at("status").as_int64(), 529);
    EXPECT_EQ(attempts[1].at("endpoint").as_string(), "b");
    EXPECT_EQ(attempts[1].at("error_class").as_string(), "");
    EXPECT_EQ(attempts[1].at("status").as_int64(), 200);
    EXPECT_GE(attempts[1].at("start_ms").as_int64(),
              attempts[0].at("start_ms").as_int64() + attempts[0].at("duration_ms").as_int64());
    EXPECT_LE(attempts[1].at("start_ms").as_int64() + attempts[1].at("duration_ms").as_int64(),
              row.at("total_ms").as_int64() + 1);

    // The endpoint cards: kind, last error, the open breaker's countdown.
    const auto status = admin_call(proxy.port(), "GET", "/api/status");
    const auto& eps = status.json.at("endpoints").as_array();
    ASSERT_EQ(eps.size(), 2u);
    EXPECT_EQ(eps[0].at("name").as_string(), "a");
    EXPECT_EQ(eps[0].at("kind").as_string(), "anthropic");
    EXPECT_EQ(eps[0].at("last_error").as_string(), "529 overloaded");
    EXPECT_GT(eps[0].at("last_error_at").as_int64(), 0);
    EXPECT_EQ(eps[0].at("breaker_open_ms_left").as_int64(), 0);  // closed
    EXPECT_EQ(eps[1].at("last_error").as_string(), "");
    EXPECT_TRUE(eps[1].at("adaptive_weight").is_null());

    // The session with what it used.
    const auto sessions = admin_call(proxy.port(), "GET", "/api/sessions");
    const auto& list = sessions.json.at("sessions").as_array();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].at("endpoint").as_string(), "b");
    EXPECT_EQ(list[0].at("requests").as_int64(), 1);
    EXPECT_GT(list[0].at("input_tokens").as_int64(), 0);
    EXPECT_EQ(list[0].at("failovers").as_int64(), 1);
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(Dashboard, ASessionSurvivesARestartAndLogoutEndsItForGood) {
    TempDir dir;
    const auto path = (dir.path() / "qcc.sqlite").string();
    std::string cookie;
    {
        ProxyFixture proxy({}, {}, path);
        const auto ok = send(proxy, "POST", "/api/login", browser(proxy),
                             std::string(R"({"token":")") + kAdminToken + "\"}");
        ASSERT_EQ(ok.status, 200);
        cookie = session_cookie(ok);
    }
    {
        ProxyFixture proxy({}, {}, path);
        EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, cookie)).status, 200);
        EXPECT_EQ(send(proxy, "POST", "/api/logout", browser(proxy, cookie)).status, 200);
        EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, cookie)).status, 401);
    }
    ProxyFixture proxy({}, {}, path);
    EXPECT_EQ(send(proxy, "GET", "/api/status", browser(proxy, cookie)).status, 401);
}

}  // namespace
}  // namespace qcc::test
