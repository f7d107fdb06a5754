// Endpoints of kind "openai" through the real gateway: requests translated to Chat Completions,
// answers (JSON and streams) translated back, errors classified and failed over exactly as for
// Anthropic endpoints (in both directions), count_tokens answered locally, the request log showing
// the target's tokens and cost. Fake upstreams: sim::respond_like_openai and scripted replies.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "sim/openai.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

config::EndpointConfig openai_endpoint(std::string name, std::string base_url, int tier = 1) {
    auto cfg = endpoint_config(std::move(name), std::move(base_url), tier);
    cfg.kind = config::EndpointKind::kOpenAI;
    cfg.auth = config::AuthMode::kBearer;
    cfg.model_map = {{"*", "gpt-sim"}, {"haiku", "gpt-sim-mini"}};
    return cfg;
}

sim::Reply openai_sse(std::vector<std::string> data_lines) {
    std::vector<std::string> events;
    for (auto& d : data_lines) events.push_back("data: " + d + "\n\n");
    return sim::Reply::sse(std::move(events));
}

std::string chunk(std::string_view delta, std::string_view finish = "null") {
    return std::string(
               R"({"id":"chatcmpl-t1","object":"chat.completion.chunk","model":"gpt-sim","choices":[{"index":0,"delta":)") +
           std::string(delta) + R"(,"finish_reason":)" + std::string(finish) + "}]}";
}

std::vector<store::RequestRecord> await_rows(ProxyFixture& proxy, std::size_t n) {
    std::vector<store::RequestRecord> rows;
    eventually([&] {
        proxy.gateway().writer().flush();
        store::RequestQuery q;
        q.limit = 100;
        rows = proxy.gateway().store().query_requests(q);
        return rows.size() >= n;
    });
    return rows;
}

/// The `event:` names of an SSE body, in order.
std::vector<std::string> event_names(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = body.find("event: ", pos)) != std::string::npos) {
        const auto end = body.find('\n', pos);
        out.push_back(body.substr(pos + 7, end - pos - 7));
        pos = end;
    }
    return out;
}

ClientResponse post(ProxyFixture& proxy, std::string_view path, const std::string& body) {
    TestClient client(proxy.port());
    return client.request("POST", path, ProxyFixture::client_headers(), body);
}

TEST(OpenAiEndpoint, StreamIsTranslatedEventByEventAndLoggedWithTheTargetsTokensAndCost) {
    FakeUpstream o;
    o.set_fallback([](const sim::Request& r) { return sim::respond_like_openai(r); });
    ProxyFixture proxy({openai_endpoint("o", o.base_url())});
    proxy.gateway().store().set_setting("pricing.overrides",
                                        R"({"gpt-sim":{"input":2,"output":8,"cache_read":0.5}})");
    proxy.gateway().tick();

    const auto res = proxy.send_messages("3f2a7c1e-0000-4000-8000-000000000001", true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("content-type"), "text/event-stream; charset=utf-8");
    EXPECT_EQ(res.header("x-qcc-endpoint"), "o");
    EXPECT_EQ(event_names(res.body),
              (std::vector<std::string>{"message_start", "content_block_start",
                                        "content_block_delta", "content_block_delta",
                                        "content_block_delta", "content_block_delta",
                                        "content_block_stop", "message_delta", "message_stop"}));
    EXPECT_EQ(res.body.find("[DONE]"), std::string::npos);
    EXPECT_NE(res.body.find(R"("model":"claude-sonnet-4-5")"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("stop_reason":"end_turn")"), std::string::npos);

    // What the target received: Chat Completions at its base path, its own credential as a
    // bearer token, nothing Anthropic-specific.
    const auto reqs = o.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
    EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-ant-o");
    EXPECT_EQ(reqs[0].header("x-api-key"), "");
    EXPECT_EQ(reqs[0].header("anthropic-version"), "");
    EXPECT_EQ(reqs[0].header("x-claude-code-session-id"), "");
    const auto sent = json::parse(reqs[0].body).as_object();
    EXPECT_EQ(sent.at("model").as_string(), "gpt-sim");
    EXPECT_TRUE(sent.at("stream").as_bool());
    EXPECT_TRUE(sent.at("stream_options").at("include_usage").as_bool());
    EXPECT_EQ(sent.at("messages").as_array().back().at("role").as_string(), "user");

    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].endpoint, "o");
    EXPECT_EQ(rows[0].status, 200);
    EXPECT_EQ(rows[0].model_requested, "claude-sonnet-4-5");
    EXPECT_EQ(rows[0].model_sent, "gpt-sim");
    EXPECT_GT(rows[0].input_tokens, 0);
    EXPECT_GT(rows[0].output_tokens, 0);
    EXPECT_NEAR(rows[0].cost_usd,
                (rows[0].input_tokens * 2.0 + rows[0].output_tokens * 8.0 +
                 rows[0].cache_read_tokens * 0.5) /
                    1e6,
                1e-12);
    EXPECT_GT(rows[0].cost_usd, 0);
    EXPECT_TRUE(eventually([&] { return proxy.state("o").successes.load() == 1; }));
    EXPECT_EQ(proxy.state("o").failures.load(), 0u);
}

