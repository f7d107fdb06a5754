#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "protocol/openai/translate_response.hpp"
#include "test_data.hpp"

namespace qcc::openai {
namespace {

namespace json = boost::json;

constexpr std::string_view kModel = "claude-sonnet-4-5";

json::object translate_ok(std::string_view body, anthropic::Usage* usage = nullptr) {
    std::string type;
    std::string error;
    auto out = translate_response(body, kModel, usage, &type, &error);
    EXPECT_TRUE(out.has_value()) << type << ": " << error;
    if (!out) return {};
    return json::parse(*out).as_object();
}

// A response with one choice holding `message` (JSON) and `finish_reason`.
std::string response(std::string_view message, std::string_view finish = "stop",
                     std::string_view choice_extra = {}) {
    std::string s = R"({"id":"chatcmpl-1","object":"chat.completion","model":"up-model",)";
    s += R"("choices":[{"index":0,"message":)";
    s += message;
    s += R"(,"finish_reason":)";
    s += finish.empty() ? std::string("null") : "\"" + std::string(finish) + "\"";
    if (!choice_extra.empty()) {
        s += ",";
        s += choice_extra;
    }
    s += "}]}";
    return s;
}

std::string stop_reason_of(std::string_view message, std::string_view finish) {
    return std::string(translate_ok(response(message, finish)).at("stop_reason").as_string());
}

TEST(OpenAIResponse, GoldenText) {
    anthropic::Usage usage;
    const json::object got =
        translate_ok(test::read_fixture("openai/response_text.openai.json"), &usage);
    EXPECT_EQ(json::value(got),
              json::parse(test::read_fixture("openai/response_text.anthropic.json")));
    EXPECT_EQ(got.at("model").as_string(), kModel);
    EXPECT_EQ(got.at("id").as_string(), "msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    EXPECT_EQ(usage.input_tokens, 86);  // 2006 prompt tokens minus 1920 cached
    EXPECT_EQ(usage.cache_read_input_tokens, 1920);
    EXPECT_EQ(usage.output_tokens, 10);
    EXPECT_EQ(usage.stop_reason, "end_turn");
    EXPECT_EQ(usage.model, "gpt-4o-2024-08-06");
}

TEST(OpenAIResponse, GoldenReasoningAndTools) {
    anthropic::Usage usage;
    const json::object got =
        translate_ok(test::read_fixture("openai/response_tools.openai.json"), &usage);
    EXPECT_EQ(json::value(got),
              json::parse(test::read_fixture("openai/response_tools.anthropic.json")));
    const json::array& content = got.at("content").as_array();
    ASSERT_EQ(content.size(), 4u);
    EXPECT_EQ(content[0].at("type").as_string(), "thinking");
    EXPECT_EQ(content[0].at("signature").as_string(), "");
    EXPECT_EQ(content[1].at("type").as_string(), "text");
    EXPECT_EQ(content[2].at("input"), json::parse(R"({"file_path":"/etc/hosts","limit":10})"));
    EXPECT_EQ(content[3].at("id").as_string(), "functions_Bash_1");  // sanitized
    EXPECT_EQ(content[3].at("input"), json::object());               // truncated arguments
    EXPECT_EQ(got.at("stop_reason").as_string(), "tool_use");
    EXPECT_EQ(usage.cache_read_input_tokens, 640);
    EXPECT_EQ(usage.input_tokens, 260);
}

TEST(OpenAIResponse, ErrorBodyWithStatus200) {
    anthropic::Usage usage;
    std::string type;
    std::string error;
    auto out = translate_response(test::read_fixture("openai/response_error_200.openai.json"),
                                  kModel, &usage, &type, &error);
    EXPECT_FALSE(out);
    EXPECT_EQ(type, "rate_limit_error");  // from the error's code 429
    EXPECT_EQ(error.rfind("Rate limit exceeded: free-models-per-day", 0), 0u);

    out = translate_response(R"({"error":{"message":"bad key","type":"invalid_api_key"}})", kModel,
                             nullptr, &type, &error);
    EXPECT_FALSE(out);
    EXPECT_EQ(type, "authentication_error");
    EXPECT_EQ(error, "bad key");

    out = translate_response(R"({"error":"plain text failure"})", kModel, nullptr, &type, &error);
    EXPECT_FALSE(out);
    EXPECT_EQ(type, "api_error");
    EXPECT_EQ(error, "plain text failure");
}

TEST(OpenAIResponse, MalformedBodiesAreErrors) {
    std::string type;
    std::string error;
    EXPECT_FALSE(translate_response("<html>bad gateway</html>", kModel, nullptr, &type, &error));
    EXPECT_EQ(type, "api_error");
    EXPECT_FALSE(translate_response(R"({"id":"x","choices":[]})", kModel, nullptr, &type, &error));
    EXPECT_EQ(error, "upstream response has no choices");
    EXPECT_FALSE(translate_response(response(R"({"content":"x"})", "error"), kModel, nullptr, &type,
                                    &error));
    EXPECT_FALSE(translate_response("[]", kModel, nullptr, nullptr, nullptr));  // nulls are fine
}

TEST(OpenAIResponse, FinishReasons) {
    EXPECT_EQ(stop_reason_of(R"({"content":"x"})", "stop"), "end_turn");
    EXPECT_EQ(stop_reason_of(R"({"content":"x"})", "length"), "max_tokens");
    EXPECT_EQ(stop_reason_of(R"({"content":"x"})", "content_filter"), "refusal");
    EXPECT_EQ(stop_reason_of(R"({"content":"x"})", ""), "end_turn");
    const std::string call =
        R"({"content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})";
    EXPECT_EQ(stop_reason_of(call, "tool_calls"), "tool_use");
    EXPECT_EQ(stop_reason_of(call, "stop"), "tool_use");  // some targets say stop
    EXPECT_EQ(stop_reason_of(call, "length"), "max_tokens");
    EXPECT_EQ(stop_reason_of(R"({"function_call":{"name":"f","arguments":"{\"a\":1}"}})",
                             "function_call"),
              "tool_use");
}

