// Integration tests of the request log (SPEC §11): one row per request with the right fields for
// success, failover, client cancel and mid-stream failure; cost from the price table; payload
// capture and redaction; the same numbers in the rows, /api/stats and /metrics; data surviving a
// restart.
#include <filesystem>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "store/writer.hpp"
#include "support/prom_check.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> usage_events(int pieces = 4) {
    return sim::text_stream("claude-sonnet-4-5", "Hello from the fake upstream.", pieces,
                            sim::Usage{1200, 700, 300, 500});
}

/// Waits (bounded) until the store holds `n` request rows; returns them newest first.
std::vector<store::RequestRecord> await_rows(ProxyFixture& proxy, std::size_t n,
                                             std::chrono::milliseconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::vector<store::RequestRecord> rows;
    for (int i = 0; i < 2000; ++i) {
        proxy.gateway().writer().flush();
        store::RequestQuery q;
        q.limit = 1000;
        rows = proxy.gateway().store().query_requests(q);
        if (rows.size() >= n || std::chrono::steady_clock::now() > until) break;
        std::this_thread::yield();
    }
    return rows;
}

/// The cost of usage_events() at the built-in claude-sonnet-4-5 price (USD per MTok 3/15,
/// cache write 3.75, cache read 0.30).
constexpr double kExpectedCost = (1200 * 3.0 + 700 * 15.0 + 300 * 3.75 + 500 * 0.30) / 1e6;

ClientResponse admin_get(ProxyFixture& proxy, const std::string& target) {
    TestClient client(proxy.port());
    return client.request("GET", target, {{"authorization", std::string("Bearer ") + kAdminToken}},
                          "");
}

/// The value of one Prometheus sample line "name{labels} value" (-1 when absent).
double metric_value(const std::string& text, const std::string& series) {
    const auto pos = text.find("\n" + series + " ");
    if (pos == std::string::npos) return -1;
    const auto start = pos + 1 + series.size() + 1;
    return std::stod(text.substr(start, text.find('\n', start) - start));
}

TEST(RequestLog, SuccessfulStreamRowHasEveryField) {
    FakeUpstream a;
    a.push(sim::Reply::sse(usage_events()));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto body = ProxyFixture::messages_body(true);
    TestClient client(proxy.port());
    auto headers = ProxyFixture::client_headers();
    headers.emplace_back("x-claude-code-session-id", "sess-1");
    auto res = client.request("POST", "/v1/messages?beta=true", headers, body);
    ASSERT_EQ(res.status, 200);

    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    const auto& r = rows[0];
    EXPECT_GT(r.id, 0);
    EXPECT_FALSE(r.request_id.empty());
    EXPECT_GT(r.ts_unix_ms, 1'700'000'000'000);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/v1/messages");
    EXPECT_EQ(r.client_key, "test");
    EXPECT_EQ(r.session_key, "sess-1");
    EXPECT_EQ(r.endpoint, "a");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.tried, "a");
    EXPECT_EQ(r.model_requested, "claude-sonnet-4-5");
    EXPECT_TRUE(r.stream);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.error_class, "");
    EXPECT_GE(r.ttfb_ms, 0);
    EXPECT_GE(r.total_ms, r.ttfb_ms);
    EXPECT_EQ(r.input_tokens, 1200);
    EXPECT_EQ(r.output_tokens, 700);
    EXPECT_EQ(r.cache_creation_tokens, 300);
    EXPECT_EQ(r.cache_read_tokens, 500);
    EXPECT_NEAR(r.cost_usd, kExpectedCost, 1e-9);
    EXPECT_EQ(r.bytes_in, static_cast<std::int64_t>(body.size()));
    EXPECT_GT(r.bytes_out, static_cast<std::int64_t>(res.body.size())) << "head + framed body";
    EXPECT_EQ(r.request_payload, "") << "payload capture is off by default";
    EXPECT_EQ(r.response_payload, "");
}

