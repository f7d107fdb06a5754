// Health check pure pieces (SPEC §7): score table at every boundary, reply validation, the code,
// the request body and head, and the OpenAI seam.
#include "upstream/checker.hpp"

#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "upstream/pool.hpp"

namespace qcc::upstream {
namespace {

namespace json = boost::json;

// ---- score ----------------------------------------------------------------------------------

TEST(CheckScore, LatencyBoundaries) {
    // Reply of 0 chars: brevity is always 20 here.
    EXPECT_EQ(check_score(true, 0, 0), 100);
    EXPECT_EQ(check_score(true, 499, 0), 100);
    EXPECT_EQ(check_score(true, 500, 0), 90);
    EXPECT_EQ(check_score(true, 999, 0), 90);
    EXPECT_EQ(check_score(true, 1000, 0), 80);
    EXPECT_EQ(check_score(true, 1999, 0), 80);
    EXPECT_EQ(check_score(true, 2000, 0), 70);
    EXPECT_EQ(check_score(true, 600'000, 0), 70);
}

TEST(CheckScore, BrevityBoundaries) {
    // Latency 0 ms: latency points are always 30 here.
    EXPECT_EQ(check_score(true, 0, 49), 100);
    EXPECT_EQ(check_score(true, 0, 50), 95);
    EXPECT_EQ(check_score(true, 0, 99), 95);
    EXPECT_EQ(check_score(true, 0, 100), 90);
    EXPECT_EQ(check_score(true, 0, 100'000), 90);
}

TEST(CheckScore, ValidityIsWorthFifty) {
    EXPECT_EQ(check_score(false, 499, 49), 50);
    EXPECT_EQ(check_score(false, 500, 50), 35);
    EXPECT_EQ(check_score(false, 1999, 99), 25);
    EXPECT_EQ(check_score(false, 2000, 100), 10);
    EXPECT_EQ(check_score(true, 2000, 100), 60);
    // A valid reply always outscores an invalid one, however fast.
    EXPECT_GT(check_score(true, 100'000, 100'000), check_score(false, 0, 0));
}

TEST(CheckScore, EveryCombinationIsTheSumOfItsParts) {
    const std::pair<std::int64_t, int> latency[] = {{499, 30},  {500, 20},  {999, 20},
                                                    {1000, 10}, {1999, 10}, {2000, 0}};
    const std::pair<std::size_t, int> brevity[] = {{49, 20}, {50, 15}, {99, 15}, {100, 10}};
    for (bool valid : {false, true}) {
        for (auto [ms, lp] : latency) {
            for (auto [chars, bp] : brevity) {
                EXPECT_EQ(check_score(valid, ms, chars), (valid ? 50 : 0) + lp + bp)
                    << valid << " " << ms << " ms " << chars << " chars";
            }
        }
    }
}

// ---- code -----------------------------------------------------------------------------------

TEST(CheckCode, SixCharactersFromUppercaseAndDigits) {
    std::mt19937_64 rng(42);
    std::set<std::string> seen;
    std::set<char> chars;
    for (int i = 0; i < 2000; ++i) {
        const auto code = make_check_code(rng);
        ASSERT_EQ(code.size(), kCheckCodeLength);
        for (char c : code) {
            ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << code;
            chars.insert(c);
        }
        seen.insert(code);
    }
    EXPECT_EQ(chars.size(), 36u);   // every character occurs
    EXPECT_GT(seen.size(), 1990u);  // 36^6 codes: repeats are rare
}

TEST(CheckCode, DeterministicForASeed) {
    std::mt19937_64 a(7), b(7), c(8);
    const auto first = make_check_code(a);
    EXPECT_EQ(first, make_check_code(b));
    EXPECT_NE(make_check_code(a), first);  // the generator advances
    EXPECT_NE(make_check_code(c), first);
}

// ---- request --------------------------------------------------------------------------------

TEST(CheckRequest, BodyIsASmallNonStreamingMessagesRequest) {
    const auto body = check_request_body("claude-haiku-4-5", "K7Q2ZP");
    const auto v = json::parse(body).as_object();
    EXPECT_EQ(v.at("model").as_string(), "claude-haiku-4-5");
    EXPECT_EQ(v.at("max_tokens").as_int64(), 20);
    EXPECT_EQ(v.at("stream").as_bool(), false);
    const auto& messages = v.at("messages").as_array();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].at("role").as_string(), "user");
    const std::string prompt(messages[0].at("content").as_string());
    EXPECT_NE(prompt.find("K7Q2ZP"), std::string::npos);
    EXPECT_NE(prompt.find("only"), std::string::npos);
    EXPECT_NE(prompt.find("code"), std::string::npos);
}

TEST(CheckRequest, BodyEscapesTheModelName) {
    const auto body = check_request_body("we\"ird\\model", "AAAAAA");
    EXPECT_EQ(json::parse(body).at("model").as_string(), "we\"ird\\model");
}

TEST(CheckRequest, DefaultModelIsTheCheapHaiku) {
    EXPECT_EQ(kDefaultCheckModel, "claude-haiku-4-5");
    EXPECT_EQ(kCheckUserAgent,
              "claude-cli/" + std::string(kCheckClientVersion) + " (external, cli)");
}

Endpoint endpoint(config::AuthMode auth, std::string base_url = "https://relay.example.com") {
    config::EndpointConfig cfg;
    cfg.name = "relay";
    cfg.base_url = std::move(base_url);
    cfg.api_key = "sk-relay-secret";
    cfg.auth = auth;
    return make_endpoint("id-relay", cfg, config::Timeouts{}, nullptr);
}

TEST(CheckRequest, HeadCarriesClaudeCodeHeadersAndXApiKey) {
    const auto head =
        check_request_head(endpoint(config::AuthMode::kXApiKey), "POST", "/v1/messages", 123);
    EXPECT_TRUE(head.starts_with("POST /v1/messages HTTP/1.1\r\nhost: relay.example.com\r\n"));
    EXPECT_TRUE(head.ends_with("\r\n\r\n"));
    EXPECT_NE(head.find("\r\nanthropic-version: 2023-06-01\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nuser-agent: claude-cli/2.1.332 (external, cli)\r\n"),
              std::string::npos);
    EXPECT_NE(head.find("\r\nx-app: cli\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\ncontent-type: application/json\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\ncontent-length: 123\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\naccept-encoding: identity\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nx-api-key: sk-relay-secret\r\n"), std::string::npos);
    EXPECT_EQ(head.find("authorization"), std::string::npos);
}

TEST(CheckRequest, HeadInjectsBearerOrBoth) {
    const auto bearer =
        check_request_head(endpoint(config::AuthMode::kBearer), "GET", "/v1/models", 0);
    EXPECT_NE(bearer.find("\r\nauthorization: Bearer sk-relay-secret\r\n"), std::string::npos);
    EXPECT_EQ(bearer.find("x-api-key"), std::string::npos);
    const auto both = check_request_head(endpoint(config::AuthMode::kBoth), "GET", "/v1/models", 0);
    EXPECT_NE(both.find("\r\nauthorization: Bearer sk-relay-secret\r\n"), std::string::npos);
    EXPECT_NE(both.find("\r\nx-api-key: sk-relay-secret\r\n"), std::string::npos);
}

TEST(CheckRequest, HeadUsesPathPrefixAndPortAndNoLengthForGet) {
    const auto head = check_request_head(
        endpoint(config::AuthMode::kXApiKey, "http://10.0.0.2:8080/api/anthropic/"), "GET",
        "/v1/models", 0);
    EXPECT_TRUE(
        head.starts_with("GET /api/anthropic/v1/models HTTP/1.1\r\nhost: 10.0.0.2:8080\r\n"));
    EXPECT_EQ(head.find("content-length"), std::string::npos);
    EXPECT_EQ(head.find("content-type"), std::string::npos);
}

TEST(CheckMethodNames, StoredSpelling) {
    EXPECT_EQ(to_string(CheckMethod::kConversation), "conversation");
    EXPECT_EQ(to_string(CheckMethod::kModels), "models");
    EXPECT_EQ(to_string(CheckMethod::kConnect), "connect");
}

// ---- reply validation -----------------------------------------------------------------------

std::string message(const std::string& content_json) {
    return R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5",)"
           R"("content":)" +
           content_json +
           R"(,"stop_reason":"end_turn","usage":{"input_tokens":30,"output_tokens":4}})";
}

std::string text_message(std::string_view text) {
    return message(R"([{"type":"text","text":")" + std::string(text) + R"("}])");
}

TEST(ReplyValidation, ExactCodeIsValid) {
    EXPECT_TRUE(reply_contains_code(text_message("K7Q2ZP"), "K7Q2ZP"));
}

TEST(ReplyValidation, CaseInsensitive) {
    EXPECT_TRUE(reply_contains_code(text_message("k7q2zp"), "K7Q2ZP"));
    EXPECT_TRUE(reply_contains_code(text_message("K7q2Zp"), "K7Q2ZP"));
    EXPECT_TRUE(reply_contains_code(text_message("K7Q2ZP"), "k7q2zp"));
}

TEST(ReplyValidation, SurroundingTextIsAllowed) {
    EXPECT_TRUE(reply_contains_code(text_message("Sure! The code is: K7Q2ZP."), "K7Q2ZP"));
    EXPECT_TRUE(reply_contains_code(text_message("\\nK7Q2ZP\\n"), "K7Q2ZP"));
}

TEST(ReplyValidation, MissingOrPartialCodeIsInvalid) {
    EXPECT_FALSE(reply_contains_code(text_message("Hello! How can I help?"), "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(text_message("K7Q2Z"), "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(text_message("K7Q 2ZP"), "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(text_message(""), "K7Q2ZP"));
}

TEST(ReplyValidation, EmptyOrNonJsonBodyIsInvalid) {
    EXPECT_FALSE(reply_contains_code("", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code("   ", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code("K7Q2ZP", "K7Q2ZP"));  // plain text, not a Messages reply
    EXPECT_FALSE(reply_contains_code("<html>K7Q2ZP</html>", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(R"(["K7Q2ZP"])", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(R"("K7Q2ZP")", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code("{}", "K7Q2ZP"));
}

TEST(ReplyValidation, ErrorBodyIsInvalidEvenIfItMentionsTheCode) {
    // Relays answer 200 with an error object; it must never count as a reply.
    EXPECT_FALSE(reply_contains_code(
        R"({"type":"error","error":{"type":"overloaded_error","message":"K7Q2ZP"}})", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(
        R"({"type":"error","content":[{"type":"text","text":"K7Q2ZP"}]})", "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(R"({"error":{"message":"bad key"}})", "K7Q2ZP"));
}

TEST(ReplyValidation, CodeOutsideTheTextIsInvalid) {
    // The code echoed in the id, model or usage does not count, only the reply's text.
    const std::string body =
        R"({"id":"msg_K7Q2ZP","type":"message","role":"assistant","model":"K7Q2ZP",)"
        R"("content":[{"type":"text","text":"nope"}],"stop_reason":"end_turn"})";
    EXPECT_FALSE(reply_contains_code(body, "K7Q2ZP"));
}

TEST(ReplyValidation, TextBlocksAreConcatenated) {
    const auto body =
        message(R"([{"type":"text","text":"The code: "},{"type":"text","text":"K7Q2ZP"}])");
    EXPECT_TRUE(reply_contains_code(body, "K7Q2ZP"));
    EXPECT_EQ(reply_text(body), "The code: K7Q2ZP");
    // Split across two blocks still reads as one text.
    EXPECT_TRUE(reply_contains_code(
        message(R"([{"type":"text","text":"K7Q"},{"type":"text","text":"2ZP"}])"), "K7Q2ZP"));
}

TEST(ReplyValidation, NonTextBlocksAreIgnored) {
    EXPECT_FALSE(reply_contains_code(
        message(R"([{"type":"thinking","thinking":"the code is K7Q2ZP","signature":"x"}])"),
        "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(
        message(R"([{"type":"tool_use","id":"t","name":"K7Q2ZP","input":{"c":"K7Q2ZP"}}])"),
        "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(message(R"([{"type":"text"}])"), "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(message(R"([{"type":"text","text":123456}])"), "123456"));
    EXPECT_FALSE(reply_contains_code(message("[]"), "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code(message(R"("K7Q2ZP")"), "K7Q2ZP"));  // content not an array
    // Text next to other blocks still counts.
    EXPECT_TRUE(
        reply_contains_code(message(R"([{"type":"thinking","thinking":"hm","signature":"x"},7,)"
                                    R"({"type":"text","text":"K7Q2ZP"}])"),
                            "K7Q2ZP"));
}

TEST(ReplyValidation, EmptyCodeNeverMatches) {
    EXPECT_FALSE(reply_contains_code(text_message("anything"), ""));
}

TEST(ReplyValidation, StreamedReplyIsReadToo) {
    // Some relays stream although the check asked them not to.
    const std::string sse =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
        "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":"
        "9,\"output_tokens\":1}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"k7q\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"2zp\"}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    EXPECT_TRUE(reply_contains_code(sse, "K7Q2ZP"));
    EXPECT_EQ(reply_text(sse), "k7q2zp");
    const std::string with_error =
        sse + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}\n\n";
    EXPECT_FALSE(reply_contains_code(with_error, "K7Q2ZP"));
    EXPECT_FALSE(reply_contains_code("event: ping\ndata: {\"type\":\"ping\"}\n\n", "K7Q2ZP"));
}

// ---- the runner, with checks that fail at once (nothing listens on port 9) ------------------

TEST(CheckRunnerBound, ManyQuicklyFailingChecksStayWithinTheBound) {
    // Checks that fail at once (connection refused) must neither exceed the bound nor nest on
    // the call stack: 5000 of them in a row on one thread.
    asio::io_context ioc;
    Pool pool(ioc, config::PoolConfig{}, ProxySettings{});
    std::vector<std::shared_ptr<const Endpoint>> endpoints;
    for (int i = 0; i < 5000; ++i) {
        config::EndpointConfig cfg;
        cfg.name = "oa" + std::to_string(i);
        cfg.base_url = "http://127.0.0.1:9";
        endpoints.push_back(std::make_shared<const Endpoint>(
            make_endpoint("id-" + cfg.name, cfg, config::Timeouts{}, nullptr)));
    }
    std::size_t done = 0;
    std::size_t max_running = 0;
    std::set<std::string> names;
    CheckRunner* runner_ptr = nullptr;
    CheckRunner runner(ioc, pool, [&](const Endpoint& ep, const CheckResult& r) {
        ++done;
        max_running = std::max(max_running, runner_ptr->running());
        names.insert(ep.cfg.name);
        EXPECT_NE(r.result, "pass");
    });
    runner_ptr = &runner;
    EXPECT_EQ(runner.submit(endpoints), endpoints.size());
    EXPECT_EQ(runner.running(), 2u);
    EXPECT_EQ(runner.queued(), endpoints.size() - 2);
    ioc.run();
    EXPECT_EQ(done, endpoints.size());
    EXPECT_EQ(names.size(), endpoints.size());
    EXPECT_EQ(max_running, 2u);
    EXPECT_EQ(runner.running(), 0u);
    EXPECT_EQ(runner.queued(), 0u);
    EXPECT_FALSE(runner.busy("id-oa0"));
}

TEST(CheckRunnerBound, RunnerSwallowsCallbackExceptions) {
    asio::io_context ioc;
    Pool pool(ioc, config::PoolConfig{}, ProxySettings{});
    config::EndpointConfig cfg;
    cfg.name = "oa";
    cfg.base_url = "http://127.0.0.1:9";
    cfg.kind = config::EndpointKind::kOpenAI;
    auto a = std::make_shared<const Endpoint>(make_endpoint("a", cfg, config::Timeouts{}, nullptr));
    auto b = std::make_shared<const Endpoint>(make_endpoint("b", cfg, config::Timeouts{}, nullptr));
    int calls = 0;
    CheckRunner runner(
        ioc, pool,
        [&](const Endpoint&, const CheckResult&) {
            ++calls;
            throw std::runtime_error("callback bug");
        },
        1);
    EXPECT_EQ(runner.submit({a, b}), 2u);
    ioc.run();
    EXPECT_EQ(calls, 2);  // the slot was freed despite the throw
    EXPECT_FALSE(runner.busy("a"));
}

}  // namespace
}  // namespace qcc::upstream

namespace qcc::upstream {
namespace {

TEST(OpenAiTarget, BasePathAndProfileFromTheUrlAndTags) {
    using Reasoning = openai::TargetProfile::Reasoning;
    const auto make = [](std::string url, std::vector<std::string> tags = {}) {
        config::EndpointConfig cfg;
        cfg.name = "o";
        cfg.base_url = std::move(url);
        cfg.kind = config::EndpointKind::kOpenAI;
        cfg.tags = std::move(tags);
        return make_endpoint("id", cfg, config::Timeouts{}, nullptr);
    };
    EXPECT_EQ(make("http://127.0.0.1:8080").path_prefix, "/v1");
    EXPECT_EQ(make("https://openrouter.ai/api/v1").path_prefix, "/api/v1");
    EXPECT_EQ(make("https://api.deepseek.com/v1/chat/completions").path_prefix, "/v1");
    EXPECT_EQ(make("https://generativelanguage.googleapis.com/v1beta/openai").path_prefix,
              "/v1beta/openai");

    const auto openai = make("https://api.openai.com/v1").openai;
    EXPECT_TRUE(openai.max_completion_tokens);
    EXPECT_EQ(openai.reasoning, Reasoning::kEffort);
    EXPECT_EQ(make("https://openrouter.ai/api/v1").openai.reasoning, Reasoning::kOpenRouter);
    EXPECT_EQ(make("https://dashscope.aliyuncs.com/compatible-mode/v1").openai.reasoning,
              Reasoning::kThinkingBudget);
    EXPECT_EQ(make("https://notopenrouter.ai/v1").openai.reasoning, Reasoning::kNone);
    const auto local =
        make("http://127.0.0.1:8000/v1",
             {"openai:reasoning=qwen", "openai:keep_schema", "openai:no_stream_usage"});
    EXPECT_EQ(local.openai.reasoning, Reasoning::kThinkingBudget);
    EXPECT_FALSE(local.openai.clean_schema);
    EXPECT_FALSE(local.openai.stream_usage);
    EXPECT_FALSE(local.openai.max_completion_tokens);
    EXPECT_FALSE(
        make("https://api.openai.com/v1", {"openai:max_tokens"}).openai.max_completion_tokens);

    // An Anthropic endpoint keeps its path as given.
    config::EndpointConfig a;
    a.name = "a";
    a.base_url = "https://relay.example.com/api/anthropic";
    EXPECT_EQ(make_endpoint("id", a, config::Timeouts{}, nullptr).path_prefix, "/api/anthropic");
}

}  // namespace
}  // namespace qcc::upstream
