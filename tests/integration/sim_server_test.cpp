// The simulated upstream over real sockets: framing, faults, keep-alive, the Anthropic stand-in and
// the demo profiles, observed through TestClient.
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "sim/demo.hpp"
#include "sim/server.hpp"

namespace qcc::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct SseEvent {
    std::string name;
    json::value data;
};

// Splits an SSE body into events and parses each one's data as JSON.
std::vector<SseEvent> parse_sse(const std::string& body) {
    std::vector<SseEvent> events;
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) end = body.size();
        std::string block = body.substr(pos, end - pos);
        pos = end + 2;
        SseEvent ev;
        std::istringstream lines(block);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind("event: ", 0) == 0) ev.name = line.substr(7);
            if (line.rfind("data: ", 0) == 0) ev.data = json::parse(line.substr(6));
        }
        if (!ev.name.empty()) events.push_back(std::move(ev));
    }
    return events;
}

std::vector<std::string> names(const std::vector<SseEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.name);
    return out;
}

// Concatenated text_delta texts / input_json_delta fragments.
std::string joined_deltas(const std::vector<SseEvent>& events, std::string_view field) {
    std::string out;
    for (const auto& e : events) {
        if (e.name != "content_block_delta") continue;
        const auto& delta = e.data.at("delta").as_object();
        if (const auto* v = delta.if_contains(field)) out += v->as_string().c_str();
    }
    return out;
}

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(QCC_FIXTURES_DIR) + "/claude-code/" + name, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const Headers kJsonHeaders{{"content-type", "application/json"}};

std::string messages_body(std::string_view user_content_json, bool stream,
                          std::string_view extra = "") {
    std::string body = R"({"model":"claude-sonnet-4-5-20250929","max_tokens":256,"stream":)";
    body += stream ? "true" : "false";
    body += R"(,"messages":[{"role":"user","content":)";
    body += user_content_json;
    body += "}]";
    body += extra;
    body += "}";
    return body;
}

// ---------------------------------------------------------------------------------------------
// Server framing and faults

TEST(SimServer, JsonReplyHasContentLength) {
    FakeUpstream up;
    up.push(sim::Reply::json(201, R"({"ok":true})"));
    TestClient client(up.port());
    ASSERT_TRUE(client.connected());
    auto r = client.request("POST", "/v1/messages?beta=true", kJsonHeaders, R"({"x":1})");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, R"({"ok":true})");
    EXPECT_EQ(r.header("content-length"), "11");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_TRUE(r.header("transfer-encoding").empty());
}

TEST(SimServer, RecordsRequestAsSent) {
    FakeUpstream up;
    TestClient client(up.port());
    auto r = client.request(
        "POST", "/v1/messages?beta=true",
        {{"X-Api-Key", "sk-test"}, {"anthropic-version", "2023-06-01"}, {"X-Custom", "a"}},
        "hello");
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);  // the default reply
    auto reqs = up.requests();
    ASSERT_EQ(reqs.size(), 1u);
    const auto& req = reqs[0];
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/messages?beta=true");
    EXPECT_EQ(req.path(), "/v1/messages");
    EXPECT_EQ(req.body, "hello");
    EXPECT_EQ(req.header("x-api-key"), "sk-test");
    EXPECT_EQ(req.header("ABSENT"), "");
    EXPECT_EQ(req.connection_id, 1u);
    // Names are kept as sent, in arrival order (Host first: the client adds it).
    std::vector<std::string> got;
    for (const auto& [k, v] : req.headers) got.push_back(k);
    EXPECT_EQ(got, (std::vector<std::string>{"Host", "X-Api-Key", "anthropic-version", "X-Custom",
                                             "Content-Length"}));
}

TEST(SimServer, SseRepliesAreChunkedAndFlushedPerEvent) {
    FakeUpstream up;
    std::vector<std::string> events{sim::sse_event("a", "{}"), sim::sse_event("b", "{}"),
                                    sim::sse_event("c", "{}")};
    up.push(sim::Reply::sse(events, 150ms));
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    EXPECT_TRUE(r.header("content-length").empty());
    EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
    EXPECT_EQ(r.body, events[0] + events[1] + events[2]);
    // The gaps keep the events apart on the wire.
    EXPECT_GE(r.chunks.size(), 2u);
    EXPECT_EQ(r.chunks.size(), r.chunk_times.size());
}