TEST(OpenAiEndpoint, ToolRoundTripWithoutStreaming) {
    FakeUpstream o;
    o.set_fallback([](const sim::Request& r) { return sim::respond_like_openai(r); });
    ProxyFixture proxy({openai_endpoint("o", o.base_url())});
    const std::string tools =
        R"("tools":[{"name":"Bash","description":"Run a command","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}])";
    const auto first =
        post(proxy, "/v1/messages",
             R"({"model":"claude-haiku-4-5","max_tokens":200,)" + tools +
                 R"(,"messages":[{"role":"user","content":"please run `echo hi`"}]})");
    ASSERT_EQ(first.status, 200) << first.body;
    const auto msg = json::parse(first.body).as_object();
    EXPECT_EQ(msg.at("model").as_string(), "claude-haiku-4-5");
    EXPECT_EQ(msg.at("stop_reason").as_string(), "tool_use");
    const auto& block = msg.at("content").as_array().at(0).as_object();
    EXPECT_EQ(block.at("type").as_string(), "tool_use");
    EXPECT_EQ(block.at("name").as_string(), "Bash");
    EXPECT_EQ(block.at("input").at("command").as_string(), "echo hi");
    const std::string id(block.at("id").as_string());
    EXPECT_EQ(json::parse(o.requests()[0].body).at("model").as_string(), "gpt-sim-mini");

    const auto second =
        post(proxy, "/v1/messages",
             R"({"model":"claude-haiku-4-5","max_tokens":200,)" + tools +
                 R"(,"messages":[{"role":"user","content":"please run `echo hi`"},)"
                 R"({"role":"assistant","content":[{"type":"tool_use","id":")" +
                 id +
                 R"(","name":"Bash","input":{"command":"echo hi"}}]},)"
                 R"({"role":"user","content":[{"type":"tool_result","tool_use_id":")" +
                 id + R"(","content":"hi"}]}]})");
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_NE(second.body.find("Tool result: hi"), std::string::npos) << second.body;
    // The history reached the target as a call and its tool message.
    const auto sent = json::parse(o.requests()[1].body).as_object();
    const auto& messages = sent.at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[1].at("tool_calls").at(0).at("id").as_string(), id);
    EXPECT_EQ(messages[2].at("role").as_string(), "tool");
    EXPECT_EQ(messages[2].at("tool_call_id").as_string(), id);
}

TEST(OpenAiEndpoint, StreamedToolCallArrivesAsInputJsonDeltas) {
    FakeUpstream o;
    o.push(openai_sse(
        {chunk(
             R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"Bash","arguments":""}}]})"),
         chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"comm"}}]})"),
         chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"and\":\"ls\"}"}}]})"),
         chunk("{}", R"("tool_calls")"),
         R"({"id":"chatcmpl-t1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":9}})",
         "[DONE]"}));
    ProxyFixture proxy({openai_endpoint("o", o.base_url())});
    const auto res = proxy.send_messages({}, true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_NE(res.body.find(R"("type":"tool_use","id":"call_1","name":"Bash")"), std::string::npos)
        << res.body;
    EXPECT_NE(res.body.find(R"("partial_json":"{\"comm")"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("partial_json":"and\":\"ls\"}")"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("stop_reason":"tool_use")"), std::string::npos);
    EXPECT_NE(res.body.find(R"("output_tokens":9)"), std::string::npos);
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].input_tokens, 50);
    EXPECT_EQ(rows[0].output_tokens, 9);
}

TEST(OpenAiEndpoint, RateLimitCoolsTheTargetDownByItsResetHeaderAndFailsOverToAnthropic) {
    FakeUpstream o, a;
    auto limited = sim::openai_error(429, "rate_limit_exceeded", "Rate limit reached");
    limited.headers.emplace_back("x-ratelimit-remaining-requests", "0");
    limited.headers.emplace_back("x-ratelimit-reset-requests", "6m0s");
    limited.headers.emplace_back("x-ratelimit-remaining-tokens", "5000");
    limited.headers.emplace_back("x-ratelimit-reset-tokens", "1s");
    o.push(limited);
    a.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    ProxyFixture proxy(
        {openai_endpoint("o", o.base_url(), 1), endpoint_config("a", a.base_url(), 2)});
    const auto before = std::chrono::steady_clock::now();
    const auto res = proxy.send_messages({}, true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "a");
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    auto& s = proxy.state("o");
    const auto until =
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(s.cooldown_until_ns.load()));
    EXPECT_GE(until - before, 6min - 5s);  // the requests limit was hit: its reset, not 1 s
    EXPECT_EQ(s.failures.load(), 0u);      // a rate limit is not a failure
    const auto rows = await_rows(proxy, 1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].tried, "o:rate_limited,a");
}