TEST(OpenAIResponse, StopSequenceNamedByVllm) {
    const json::object got =
        translate_ok(response(R"({"content":"x"})", "stop", R"("stop_reason":"END")"));
    EXPECT_EQ(got.at("stop_reason").as_string(), "stop_sequence");
    EXPECT_EQ(got.at("stop_sequence").as_string(), "END");
    const json::object token =
        translate_ok(response(R"({"content":"x"})", "stop", R"("stop_reason":128001)"));
    EXPECT_EQ(token.at("stop_reason").as_string(), "end_turn");  // a token id, not a sequence
    EXPECT_TRUE(token.at("stop_sequence").is_null());
}

TEST(OpenAIResponse, ToolArgumentVariants) {
    const json::object got = translate_ok(response(R"({"tool_calls":[
        {"id":"a","type":"function","function":{"name":"f","arguments":"not json"}},
        {"id":"b","type":"function","function":{"name":"f","arguments":"\"{\\\"x\\\":1}\""}},
        {"id":"c","type":"function","function":{"name":"f","arguments":{"y":2}}},
        {"id":"d","type":"function","function":{"name":"f","arguments":""}},
        {"id":"e","type":"function","function":{"name":"f","arguments":"[1,2]"}},
        {"id":"","type":"function","function":{"name":"f"}},
        {"id":"g","type":"function","function":{"arguments":"{}"}}]})",
                                                   "tool_calls"));
    const json::array& content = got.at("content").as_array();
    ASSERT_EQ(content.size(), 6u);  // the nameless call is dropped
    EXPECT_EQ(content[0].at("input"), json::object());
    EXPECT_EQ(content[1].at("input"), json::parse(R"({"x":1})"));  // double-encoded
    EXPECT_EQ(content[2].at("input"), json::parse(R"({"y":2})"));  // an object, not a string
    EXPECT_EQ(content[3].at("input"), json::object());
    EXPECT_EQ(content[4].at("input"), json::object());
    EXPECT_EQ(content[5].at("id").as_string(), "toolu_chatcmpl-1_5");  // synthesized
}