TEST(RequestLog, NonStreamingRowReadsUsageFromTheJsonBody) {
    FakeUpstream a;
    a.push(sim::Reply::json(200, sim::text_message_json("claude-sonnet-4-5", "Hi there.",
                                                        sim::Usage{1200, 700, 300, 500})));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    ASSERT_EQ(proxy.send_messages({}, false).status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_FALSE(rows[0].stream);
    EXPECT_EQ(rows[0].input_tokens, 1200);
    EXPECT_EQ(rows[0].output_tokens, 700);
    EXPECT_EQ(rows[0].cache_creation_tokens, 300);
    EXPECT_EQ(rows[0].cache_read_tokens, 500);
    EXPECT_NEAR(rows[0].cost_usd, kExpectedCost, 1e-9);
}

TEST(RequestLog, FailoverRowNamesEveryEndpointTried) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.refuse();
    b.push(sim::Reply::sse(usage_events()));
    auto res = proxy.send_messages({}, true);
    ASSERT_EQ(res.status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].endpoint, "b");
    EXPECT_EQ(rows[0].attempts, 2);
    EXPECT_EQ(rows[0].tried.rfind("a:", 0), 0u) << rows[0].tried;
    EXPECT_TRUE(rows[0].tried.ends_with(",b")) << rows[0].tried;
    EXPECT_EQ(rows[0].error_class, "");
    EXPECT_EQ(rows[0].output_tokens, 700);
}

TEST(RequestLog, ClientCancelRowIsClassifiedAndNotAnEndpointFailure) {
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
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].error_class, "client_cancelled");
    EXPECT_EQ(rows[0].ttfb_ms, -1) << "nothing reached the client";
    EXPECT_EQ(proxy.state("a").failures.load(), 0u);
}

TEST(RequestLog, MidStreamFailureRowKeepsWhatWasSent) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    const auto events = usage_events(8);
    auto cut = sim::Reply::sse(events, 10ms);
    // After the first content delta: a cut before it would still fail over.
    cut.reset_after_bytes = bytes_past_first_delta(events);
    a.push(cut);
    auto res = proxy.send_messages({}, true);
    EXPECT_EQ(res.status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].error_class, "mid_stream_failure");
    EXPECT_EQ(rows[0].status, 200);
    EXPECT_GE(rows[0].ttfb_ms, 0);
    EXPECT_EQ(rows[0].input_tokens, 1200) << "message_start arrived before the cut";
    const auto metrics = admin_get(proxy, "/metrics");
    EXPECT_EQ(metric_value(metrics.body,
                           R"(qcc_request_errors_total{endpoint="a",class="mid_stream_failure"})"),
              1)
        << metrics.body;
}

TEST(RequestLog, UnauthorizedRequestsAreCountedNotStored) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    for (int i = 0; i < 3; ++i) {
        TestClient client(proxy.port());
        auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(false),
                                  ProxyFixture::messages_body(false));
        EXPECT_EQ(res.status, 401);
    }
    ASSERT_EQ(proxy.send_messages().status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u) << "only the authenticated request is a row";
    EXPECT_EQ(rows[0].status, 200);
    const auto metrics = admin_get(proxy, "/metrics");
    EXPECT_EQ(metric_value(metrics.body, "qcc_unauthorized_total"), 3);
    EXPECT_EQ(metric_value(metrics.body, R"(qcc_requests_total{endpoint="none",code="4xx"})"), 3);
}

TEST(RequestLog, UnknownModelCostsNothing) {
    FakeUpstream a;
    a.push(
        sim::Reply::sse(sim::text_stream("mystery-model-9", "hi", 2, sim::Usage{100, 10, 0, 0})));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(true, "mystery-model-9"));
    ASSERT_EQ(res.status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].input_tokens, 100);
    EXPECT_EQ(rows[0].cost_usd, 0.0);
}

TEST(RequestLog, PriceOverridesSettingChangesTheCost) {
    FakeUpstream a;
    a.set_default(sim::Reply::sse(usage_events()));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    proxy.gateway().store().set_setting("pricing.overrides",
                                        R"({"claude-sonnet-4-5":{"input":10,"output":0,)"
                                        R"("cache_write_5m":0,"cache_read":0}})");
    proxy.gateway().tick();
    ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_NEAR(rows[0].cost_usd, 1200 * 10.0 / 1e6, 1e-12);
}