TEST(SimServer, ResetAfterBytesCutsAChunkedBody) {
    FakeUpstream up;
    auto reply = sim::Reply::sse({"0123456789abcdef", "second event"});
    reply.reset_after_bytes = 10;
    up.push(reply);
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.body, "0123456789");
    EXPECT_FALSE(client.connected());
}

TEST(SimServer, ResetAfterBytesCutsAContentLengthBody) {
    FakeUpstream up;
    auto reply = sim::Reply::json(200, R"({"type":"message","content":[]})");
    reply.reset_after_bytes = 5;
    up.push(reply);
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.body, R"({"typ)");
}

TEST(SimServer, ResetAfterZeroSendsOnlyTheHead) {
    FakeUpstream up;
    auto reply = sim::Reply::sse({"event: x\ndata: {}\n\n"});
    reply.reset_after_bytes = 0;
    up.push(reply);
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.body.empty());
}

TEST(SimServer, StallUntilClientLeavesCountsAnAbort) {
    FakeUpstream up;
    sim::Reply stall;
    stall.stall = true;
    up.push(stall);
    TestClient client(up.port());
    ASSERT_TRUE(client.send("POST", "/v1/messages", kJsonHeaders, "{}"));
    ASSERT_TRUE(up.wait_for_requests(1));
    EXPECT_EQ(up.server().client_aborts(), 0u);
    client.close();
    EXPECT_TRUE(up.wait_for_client_aborts(1));
    EXPECT_TRUE(up.server().wait_until(
        [](const sim::Server& s) { return s.open_connections() == 0; }, 10s));
}

TEST(SimServer, ClientLeavingMidStreamCountsAnAbort) {
    FakeUpstream up;
    std::vector<std::string> events(20, "event: ping\ndata: {\"type\":\"ping\"}\n\n");
    up.push(sim::Reply::sse(events, 100ms));
    TestClient client(up.port());
    auto r = client.request_and_abort("POST", "/v1/messages", kJsonHeaders, "{}", 1);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_FALSE(client.connected());
    EXPECT_TRUE(up.wait_for_client_aborts(1));
}

TEST(SimServer, ClientLeavingDuringHeadDelayCountsAnAbort) {
    FakeUpstream up;
    auto reply = sim::Reply::json(200, "{}");
    reply.head_delay = 60s;
    up.push(reply);
    TestClient client(up.port());
    ASSERT_TRUE(client.send("POST", "/v1/messages", kJsonHeaders, "{}"));
    ASSERT_TRUE(up.wait_for_requests(1));
    client.close();
    EXPECT_TRUE(up.wait_for_client_aborts(1));
}

TEST(SimServer, CompletedRepliesAreNotAborts) {
    FakeUpstream up;
    up.push(sim::Reply::sse({"event: a\ndata: {}\n\n", "event: b\ndata: {}\n\n"}, 20ms));
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    ASSERT_TRUE(r.complete);
    client.close();
    EXPECT_TRUE(up.server().wait_until(
        [](const sim::Server& s) { return s.open_connections() == 0; }, 10s));
    EXPECT_EQ(up.server().client_aborts(), 0u);
}

TEST(SimServer, CloseWithoutResponse) {
    FakeUpstream up;
    sim::Reply close;
    close.close_without_response = true;
    up.push(close);
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.complete);
    EXPECT_FALSE(r.timed_out);
    EXPECT_FALSE(client.connected());
    EXPECT_EQ(up.request_count(), 1u);
}

TEST(SimServer, CloseConnectionAfterReply) {
    FakeUpstream up;
    auto reply = sim::Reply::json(200, "{}");
    reply.close_connection = true;
    up.push(reply);
    TestClient client(up.port());
    auto r = client.request("GET", "/v1/models", {}, "");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_FALSE(client.connected());
}