TEST(OpenAIResponse, ContentVariants) {
    EXPECT_EQ(translate_ok(response(R"({"content":""})")).at("content"), json::array());
    EXPECT_EQ(
        translate_ok(
            response(R"({"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]})"))
            .at("content")
            .at(0)
            .at("text")
            .as_string(),
        "ab");
    EXPECT_EQ(translate_ok(response(R"({"content":null,"refusal":"I can't."})"))
                  .at("content")
                  .at(0)
                  .at("text")
                  .as_string(),
              "I can't.");
    const json::object reasoning =
        translate_ok(response(R"({"content":"x","reasoning":"because"})"));
    EXPECT_EQ(reasoning.at("content").at(0).at("thinking").as_string(), "because");
}

TEST(OpenAIResponse, UsageVariants) {
    anthropic::Usage usage;
    translate_ok(R"({"id":"x","choices":[{"message":{"content":"a"},"finish_reason":"stop"}],
                    "usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":60,
                             "prompt_cache_miss_tokens":40}})",
                 &usage);
    EXPECT_EQ(usage.input_tokens, 40);  // DeepSeek's cache hits
    EXPECT_EQ(usage.cache_read_input_tokens, 60);
    translate_ok(R"({"choices":[{"message":{"content":"a"}}]})", &usage);
    EXPECT_EQ(usage.input_tokens, 0);
    EXPECT_EQ(usage.output_tokens, 0);
    const json::object got = translate_ok(R"({"choices":[{"message":{"content":"a"}}]})");
    EXPECT_EQ(got.at("id").as_string().subview().substr(0, 4), "msg_");  // generated
    EXPECT_GT(got.at("id").as_string().size(), 20u);
    EXPECT_NE(translate_ok(R"({"choices":[{"message":{"content":"a"}}]})").at("id"), got.at("id"));
}

json::object error_of(int status, std::string_view body) {
    return json::parse(anthropic_error_from_openai(status, body)).as_object();
}

TEST(OpenAIErrorBody, TypesByStatus) {
    const std::pair<int, std::string_view> cases[] = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {402, "billing_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {413, "request_too_large"},
        {422, "invalid_request_error"},
        {429, "rate_limit_error"},
        {500, "api_error"},
        {502, "api_error"},
        {503, "overloaded_error"},
        {504, "timeout_error"},
        {529, "overloaded_error"},
        {418, "invalid_request_error"},
        {599, "api_error"},
    };
    for (const auto& [status, type] : cases) {
        const json::object e =
            error_of(status, R"({"error":{"message":"m","type":"server_error"}})");
        EXPECT_EQ(e.at("type").as_string(), "error");
        EXPECT_EQ(e.at("error").at("type").as_string(), type) << status;
        EXPECT_EQ(e.at("error").at("message").as_string(), "m");
    }
}

TEST(OpenAIErrorBody, MessagesFromEveryShape) {
    EXPECT_EQ(
        error_of(
            400,
            R"({"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})")
            .at("error")
            .at("message")
            .as_string(),
        "This model's maximum context length is 8192 tokens");
    EXPECT_EQ(error_of(400, R"({"error":"flat"})").at("error").at("message").as_string(), "flat");
    EXPECT_EQ(error_of(422, R"({"detail":"Not Found"})").at("error").at("message").as_string(),
              "Not Found");
    EXPECT_EQ(error_of(422, R"({"detail":[{"loc":["body"],"msg":"x"}]})")
                  .at("error")
                  .at("message")
                  .as_string(),
              R"([{"loc":["body"],"msg":"x"}])");
    EXPECT_EQ(error_of(500, R"({"object":"error","message":"vllm says","type":"BadRequestError"})")
                  .at("error")
                  .at("message")
                  .as_string(),
              "vllm says");
    EXPECT_EQ(error_of(502, "\n<html>Bad Gateway</html>\n").at("error").at("message").as_string(),
              "<html>Bad Gateway</html>");
    EXPECT_EQ(error_of(502, "").at("error").at("message").as_string(),
              "upstream returned HTTP 502");
    EXPECT_EQ(error_of(500, std::string(5000, 'x')).at("error").at("message").as_string().size(),
              1024u);
    // Invalid UTF-8 in the body still gives valid JSON.
    EXPECT_NO_THROW(error_of(500, "bad \xff bytes"));
}

TEST(OpenAIErrorBody, TypeFromBodyWhenStatusDoesNotDecide) {
    EXPECT_EQ(error_of(200, R"({"error":{"message":"m","code":"rate_limit_exceeded"}})")
                  .at("error")
                  .at("type")
                  .as_string(),
              "rate_limit_error");
    EXPECT_EQ(error_of(200, R"({"error":{"message":"m","type":"overloaded_error"}})")
                  .at("error")
                  .at("type")
                  .as_string(),
              "overloaded_error");
    EXPECT_EQ(error_of(0, "?").at("error").at("type").as_string(), "api_error");
}

}  // namespace
}  // namespace qcc::openai