TEST(RequestLog, PayloadCaptureAllKeepsBodiesCappedAndRedacted) {
    FakeUpstream a;
    const auto events = usage_events();
    a.push(sim::Reply::sse(events));
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    proxy.gateway().store().set_setting("log.payloads", "all");
    proxy.gateway().store().set_setting("log.payload_max_bytes", "100000");
    proxy.gateway().tick();
    std::string body = ProxyFixture::messages_body(true);
    const std::string secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz";
    body.replace(body.find("\"messages\""), 0, "\"note\":\"" + secret + "\",");
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(), body);
    ASSERT_EQ(res.status, 200);
    auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    const auto full = proxy.gateway().store().get_request(rows[0].id);
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(full->request_payload.find(secret), std::string::npos) << "credentials redacted";
    EXPECT_NE(full->request_payload.find("sk-[redacted]"), std::string::npos);
    EXPECT_NE(full->request_payload.find("\"messages\""), std::string::npos);
    EXPECT_NE(full->response_payload.find("message_start"), std::string::npos);

    // The cap applies.
    proxy.gateway().store().set_setting("log.payload_max_bytes", "10");
    proxy.gateway().tick();
    a.push(sim::Reply::sse(events));
    ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    rows = await_rows(proxy, 2);
    ASSERT_EQ(rows.size(), 2u);
    const auto capped = proxy.gateway().store().get_request(rows[0].id);
    ASSERT_TRUE(capped.has_value());
    EXPECT_EQ(capped->request_payload.size(), 10u);
    EXPECT_EQ(capped->response_payload.size(), 10u);
}

TEST(RequestLog, PayloadCaptureErrorsKeepsOnlyFailedRequests) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    proxy.gateway().store().set_setting("log.payloads", "errors");
    proxy.gateway().tick();
    a.push(sim::Reply::sse(usage_events()));
    ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    a.push(sim::Reply::error(400, "invalid_request_error", "bad things"));
    ASSERT_EQ(proxy.send_messages({}, false).status, 400);
    const auto rows = await_rows(proxy, 2);
    ASSERT_EQ(rows.size(), 2u);
    const auto failed = proxy.gateway().store().get_request(rows[0].id);
    const auto ok = proxy.gateway().store().get_request(rows[1].id);
    ASSERT_TRUE(failed && ok);
    EXPECT_EQ(failed->status, 400);
    EXPECT_NE(failed->response_payload.find("bad things"), std::string::npos);
    EXPECT_FALSE(failed->request_payload.empty());
    EXPECT_EQ(ok->request_payload, "");
    EXPECT_EQ(ok->response_payload, "");
}