TEST(SimServer, RefuseAndAcceptAgainOnTheSamePort) {
    FakeUpstream up;
    const auto port = up.port();
    up.refuse();
    TestClient refused(port);
    EXPECT_FALSE(refused.connected());
    up.accept();
    EXPECT_EQ(up.port(), port);
    TestClient client(port);
    ASSERT_TRUE(client.connected());
    auto r = client.request("GET", "/v1/models", {}, "");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
}

TEST(SimServer, RefusingKeepsOpenConnections) {
    FakeUpstream up;
    TestClient client(up.port());
    ASSERT_TRUE(client.request("GET", "/", {}, "").complete);
    up.refuse();
    auto r = client.request("GET", "/", {}, "");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(up.requests()[1].connection_id, up.requests()[0].connection_id);
}

TEST(SimServer, KeepAliveReusesTheConnection) {
    FakeUpstream up;
    up.push(sim::Reply::json(200, "{\"n\":1}"));
    up.push(sim::Reply::sse({"event: a\ndata: {}\n\n", "event: b\ndata: {}\n\n"}));
    up.push(sim::Reply::json(200, "{\"n\":3}"));
    TestClient client(up.port());
    auto r1 = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    auto r2 = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    auto r3 = client.request("POST", "/v1/messages", kJsonHeaders, "{}");
    EXPECT_EQ(r1.body, "{\"n\":1}");
    EXPECT_EQ(r2.body, "event: a\ndata: {}\n\nevent: b\ndata: {}\n\n");
    EXPECT_EQ(r3.body, "{\"n\":3}");
    auto reqs = up.requests();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[0].connection_id, reqs[1].connection_id);
    EXPECT_EQ(reqs[1].connection_id, reqs[2].connection_id);
    EXPECT_EQ(up.server().connections_accepted(), 1u);
    EXPECT_EQ(up.server().requests_served(), 3u);
}

TEST(SimServer, NewConnectionsGetNewIds) {
    FakeUpstream up;
    TestClient a(up.port());
    ASSERT_TRUE(a.request("GET", "/", {}, "").complete);
    TestClient b(up.port());
    ASSERT_TRUE(b.request("GET", "/", {}, "").complete);
    auto reqs = up.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_NE(reqs[0].connection_id, reqs[1].connection_id);
    EXPECT_EQ(up.server().connections_accepted(), 2u);
}

TEST(SimServer, ConnectionCloseRequestIsHonoured) {
    FakeUpstream up;
    TestClient client(up.port());
    auto r = client.request("GET", "/", {{"Connection", "close"}}, "");
    EXPECT_TRUE(r.complete);
    EXPECT_FALSE(client.connected());
}

TEST(SimServer, PipelinedRequestDuringAGappedReplyIsServedNext) {
    FakeUpstream up;
    up.push(sim::Reply::sse({"event: a\ndata: {}\n\n", "event: b\ndata: {}\n\n"}, 100ms));
    up.push(sim::Reply::json(200, "{\"second\":true}"));
    TestClient client(up.port());
    ASSERT_TRUE(client.send("POST", "/v1/messages", kJsonHeaders, "{}"));
    ASSERT_TRUE(client.send("POST", "/v1/messages", kJsonHeaders, "{}"));
    auto r1 = client.read_response();
    auto r2 = client.read_response();
    EXPECT_TRUE(r1.complete);
    EXPECT_EQ(r1.body, "event: a\ndata: {}\n\nevent: b\ndata: {}\n\n");
    EXPECT_TRUE(r2.complete);
    EXPECT_EQ(r2.body, "{\"second\":true}");
    EXPECT_EQ(up.server().client_aborts(), 0u);
}

TEST(SimServer, HeadRequestGetsNoBody) {
    FakeUpstream up;
    up.push(sim::Reply::json(200, "{\"abc\":1}"));
    TestClient client(up.port());
    auto r = client.request("HEAD", "/", {}, "");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.header("content-length"), "9");
    EXPECT_TRUE(r.body.empty());
    // The connection is still usable: no stray body bytes were sent.
    auto r2 = client.request("GET", "/", {}, "");
    EXPECT_TRUE(r2.complete);
    EXPECT_EQ(r2.status, 200);
}