TEST(OpenAiEndpoint, AnthropicFailureFailsOverToTheOpenAiTargetWithinOneRequest) {
    FakeUpstream a, o;
    a.push(sim::Reply::error(529, "overloaded_error", "Overloaded"));
    o.set_fallback([](const sim::Request& r) { return sim::respond_like_openai(r); });
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url(), 1), openai_endpoint("o", o.base_url(), 2)});
    const auto res = proxy.send_messages({}, true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("x-qcc-endpoint"), "o");
    EXPECT_NE(res.body.find("event: message_stop"), std::string::npos);
    EXPECT_EQ(a.request_count(), 1u);
    EXPECT_EQ(o.request_count(), 1u);
}

TEST(OpenAiEndpoint, ErrorObjectsBeforeContentAreFailedAttempts) {
    FakeUpstream o, a;
    // A 200 whose body is an error, then a stream that opens with one.
    // (A 503 would cool the target down for a while, as an overloaded Anthropic endpoint is.)
    o.push(sim::Reply::json(200, R"({"error":{"message":"Internal error","code":500}})"));
    o.push(openai_sse({R"({"error":{"message":"Provider returned error","code":503}})"}));
    a.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    ProxyFixture proxy(
        {openai_endpoint("o", o.base_url(), 1), endpoint_config("a", a.base_url(), 2)});
    const auto json_res = proxy.send_messages({}, false);
    ASSERT_EQ(json_res.status, 200) << json_res.body;
    EXPECT_EQ(json_res.header("x-qcc-endpoint"), "a");
    const auto sse_res = proxy.send_messages({}, true);
    ASSERT_EQ(sse_res.status, 200) << sse_res.body;
    EXPECT_EQ(sse_res.header("x-qcc-endpoint"), "a");
    EXPECT_EQ(sse_res.body.find("Provider returned error"), std::string::npos);
    EXPECT_EQ(proxy.state("o").failures.load(), 2u);
    const auto rows = await_rows(proxy, 2);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].tried, "o:overloaded,a");
    EXPECT_EQ(rows[1].tried, "o:upstream_5xx,a");
}

TEST(OpenAiEndpoint, ErrorAfterContentEndsTheStreamWithAnErrorEventAndCountsAgainstTheTarget) {
    FakeUpstream o, a;
    o.push(openai_sse({chunk(R"({"role":"assistant","content":"Hel"})"),
                       R"({"error":{"message":"Provider returned error","code":502}})"}));
    ProxyFixture proxy(
        {openai_endpoint("o", o.base_url(), 1), endpoint_config("a", a.base_url(), 2)});
    const auto res = proxy.send_messages({}, true);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_TRUE(res.complete);  // a clean chunked end, not a cut connection
    const auto names = event_names(res.body);
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names.back(), "error");
    EXPECT_NE(res.body.find(R"("text":"Hel")"), std::string::npos);
    EXPECT_NE(res.body.find("Provider returned error"), std::string::npos) << res.body;
    EXPECT_EQ(a.request_count(), 0u);  // after the commit point nothing is retried
    EXPECT_TRUE(eventually([&] { return proxy.state("o").failures.load() == 1; }));
}

TEST(OpenAiEndpoint, ClientErrorsComeBackInAnthropicFormatWithoutFailover) {
    FakeUpstream o, a;
    o.push(sim::openai_error(400, "invalid_request_error", "max_tokens is too large: 900000"));
    ProxyFixture proxy(
        {openai_endpoint("o", o.base_url(), 1), endpoint_config("a", a.base_url(), 2)});
    const auto res = proxy.send_messages({}, false);
    EXPECT_EQ(res.status, 400);
    const auto body = json::parse(res.body).as_object();
    EXPECT_EQ(body.at("type").as_string(), "error");
    EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error");
    EXPECT_EQ(body.at("error").at("message").as_string(), "max_tokens is too large: 900000");
    EXPECT_EQ(a.request_count(), 0u);
    EXPECT_EQ(proxy.state("o").failures.load(), 0u);
}