TEST(RequestLog, RowsStatsAndMetricsTellTheSameStory) {
    TwoTierProxy t;
    auto& [clock, a, b, proxy] = t;
    a.set_default(sim::Reply::sse(usage_events()));
    b.set_default(sim::Reply::sse(usage_events()));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    a.set_default(sim::Reply::error(500, "api_error", "boom"));  // the next two fail over to b
    for (int i = 0; i < 2; ++i) ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    const auto rows = await_rows(proxy, 5);
    ASSERT_EQ(rows.size(), 5u);

    auto stats = admin_get(proxy, "/api/stats?window=1h&by=endpoint");
    ASSERT_EQ(stats.status, 200) << stats.body;
    const auto doc = boost::json::parse(stats.body).as_object();
    std::map<std::string, std::int64_t> count, failovers;
    for (const auto& row : doc.at("rows").as_array()) {
        const auto& o = row.as_object();
        const std::string group(o.at("group").as_string());
        count[group] = o.at("count").to_number<std::int64_t>();
        failovers[group] = o.at("failovers").to_number<std::int64_t>();
    }
    EXPECT_EQ(count["a"], 3);
    EXPECT_EQ(count["b"], 2);
    EXPECT_EQ(failovers["b"], 2);
    EXPECT_EQ(doc.at("totals").as_object().at("count").to_number<std::int64_t>(), 5);
    EXPECT_NEAR(doc.at("totals").as_object().at("cost_usd").to_number<double>(), 5 * kExpectedCost,
                1e-9);

    auto metrics = admin_get(proxy, "/metrics");
    ASSERT_EQ(metrics.status, 200);
    const auto grammar_errors = prom::check_exposition(metrics.body);
    EXPECT_TRUE(grammar_errors.empty())
        << grammar_errors.front() << " (of " << grammar_errors.size() << ")\n"
        << metrics.body;
    EXPECT_NE(metrics.body.find("qcc_endpoint_breaker_state{endpoint=\"a\"} 0"), std::string::npos);
    EXPECT_NE(
        metrics.body.find("qcc_request_duration_seconds_bucket{endpoint=\"a\",le=\"+Inf\"} 3"),
        std::string::npos)
        << metrics.body;
    EXPECT_EQ(metric_value(metrics.body, R"(qcc_requests_total{endpoint="a",code="2xx"})"), 3);
    EXPECT_EQ(metric_value(metrics.body, R"(qcc_requests_total{endpoint="b",code="2xx"})"), 2);
    EXPECT_EQ(metric_value(metrics.body, "qcc_failovers_total"), 2);
    EXPECT_EQ(metric_value(metrics.body, R"(qcc_tokens_total{endpoint="a",type="output"})"),
              3 * 700);
    EXPECT_EQ(metric_value(metrics.body, "qcc_log_rows_written_total"), 5);
    EXPECT_EQ(metric_value(metrics.body, "qcc_log_rows_dropped_total"), 0);
}

TEST(RequestLog, RowsAndStatsSurviveARestart) {
    const TempDir dir("qcc-reqlog");
    const auto db = dir.file("qcc.sqlite");
    FakeUpstream a;
    a.set_default(sim::Reply::sse(usage_events()));
    {
        ProxyFixture proxy({endpoint_config("a", a.base_url())}, {}, db);
        for (int i = 0; i < 4; ++i) ASSERT_EQ(proxy.send_messages({}, true).status, 200);
        // No flush here: a clean stop must write every finished request's row.
    }
    ProxyFixture proxy({endpoint_config("a", a.base_url())}, {}, db);
    store::RequestQuery q;
    EXPECT_EQ(proxy.gateway().store().query_requests(q).size(), 4u);
    auto stats = admin_get(proxy, "/api/stats?window=24h");
    ASSERT_EQ(stats.status, 200);
    const auto doc = boost::json::parse(stats.body).as_object();
    EXPECT_EQ(doc.at("totals").as_object().at("count").to_number<std::int64_t>(), 4);
}

TEST(RequestLog, DailyCleanupDeletesRowsPastRetentionAndKeepsRecentOnes) {
    FakeClock clock;
    FakeUpstream a;
    a.set_default(sim::Reply::sse(usage_events()));
    ProxyFixture proxy({endpoint_config("a", a.base_url())}, {}, "", &clock);
    auto& gw = proxy.gateway();
    // A row from 100 days ago (past the 90-day default) and one from now.
    const auto now_ms = gw.health().unix_ms();
    std::vector<store::RequestRecord> old_rows(1);
    old_rows[0].request_id = "old";
    old_rows[0].ts_unix_ms = now_ms - 100LL * 86'400'000;
    old_rows[0].status = 200;
    gw.store().append_requests(old_rows);
    ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    ASSERT_EQ(await_rows(proxy, 2).size(), 2u);

    gw.tick();  // before the first pass is due (a minute after start): nothing deleted
    EXPECT_EQ(gw.store().count_requests(), 2);
    clock.advance(std::chrono::seconds(61));
    gw.tick();
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_NE(rows[0].request_id, "old");
    // The daily pass is not repeated within the day.
    gw.store().append_requests(old_rows);
    clock.advance(std::chrono::hours(1));
    gw.tick();
    EXPECT_EQ(gw.store().count_requests(), 2);
    clock.advance(std::chrono::hours(24));
    gw.tick();
    EXPECT_EQ(gw.store().count_requests(), 1);
}

}  // namespace
}  // namespace qcc::test