TEST(SimServer, ExpectContinueIsAnswered) {
    FakeUpstream up;
    TestClient client(up.port());
    auto r = client.request("POST", "/v1/messages", {{"Expect", "100-continue"}}, "{\"a\":1}");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.requests()[0].body, "{\"a\":1}");
}

TEST(SimServer, RawFramingIsLeftToTheReply) {
    FakeUpstream up;
    sim::Reply reply;
    reply.headers = {{"Content-Length", "100"}};
    reply.chunks = {"short"};
    reply.close_connection = true;
    up.push(reply);
    TestClient client(up.port());
    auto r = client.request("GET", "/", {}, "");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);  // 5 of the 100 announced bytes, then the connection closed
    EXPECT_EQ(r.body, "short");
}

TEST(SimServer, MalformedRequestGets400) {
    FakeUpstream up;
    TestClient client(up.port());
    std::string out = client.raw("NOT AN HTTP REQUEST\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_EQ(up.request_count(), 0u);
}

TEST(SimServer, HandlerExceptionBecomes500) {
    sim::Server server([](const sim::Request&) -> sim::Reply { throw std::runtime_error("boom"); });
    server.start();
    TestClient client(server.port());
    auto r = client.request("GET", "/", {}, "");
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("api_error"), std::string::npos);
}

TEST(SimServer, IdleTimeoutClosesKeepAliveConnections) {
    FakeUpstream up;
    up.server().set_idle_timeout(50ms);
    TestClient client(up.port());
    ASSERT_TRUE(client.request("GET", "/", {}, "").complete);
    EXPECT_TRUE(up.server().wait_until(
        [](const sim::Server& s) { return s.open_connections() == 0; }, 10s));
    auto r = client.request("GET", "/", {}, "", 5s);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(up.request_count(), 1u);
    EXPECT_EQ(up.server().client_aborts(), 0u);
}

TEST(SimServer, StopClosesStalledConnectionsWithoutCountingAborts) {
    sim::Reply stall;
    stall.stall = true;
    sim::Server server([stall](const sim::Request&) { return stall; });
    server.start();
    TestClient client(server.port());
    ASSERT_TRUE(client.send("GET", "/", {}, ""));
    ASSERT_TRUE(
        server.wait_until([](const sim::Server& s) { return s.requests_served() == 1; }, 10s));
    server.stop();
    server.stop();  // idempotent
    auto r = client.read_response(10s);
    EXPECT_FALSE(r.complete);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(server.client_aborts(), 0u);
    EXPECT_EQ(server.open_connections(), 0u);
}

TEST(SimServer, ServesManyConcurrentStreams) {
    FakeUpstream up;
    up.set_default(sim::Reply::sse(
        {"event: a\ndata: {}\n\n", "event: b\ndata: {}\n\n", "event: c\ndata: {}\n\n"}, 30ms));
    constexpr int kClients = 200;
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<TestClient>(up.port()));
        ASSERT_TRUE(clients.back()->send("POST", "/v1/messages", kJsonHeaders, "{}"));
    }
    ASSERT_TRUE(up.wait_for_requests(kClients));
    EXPECT_EQ(up.server().open_connections(), static_cast<std::size_t>(kClients));
    for (auto& c : clients) {
        auto r = c->read_response();
        EXPECT_TRUE(r.complete);
        EXPECT_EQ(r.body.size(), 3 * std::string("event: a\ndata: {}\n\n").size());
    }
    EXPECT_EQ(up.server().connections_accepted(), static_cast<std::size_t>(kClients));
}

// ---------------------------------------------------------------------------------------------
// The Anthropic stand-in

class AnthropicSim : public ::testing::Test {
  protected:
    AnthropicSim() {
        up_.set_fallback([](const sim::Request& req) {
            return sim::respond_like_anthropic(req, sim::ResponseShape{3, 0ms, 0ms});
        });
    }
    ClientResponse post(const std::string& target, const std::string& body) {
        TestClient client(up_.port());
        return client.request("POST", target, kJsonHeaders, body);
    }
    FakeUpstream up_;
};