TEST(OpenAiEndpoint, CountTokensIsEstimatedLocallyAndRelaysWithoutTheRouteFallBackToIt) {
    FakeUpstream o;
    ProxyFixture proxy({openai_endpoint("o", o.base_url())});
    const std::string small =
        R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]})";
    const std::string large = R"({"model":"claude-sonnet-4-5","system":")" +
                              std::string(4000, 'x') +
                              R"(","messages":[{"role":"user","content":"hi"}]})";
    const auto a = post(proxy, "/v1/messages/count_tokens", small);
    const auto b = post(proxy, "/v1/messages/count_tokens", large);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(b.status, 200) << b.body;
    const auto na = json::parse(a.body).at("input_tokens").as_int64();
    const auto nb = json::parse(b.body).at("input_tokens").as_int64();
    EXPECT_GT(na, 0);
    EXPECT_GE(nb, na + 900);  // 4000 ASCII bytes of system prompt are ~1000 tokens
    EXPECT_EQ(o.request_count(), 0u);

    // An Anthropic relay without the counting route: the estimate, not the 404.
    FakeUpstream relay;
    relay.set_default(sim::Reply::error(404, "not_found_error", "Not found"));
    ProxyFixture proxy2({endpoint_config("r", relay.base_url())});
    const auto c = post(proxy2, "/v1/messages/count_tokens", small);
    EXPECT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(json::parse(c.body).at("input_tokens").as_int64(), na);
    EXPECT_EQ(relay.request_count(), 1u);
    EXPECT_EQ(proxy2.state("r").failures.load(), 0u);
}

TEST(OpenAiEndpoint, RoutesWithoutATranslationGoToAnthropicEndpointsOrGetA404) {
    FakeUpstream o, a;
    ProxyFixture only_openai({openai_endpoint("o", o.base_url())});
    TestClient client(only_openai.port());
    const auto res = client.request("GET", "/v1/models", ProxyFixture::client_headers(), "");
    EXPECT_EQ(res.status, 404);
    EXPECT_NE(res.body.find("not_found_error"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("OpenAI-compatible"), std::string::npos) << res.body;
    EXPECT_EQ(o.request_count(), 0u);

    a.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    ProxyFixture mixed(
        {openai_endpoint("o", o.base_url(), 1), endpoint_config("a", a.base_url(), 2)});
    TestClient client2(mixed.port());
    const auto models = client2.request("GET", "/v1/models", ProxyFixture::client_headers(), "");
    EXPECT_EQ(models.status, 200) << models.body;
    EXPECT_EQ(models.header("x-qcc-endpoint"), "a");
    EXPECT_EQ(o.request_count(), 0u);
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(OpenAiEndpoint, FailoverToAnthropicDropsTheTargetsUnsignedThinking) {
    FakeUpstream o, a;
    // The target reasons, then answers: the client receives an unsigned thinking block.
    o.push(openai_sse({chunk(R"({"role":"assistant","reasoning_content":"Let me think."})"),
                       chunk(R"({"content":"Done."})"), chunk("{}", R"("stop")"), "[DONE]"}));
    o.push(sim::openai_error(500, "server_error", "boom"));
    a.set_fallback([](const sim::Request& r) { return sim::respond_like_anthropic(r); });
    auto ca = endpoint_config("a", a.base_url(), 2);
    ca.model_map = {{"sonnet", "claude-sonnet-4-5-20250929"}};
    ProxyFixture proxy({openai_endpoint("o", o.base_url(), 1), ca});
    const auto first = proxy.send_messages({}, true);
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_NE(first.body.find(R"("type":"thinking","thinking":"","signature":"")"),
              std::string::npos)
        << first.body;

    // Claude Code sends the history back with thinking on; the target fails and the request
    // moves to the Anthropic endpoint, which would reject the unsigned block.
    const std::string body =
        R"({"model":"claude-sonnet-4-5","max_tokens":2000,"stream":true,)"
        R"("thinking":{"type":"enabled","budget_tokens":1024},"messages":[)"
        R"({"role":"user","content":"hi"},)"
        R"({"role":"assistant","content":[{"type":"thinking","thinking":"Let me think.","signature":""},{"type":"text","text":"Done."}]},)"
        R"({"role":"assistant","content":[{"type":"thinking","thinking":"only","signature":""}]},)"
        R"({"role":"user","content":"and now?"}]})";
    const auto second = post(proxy, "/v1/messages", body);
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.header("x-qcc-endpoint"), "a");
    ASSERT_EQ(a.request_count(), 1u);
    const auto sent = json::parse(a.requests()[0].body).as_object();
    EXPECT_FALSE(sent.contains("thinking"));
    EXPECT_EQ(sent.at("model").as_string(), "claude-sonnet-4-5-20250929");
    const auto& messages = sent.at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);  // the turn that held only reasoning is gone
    const auto& kept = messages[1].at("content").as_array();
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].at("type").as_string(), "text");
    const auto rows = await_rows(proxy, 2);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].model_sent, "claude-sonnet-4-5-20250929");
}

}  // namespace
}  // namespace qcc::test