TEST_F(AnthropicSim, StreamsATextAnswerAsAnthropicDoes) {
    auto r = post("/v1/messages?beta=true", messages_body(R"("Hello there")", true));
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
    EXPECT_FALSE(r.header("request-id").empty());
    auto events = parse_sse(r.body);
    EXPECT_EQ(names(events),
              (std::vector<std::string>{"message_start", "content_block_start", "ping",
                                        "content_block_delta", "content_block_delta",
                                        "content_block_delta", "content_block_stop",
                                        "message_delta", "message_stop"}));
    const auto& start = events[0].data.at("message").as_object();
    EXPECT_EQ(start.at("model").as_string(), "claude-sonnet-4-5-20250929");
    EXPECT_EQ(start.at("role").as_string(), "assistant");
    EXPECT_GT(start.at("usage").at("input_tokens").as_int64(), 0);
    EXPECT_EQ(joined_deltas(events, "text"), "You said: Hello there");
    EXPECT_EQ(events[7].data.at("delta").at("stop_reason").as_string(), "end_turn");
    EXPECT_GT(events[7].data.at("usage").at("output_tokens").as_int64(), 0);
    for (const auto& e : events) EXPECT_EQ(e.data.at("type").as_string(), e.name);
}

TEST_F(AnthropicSim, AnswersWithoutStreaming) {
    auto r = post("/v1/messages", messages_body(R"([{"type":"text","text":"Hi"}])", false));
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.status, 200);
    auto msg = json::parse(r.body).as_object();
    EXPECT_EQ(msg.at("type").as_string(), "message");
    EXPECT_EQ(msg.at("stop_reason").as_string(), "end_turn");
    EXPECT_EQ(msg.at("content").at(0).at("text").as_string(), "You said: Hi");
    EXPECT_GT(msg.at("usage").at("output_tokens").as_int64(), 0);
}

TEST_F(AnthropicSim, ClaudeCodeToolRoundTripFromFixtures) {
    // request1: "Use the Bash tool to run: echo e2e-tool-$((566*921)) -- then report ..."
    auto r1 = post("/v1/messages?beta=true", read_fixture("cc-2.1.332-request1.body.json"));
    ASSERT_TRUE(r1.complete);
    ASSERT_EQ(r1.status, 200);
    auto events = parse_sse(r1.body);
    ASSERT_GE(events.size(), 3u);
    const auto& block = events[1].data.at("content_block").as_object();
    EXPECT_EQ(block.at("type").as_string(), "tool_use");
    EXPECT_EQ(block.at("name").as_string(), "Bash");
    EXPECT_EQ(block.at("id").as_string().subview().substr(0, 6), "toolu_");
    auto input = json::parse(joined_deltas(events, "partial_json"));
    EXPECT_EQ(input.at("command").as_string(), "echo e2e-tool-$((566*921))");
    EXPECT_EQ(events[events.size() - 2].data.at("delta").at("stop_reason").as_string(), "tool_use");
    // Cacheable prompts report cache reads.
    EXPECT_GT(events[0].data.at("message").at("usage").at("cache_read_input_tokens").as_int64(), 0);

    // request2 carries the tool_result "e2e-tool-521286".
    auto r2 = post("/v1/messages?beta=true", read_fixture("cc-2.1.332-request2.body.json"));
    ASSERT_TRUE(r2.complete);
    EXPECT_EQ(joined_deltas(parse_sse(r2.body), "text"), "Tool result: e2e-tool-521286");
}

TEST_F(AnthropicSim, BacktickCommandNeedsABashTool) {
    const std::string tools = R"(,"tools":[{"name":"Bash","input_schema":{"type":"object"}}])";
    auto with_tool =
        post("/v1/messages", messages_body(R"("please run `ls -la` now")", false, tools));
    auto msg = json::parse(with_tool.body);
    EXPECT_EQ(msg.at("stop_reason").as_string(), "tool_use");
    EXPECT_EQ(msg.at("content").at(0).at("type").as_string(), "tool_use");
    EXPECT_EQ(msg.at("content").at(0).at("input").at("command").as_string(), "ls -la");

    auto without = post("/v1/messages", messages_body(R"("please run `ls -la` now")", false));
    EXPECT_EQ(json::parse(without.body).at("content").at(0).at("type").as_string(), "text");
}

TEST_F(AnthropicSim, ToolResultWithBlockContent) {
    std::string body = messages_body(
        R"([{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"42"}]}])",
        false);
    auto msg = json::parse(post("/v1/messages", body).body);
    EXPECT_EQ(msg.at("content").at(0).at("text").as_string(), "Tool result: 42");
}

TEST_F(AnthropicSim, HealthCheckPromptGetsJustTheCode) {
    auto r = post("/v1/messages",
                  messages_body(R"("Reply with only this code and nothing else: X7K2QP")", false));
    auto msg = json::parse(r.body);
    EXPECT_EQ(msg.at("content").at(0).at("text").as_string(), "X7K2QP");
}

TEST_F(AnthropicSim, CountTokensModelsAndErrors) {
    auto count = post("/v1/messages/count_tokens", messages_body(R"("hi")", false));
    EXPECT_EQ(count.status, 200);
    EXPECT_GT(json::parse(count.body).at("input_tokens").as_int64(), 0);

    TestClient client(up_.port());
    auto models = client.request("GET", "/v1/models", {}, "");
    EXPECT_EQ(models.status, 200);
    EXPECT_GE(json::parse(models.body).at("data").as_array().size(), 1u);
    auto one = client.request("GET", "/v1/models/claude-haiku-4-5-20251001", {}, "");
    EXPECT_EQ(json::parse(one.body).at("id").as_string(), "claude-haiku-4-5-20251001");

    auto missing = client.request("GET", "/v1/nothing", {}, "");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(json::parse(missing.body).at("error").at("type").as_string(), "not_found_error");

    auto bad = post("/v1/messages", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(json::parse(bad.body).at("error").at("type").as_string(), "invalid_request_error");
}

TEST(AnthropicEvents, SplitNeverCutsUtf8) {
    std::string text = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC";  // héllo wörld €
    for (int pieces = 1; pieces <= 20; ++pieces) {
        auto parts = sim::split_utf8(text, pieces);
        std::string joined;
        for (const auto& p : parts) {
            ASSERT_FALSE(p.empty());
            EXPECT_NE(static_cast<unsigned char>(p[0]) & 0xC0, 0x80u);
            joined += p;
        }
        EXPECT_EQ(joined, text);
        EXPECT_LE(parts.size(), static_cast<std::size_t>(pieces));
    }
}

TEST(AnthropicEvents, ErrorEventFormat) {
    EXPECT_EQ(sim::error_event("overloaded_error", "Overloaded"),
              "event: error\ndata: "
              R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
              "\n\n");
}

// ---------------------------------------------------------------------------------------------
// Demo profiles

enum class Kind { kOverloaded, kStreamError, kReset, kOk };

sim::Request stream_request() {
    sim::Request req;
    req.method = "POST";
    req.target = "/v1/messages";
    req.body = messages_body(R"("hello")", true);
    return req;
}

Kind classify(const sim::Reply& r) {
    if (r.status == 529) return Kind::kOverloaded;
    if (!r.chunks.empty() && r.chunks[0].rfind("event: error", 0) == 0) return Kind::kStreamError;
    if (r.reset_after_bytes) return Kind::kReset;
    return Kind::kOk;
}

TEST(DemoProfiles, FlakyIsDeterministicPerSeedAndProducesEveryFault) {
    auto a = sim::demo_handler("flaky", 7);
    auto b = sim::demo_handler("flaky", 7);
    std::map<Kind, int> counts;
    for (int i = 0; i < 200; ++i) {
        Kind ka = classify(a(stream_request()));
        EXPECT_EQ(ka, classify(b(stream_request()))) << "request " << i;
        ++counts[ka];
    }
    EXPECT_GT(counts[Kind::kOverloaded], 0);
    EXPECT_GT(counts[Kind::kStreamError], 0);
    EXPECT_GT(counts[Kind::kReset], 0);
    EXPECT_GT(counts[Kind::kOk], counts[Kind::kOverloaded]);
}

TEST(DemoProfiles, FlakyFaultsOnTheWire) {
    auto server = sim::make_demo_server("flaky", 0, "127.0.0.1", 7);
    std::set<Kind> seen;
    auto client = std::make_unique<TestClient>(server->port());
    const std::string body = messages_body(R"("hello")", true);
    for (int i = 0; i < 100 && seen.size() < 4; ++i) {
        if (!client->connected()) {
            ASSERT_TRUE(client->reconnect());
        }
        auto r = client->request("POST", "/v1/messages", kJsonHeaders, body);
        if (r.status == 529) {
            EXPECT_TRUE(r.complete);
            EXPECT_EQ(json::parse(r.body).at("error").at("type").as_string(), "overloaded_error");
            seen.insert(Kind::kOverloaded);
        } else if (r.status == 200 && r.body.rfind("event: error\n", 0) == 0) {
            EXPECT_TRUE(r.complete);
            seen.insert(Kind::kStreamError);
        } else if (r.status == 200 && !r.complete) {
            EXPECT_FALSE(r.body.empty());
            EXPECT_EQ(r.body.find("message_stop"), std::string::npos);
            seen.insert(Kind::kReset);
        } else {
            EXPECT_EQ(r.status, 200);
            EXPECT_TRUE(r.complete);
            EXPECT_EQ(names(parse_sse(r.body)).back(), "message_stop");
            seen.insert(Kind::kOk);
        }
    }
    EXPECT_EQ(seen.size(), 4u);
}

TEST(DemoProfiles, FastProfileStreams) {
    auto server = sim::make_demo_server("fast");
    TestClient client(server->port());
    auto r = client.request("POST", "/v1/messages", kJsonHeaders, messages_body(R"("hey")", true));
    ASSERT_TRUE(r.complete);
    auto events = parse_sse(r.body);
    EXPECT_EQ(joined_deltas(events, "text"), "You said: hey");
    EXPECT_EQ(names(events).back(), "message_stop");
}

TEST(DemoProfiles, RatelimitedOnceRefusesOnlyTheFirstMessagesRequest) {
    auto server = sim::make_demo_server("ratelimited-once");
    TestClient client(server->port());
    auto first =
        client.request("POST", "/v1/messages", kJsonHeaders, messages_body(R"("a")", true));
    EXPECT_EQ(first.status, 429);
    EXPECT_EQ(first.header("retry-after"), "") << "says nothing about when to come back";
    EXPECT_NE(first.body.find("rate_limit_error"), std::string::npos);
    auto second =
        client.request("POST", "/v1/messages", kJsonHeaders, messages_body(R"("b")", true));
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(joined_deltas(parse_sse(second.body), "text"), "You said: b");
}

TEST(DemoProfiles, BenchProfileHonoursDeltaHeaders) {
    auto server = sim::make_demo_server("bench");
    TestClient client(server->port());
    Headers headers = kJsonHeaders;
    headers.emplace_back("x-sim-deltas", "5");
    headers.emplace_back("x-sim-gap-ms", "0");
    auto r = client.request("POST", "/v1/messages", headers, messages_body(R"("x")", true));
    ASSERT_TRUE(r.complete);
    auto events = parse_sse(r.body);
    int deltas = 0;
    for (const auto& e : events) deltas += e.name == "content_block_delta";
    EXPECT_EQ(deltas, 5);
    EXPECT_EQ(events.front().data.at("message").at("model").as_string(),
              "claude-sonnet-4-5-20250929");

    auto plain =
        client.request("POST", "/v1/messages", kJsonHeaders, messages_body(R"("x")", false));
    ASSERT_TRUE(plain.complete);
    EXPECT_GT(plain.body.size(), 800u);
    EXPECT_LT(plain.body.size(), 1400u);
    EXPECT_EQ(json::parse(plain.body).at("type").as_string(), "message");
}

TEST(DemoProfiles, UnknownProfileThrows) {
    EXPECT_THROW(sim::demo_handler("nope"), std::invalid_argument);
    EXPECT_TRUE(sim::is_demo_profile("bench"));
    EXPECT_FALSE(sim::is_demo_profile("nope"));
}

}  // namespace
}  // namespace qcc::test
