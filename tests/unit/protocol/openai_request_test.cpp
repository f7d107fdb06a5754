#include <cctype>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "protocol/openai/translate_request.hpp"
#include "test_data.hpp"

namespace qcc::openai {
namespace {

namespace json = boost::json;

constexpr std::string_view kTarget = "gpt-test";

json::object translate_ok(std::string_view body, const TargetProfile& profile = {}) {
    std::string error;
    auto out = translate_request(body, kTarget, profile, &error);
    EXPECT_TRUE(out.has_value()) << error;
    if (!out) return {};
    boost::system::error_code ec;
    json::value v = json::parse(out->body, ec);
    EXPECT_FALSE(ec) << out->body;
    return v.is_object() ? v.get_object() : json::object();
}

// A minimal request around `messages` (a JSON array) plus `extra` top-level members.
std::string request(std::string_view messages, std::string_view extra = {}) {
    std::string body = R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":)";
    body += messages;
    if (!extra.empty()) {
        body += ",";
        body += extra;
    }
    body += "}";
    return body;
}

const json::array& messages_of(const json::object& req) { return req.at("messages").as_array(); }

bool contains_key(const json::value& v, std::string_view key) {
    if (const json::object* obj = v.if_object()) {
        for (const auto& member : *obj) {
            if (member.key() == key || contains_key(member.value(), key)) return true;
        }
    }
    if (const json::array* arr = v.if_array()) {
        for (const json::value& item : *arr) {
            if (contains_key(item, key)) return true;
        }
    }
    return false;
}

// ---- Claude Code fixtures ----

const std::vector<std::string> kClaudeCodeFixtures = {
    "claude-code/cc-2.1.197-request1.body.json",
    "claude-code/cc-2.1.197-request2.body.json",
    "claude-code/cc-2.1.332-request1.body.json",
    "claude-code/cc-2.1.332-request2.body.json",
};

class OpenAIRequestClaudeCode : public ::testing::TestWithParam<std::string> {};

TEST_P(OpenAIRequestClaudeCode, StructuralFacts) {
    const std::string body = test::read_fixture(GetParam());
    ASSERT_FALSE(body.empty());
    const json::object original = json::parse(body).as_object();
    std::string error;
    auto translated = translate_request(body, kTarget, {}, &error);
    ASSERT_TRUE(translated) << error;
    EXPECT_TRUE(translated->stream);
    const json::object req = json::parse(translated->body).as_object();

    EXPECT_EQ(req.at("model").as_string(), kTarget);
    EXPECT_EQ(req.at("max_tokens"), original.at("max_tokens"));  // never clamped
    EXPECT_EQ(req.at("stream"), json::value(true));
    EXPECT_EQ(req.at("stream_options").at("include_usage"), json::value(true));
    for (std::string_view dropped : {"metadata", "thinking", "context_management", "output_config",
                                     "system", "stop_sequences", "top_k"}) {
        EXPECT_FALSE(req.contains(dropped)) << dropped;
    }
    EXPECT_EQ(translated->body.find("cache_control"), std::string::npos);
    EXPECT_EQ(translated->body.find("x-anthropic-billing-header"), std::string::npos);
    EXPECT_EQ(translated->body.find("\"$schema\""), std::string::npos);
    EXPECT_EQ(translated->body.find("\"thinking\""), std::string::npos);

    const json::array& messages = messages_of(req);
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(messages[0].at("role").as_string(), "system");
    EXPECT_NE(messages[0].at("content").as_string().find("You are a Claude agent"),
              std::string::npos);

    // Roles: system, user, and the mid-conversation system message kept in place.
    std::size_t system_count = 0;
    for (const json::value& m : messages) {
        const std::string_view role = m.at("role").as_string();
        ASSERT_TRUE(role == "system" || role == "user" || role == "assistant" || role == "tool");
        if (role == "system") ++system_count;
    }
    EXPECT_EQ(system_count, 2u);
    EXPECT_EQ(messages[1].at("role").as_string(), "user");
    EXPECT_TRUE(messages[1].at("content").is_string());  // text-only content is a plain string
    EXPECT_EQ(messages[2].at("role").as_string(), "system");

    // Every assistant message with tool_calls is followed by one tool message per call, ids
    // matching; every tool message answers the assistant message before it.
    std::size_t calls_seen = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const json::object& m = messages[i].as_object();
        if (m.at("role").as_string() == "tool") {
            ASSERT_GT(i, 0u);
            const std::string_view before = messages[i - 1].at("role").as_string();
            EXPECT_TRUE(before == "assistant" || before == "tool");
        }
        if (m.at("role").as_string() != "assistant" || !m.contains("tool_calls")) continue;
        std::vector<std::string> ids;
        for (const json::value& call : m.at("tool_calls").as_array()) {
            ids.emplace_back(call.at("id").as_string());
            EXPECT_EQ(call.at("type").as_string(), "function");
            // arguments is the JSON text of the original input
            EXPECT_TRUE(json::parse(call.at("function").at("arguments").as_string()).is_object());
            ++calls_seen;
        }
        for (std::size_t k = 0; k < ids.size(); ++k) {
            ASSERT_LT(i + 1 + k, messages.size());
            const json::object& tool = messages[i + 1 + k].as_object();
            EXPECT_EQ(tool.at("role").as_string(), "tool");
            EXPECT_EQ(tool.at("tool_call_id").as_string(), ids[k]);
            EXPECT_TRUE(tool.at("content").is_string());
        }
    }
    const bool has_tool_use = body.find("\"tool_use\"") != std::string::npos;
    EXPECT_EQ(calls_seen > 0, has_tool_use);

    // Every (custom) tool is there, as a function with its schema.
    const json::array& tools = req.at("tools").as_array();
    EXPECT_EQ(tools.size(), original.at("tools").as_array().size());
    for (const json::value& tool : tools) {
        EXPECT_EQ(tool.at("type").as_string(), "function");
        EXPECT_FALSE(tool.at("function").at("name").as_string().empty());
        EXPECT_TRUE(tool.at("function").at("parameters").is_object());
        EXPECT_FALSE(contains_key(tool.at("function").at("parameters"), "$schema"));
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OpenAIRequestClaudeCode,
                         ::testing::ValuesIn(kClaudeCodeFixtures), [](const auto& param_info) {
                             std::string name =
                                 param_info.param.substr(param_info.param.find('/') + 1);
                             for (char& c : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return name;
                         });

void check_tool_round_trip(const std::string& body) {
    ASSERT_NE(body.find("\"tool_result\""), std::string::npos);
    const json::object original = json::parse(body).as_object();
    const json::object req = translate_ok(body);
    const json::array& in = original.at("messages").as_array();
    const json::array& out = messages_of(req);
    const json::value* tool_use = nullptr;
    const json::value* tool_result = nullptr;
    for (const json::value& m : in) {
        if (!m.at("content").is_array()) continue;
        for (const json::value& b : m.at("content").as_array()) {
            if (b.at("type").as_string() == "tool_use") tool_use = &b;
            if (b.at("type").as_string() == "tool_result") tool_result = &b;
        }
    }
    ASSERT_TRUE(tool_use && tool_result);
    bool found_call = false;
    bool found_result = false;
    for (const json::value& m : out) {
        if (m.as_object().contains("tool_calls")) {
            const json::value& call = m.at("tool_calls").as_array()[0];
            EXPECT_EQ(call.at("id"), tool_use->at("id"));
            EXPECT_EQ(call.at("function").at("name"), tool_use->at("name"));
            EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()),
                      tool_use->at("input"));
            found_call = true;
        }
        if (m.at("role").as_string() == "tool") {
            EXPECT_EQ(m.at("content"), tool_result->at("content"));
            found_result = true;
        }
    }
    EXPECT_TRUE(found_call && found_result);
}

// request2 of each CLI version carries the tool round trip.
TEST(OpenAIRequest, ClaudeCodeToolInputAndResultSurviveExactly) {
    for (const char* fixture : {"claude-code/cc-2.1.197-request2.body.json",
                                "claude-code/cc-2.1.332-request2.body.json"}) {
        SCOPED_TRACE(fixture);
        check_tool_round_trip(test::read_fixture(fixture));
    }
}

// ---- hand-written requests ----

TEST(OpenAIRequest, SystemBlocksJoinedWithoutCacheControlOrBillingLine) {
    const json::object req = translate_ok(request(
        R"([{"role":"user","content":"hi"}])",
        R"("system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=1;"},)"
        R"({"type":"text","text":"First.","cache_control":{"type":"ephemeral","ttl":"1h"}},)"
        R"({"type":"text","text":"Second."}])"));
    const json::array& messages = messages_of(req);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].at("role").as_string(), "system");
    EXPECT_EQ(messages[0].at("content").as_string(), "First.\n\nSecond.");
    EXPECT_EQ(messages[1].at("content").as_string(), "hi");
}

TEST(OpenAIRequest, SystemString) {
    const json::object req =
        translate_ok(request(R"([{"role":"user","content":"hi"}])", R"("system":"Be brief.")"));
    EXPECT_EQ(messages_of(req)[0].at("content").as_string(), "Be brief.");
}

TEST(OpenAIRequest, ImagesBase64AndUrl) {
    const json::object req = translate_ok(request(R"([{"role":"user","content":[
        {"type":"text","text":"Compare"},
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
        {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
        {"type":"image","source":{"type":"file","file_id":"file_123"}}]}])"));
    const json::array& parts = messages_of(req)[0].at("content").as_array();
    ASSERT_EQ(parts.size(), 3u);  // the Files API image has no OpenAI form: skipped
    EXPECT_EQ(parts[0].at("type").as_string(), "text");
    EXPECT_EQ(parts[0].at("text").as_string(), "Compare");
    EXPECT_EQ(parts[1].at("type").as_string(), "image_url");
    EXPECT_EQ(parts[1].at("image_url").at("url").as_string(), "data:image/jpeg;base64,/9j/4AAQ");
    EXPECT_EQ(parts[2].at("image_url").at("url").as_string(), "https://example.com/a.png");
}

TEST(OpenAIRequest, Documents) {
    const json::object req = translate_ok(request(R"([{"role":"user","content":[
        {"type":"document","title":"spec.pdf",
         "source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}},
        {"type":"document","title":"Notes","source":{"type":"text","media_type":"text/plain",
         "data":"plain notes"}},
        {"type":"document","source":{"type":"content","content":[{"type":"text","text":"c1"}]}},
        {"type":"document","source":{"type":"url","url":"https://example.com/x.pdf"}},
        {"type":"text","text":"Summarize."}]}])"));
    const json::array& parts = messages_of(req)[0].at("content").as_array();
    ASSERT_EQ(parts.size(), 5u);
    EXPECT_EQ(parts[0].at("type").as_string(), "file");
    EXPECT_EQ(parts[0].at("file").at("filename").as_string(), "spec.pdf");
    EXPECT_EQ(parts[0].at("file").at("file_data").as_string(),
              "data:application/pdf;base64,JVBERi0x");
    EXPECT_EQ(parts[1].at("text").as_string(), "Document: Notes\n\nplain notes");
    EXPECT_EQ(parts[2].at("text").as_string(), "c1");
    EXPECT_EQ(parts[3].at("text").as_string(), "[document: https://example.com/x.pdf]");
    EXPECT_EQ(parts[4].at("text").as_string(), "Summarize.");
}

constexpr std::string_view kToolHistory = R"([
    {"role":"user","content":"go"},
    {"role":"assistant","content":[
        {"type":"thinking","thinking":"plan","signature":"sig"},
        {"type":"redacted_thinking","data":"xyz"},
        {"type":"text","text":"Running both."},
        {"type":"tool_use","id":"toolu_A","name":"Bash","input":{"command":"ls"}},
        {"type":"tool_use","id":"toolu_B","name":"Read","input":{"file_path":"/x.png"}}]},
    {"role":"user","content":[
        {"type":"text","text":"Here you go"},
        {"type":"tool_result","tool_use_id":"toolu_B","content":[
            {"type":"text","text":"image read"},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},
        {"type":"tool_result","tool_use_id":"toolu_A","content":"a\nb","is_error":true,
         "cache_control":{"type":"ephemeral"}},
        {"type":"image","source":{"type":"url","url":"https://example.com/s.png"}}]}])";

TEST(OpenAIRequest, ToolResultsFollowTheirCallInResultOrder) {
    const json::object req = translate_ok(request(kToolHistory));
    const json::array& m = messages_of(req);
    ASSERT_EQ(m.size(), 5u);
    EXPECT_EQ(m[0].at("role").as_string(), "user");
    EXPECT_EQ(m[1].at("role").as_string(), "assistant");
    EXPECT_EQ(m[1].at("content").as_string(), "Running both.");  // thinking dropped
    const json::array& calls = m[1].at("tool_calls").as_array();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].at("id").as_string(), "toolu_A");
    EXPECT_EQ(calls[0].at("function").at("name").as_string(), "Bash");
    EXPECT_EQ(calls[0].at("function").at("arguments").as_string(), R"({"command":"ls"})");
    EXPECT_EQ(m[2].at("role").as_string(), "tool");
    EXPECT_EQ(m[2].at("tool_call_id").as_string(), "toolu_B");
    EXPECT_EQ(m[2].at("content").as_string(),
              "image read\n\n[1 attachment of this tool result follows in the next user message]");
    EXPECT_EQ(m[3].at("tool_call_id").as_string(), "toolu_A");
    EXPECT_EQ(m[3].at("content").as_string(), "Error: a\nb");
}

TEST(OpenAIRequest, ToolResultImagesAndSiblingBlocksGoToAFollowingUserMessage) {
    const json::object req = translate_ok(request(kToolHistory));
    const json::array& m = messages_of(req);
    ASSERT_EQ(m.size(), 5u);
    EXPECT_EQ(m[4].at("role").as_string(), "user");
    const json::array& parts = m[4].at("content").as_array();
    ASSERT_EQ(parts.size(), 3u);  // original order: text, the result's image, the user's image
    EXPECT_EQ(parts[0].at("text").as_string(), "Here you go");
    EXPECT_EQ(parts[1].at("image_url").at("url").as_string(), "data:image/png;base64,iVBOR");
    EXPECT_EQ(parts[2].at("image_url").at("url").as_string(), "https://example.com/s.png");
}

TEST(OpenAIRequest, SystemMessageBetweenCallAndResultMovesAfterTheResults) {
    const json::object req = translate_ok(request(R"([
        {"role":"user","content":"go"},
        {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"X","input":{}}]},
        {"role":"system","content":"Reminder."},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"done"}]}])"));
    const json::array& m = messages_of(req);
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[1].at("role").as_string(), "assistant");
    EXPECT_TRUE(m[1].at("content").is_null());  // no text: content null next to tool_calls
    EXPECT_EQ(m[2].at("role").as_string(), "tool");
    EXPECT_EQ(m[3].at("role").as_string(), "system");
    EXPECT_EQ(m[3].at("content").as_string(), "Reminder.");
}

TEST(OpenAIRequest, UnknownBlocksAreSkippedAndEmptyAssistantTurnsOmitted) {
    const json::object req = translate_ok(request(R"([
        {"role":"user","content":[{"type":"fancy_future_block","x":1},{"type":"text","text":"a"},
                                  "not an object"]},
        {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},
            {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}]},
        {"role":"user","content":[{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1",
            "content":[]},{"type":"text","text":"b"}]},
        {"role":"robot","content":"ignored"}])"));
    const json::array& m = messages_of(req);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].at("content").as_string(), "a");
    EXPECT_EQ(m[1].at("content").as_string(), "b");
}

TEST(OpenAIRequest, TextBlocksJoinIntoAString) {
    const json::object req = translate_ok(request(
        R"([{"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},
            {"role":"assistant","content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}])"));
    EXPECT_EQ(messages_of(req)[0].at("content").as_string(), "one\n\ntwo");
    EXPECT_EQ(messages_of(req)[1].at("content").as_string(), "x\n\ny");
}

TEST(OpenAIRequest, ToolsAndServerTools) {
    const json::object req = translate_ok(request(R"([{"role":"user","content":"hi"}])", R"(
        "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object",
                  "properties":{"city":{"type":"string"}},"required":["city"]},
                  "cache_control":{"type":"ephemeral"}},
                 {"type":"custom","name":"no_schema"},
                 {"type":"web_search_20250305","name":"web_search","max_uses":5},
                 {"type":"bash_20250124","name":"bash"}])"));
    const json::array& tools = req.at("tools").as_array();
    ASSERT_EQ(tools.size(), 2u);
    const json::object& f = tools[0].at("function").as_object();
    EXPECT_EQ(f.at("name").as_string(), "get_weather");
    EXPECT_EQ(f.at("description").as_string(), "Weather");
    EXPECT_EQ(f.at("parameters").at("required").as_array().size(), 1u);
    EXPECT_FALSE(tools[0].as_object().contains("cache_control"));
    EXPECT_EQ(tools[1].at("function").at("parameters"),
              json::parse(R"({"type":"object","properties":{}})"));
    EXPECT_FALSE(tools[1].at("function").as_object().contains("description"));
}

constexpr std::string_view kSchemaTool = R"("tools":[{"name":"t","input_schema":{
    "$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
    "additionalProperties":false,
    "properties":{
        "url":{"type":"string","format":"uri"},
        "format":{"type":"string","description":"a property named format"},
        "count":{"type":"integer","exclusiveMinimum":0,"format":"int32"},
        "mode":{"const":"fast"},
        "map":{"type":"object","propertyNames":{"pattern":"^x"},
               "additionalProperties":{"type":"string","format":"email"}},
        "list":{"type":"array","items":{"type":"object","additionalProperties":false,
                "properties":{"when":{"type":"string","format":"date-time"}}}},
        "either":{"anyOf":[{"type":"string","format":"uuid"},{"type":"null"}]}},
    "required":["url"]}}])";

TEST(OpenAIRequest, SchemaCleaning) {
    const json::object req =
        translate_ok(request(R"([{"role":"user","content":"hi"}])", kSchemaTool));
    const json::object& p = req.at("tools").at(0).at("function").at("parameters").as_object();
    EXPECT_FALSE(p.contains("$schema"));
    EXPECT_FALSE(p.contains("additionalProperties"));
    EXPECT_EQ(p.at("required").as_array().size(), 1u);
    const json::object& props = p.at("properties").as_object();
    EXPECT_FALSE(props.at("url").as_object().contains("format"));
    ASSERT_TRUE(props.contains("format"));  // a property's name is not a keyword
    EXPECT_FALSE(props.at("count").as_object().contains("exclusiveMinimum"));
    EXPECT_EQ(props.at("count").at("format").as_string(), "int32");  // only strings lose format
    EXPECT_EQ(props.at("mode").at("enum"), json::parse(R"(["fast"])"));
    EXPECT_FALSE(props.at("mode").as_object().contains("const"));
    EXPECT_FALSE(props.at("map").as_object().contains("propertyNames"));
    EXPECT_EQ(props.at("map").at("additionalProperties"), json::parse(R"({"type":"string"})"));
    EXPECT_FALSE(props.at("list").at("items").as_object().contains("additionalProperties"));
    EXPECT_FALSE(
        props.at("list").at("items").at("properties").at("when").as_object().contains("format"));
    EXPECT_FALSE(props.at("either").at("anyOf").at(0).as_object().contains("format"));
}

TEST(OpenAIRequest, SchemaKeptWhenCleaningIsOff) {
    TargetProfile profile;
    profile.clean_schema = false;
    const std::string body = request(R"([{"role":"user","content":"hi"}])", kSchemaTool);
    const json::object req = translate_ok(body, profile);
    const json::value& p = req.at("tools").at(0).at("function").at("parameters");
    const json::value original = json::parse(body).at("tools").at(0).at("input_schema");
    EXPECT_EQ(p, original);
}

json::object with_tool_choice(std::string_view choice) {
    return translate_ok(request(R"([{"role":"user","content":"hi"}])",
                                R"("tools":[{"name":"f","input_schema":{"type":"object"}}],)"
                                R"("tool_choice":)" +
                                    std::string(choice)));
}

TEST(OpenAIRequest, ToolChoiceVariants) {
    EXPECT_EQ(with_tool_choice(R"({"type":"auto"})").at("tool_choice").as_string(), "auto");
    EXPECT_EQ(with_tool_choice(R"({"type":"any"})").at("tool_choice").as_string(), "required");
    EXPECT_EQ(with_tool_choice(R"({"type":"none"})").at("tool_choice").as_string(), "none");
    EXPECT_EQ(with_tool_choice(R"({"type":"tool","name":"f"})").at("tool_choice"),
              json::parse(R"({"type":"function","function":{"name":"f"}})"));
    const json::object parallel =
        with_tool_choice(R"({"type":"auto","disable_parallel_tool_use":true})");
    EXPECT_EQ(parallel.at("parallel_tool_calls"), json::value(false));
    EXPECT_FALSE(with_tool_choice(R"({"type":"auto"})").contains("parallel_tool_calls"));
}

TEST(OpenAIRequest, ToolChoiceWithoutUsableToolsIsDropped) {
    const json::object req =
        translate_ok(request(R"([{"role":"user","content":"hi"}])",
                             R"("tools":[{"type":"web_search_20250305","name":"web_search"}],)"
                             R"("tool_choice":{"type":"any","disable_parallel_tool_use":true})"));
    EXPECT_FALSE(req.contains("tools"));
    EXPECT_FALSE(req.contains("tool_choice"));
    EXPECT_FALSE(req.contains("parallel_tool_calls"));
}

json::object with_thinking(std::string_view extra, TargetProfile::Reasoning mode) {
    TargetProfile profile;
    profile.reasoning = mode;
    return translate_ok(request(R"([{"role":"user","content":"hi"}])", extra), profile);
}

TEST(OpenAIRequest, ThinkingPerProfile) {
    using R = TargetProfile::Reasoning;
    const auto budget = [](int n) {
        return R"("thinking":{"type":"enabled","budget_tokens":)" + std::to_string(n) + "}";
    };
    // kNone: dropped whatever it says.
    const json::object none = with_thinking(budget(10000), R::kNone);
    EXPECT_FALSE(none.contains("reasoning_effort"));
    EXPECT_FALSE(none.contains("reasoning"));
    EXPECT_FALSE(none.contains("thinking"));

    EXPECT_EQ(with_thinking(budget(4000), R::kEffort).at("reasoning_effort").as_string(), "low");
    EXPECT_EQ(with_thinking(budget(10000), R::kEffort).at("reasoning_effort").as_string(),
              "medium");
    EXPECT_EQ(with_thinking(budget(31999), R::kEffort).at("reasoning_effort").as_string(), "high");
    EXPECT_EQ(with_thinking(R"("thinking":{"type":"adaptive"},"output_config":{"effort":"high"})",
                            R::kEffort)
                  .at("reasoning_effort")
                  .as_string(),
              "high");
    EXPECT_FALSE(with_thinking(R"("thinking":{"type":"disabled"})", R::kEffort)
                     .contains("reasoning_effort"));

    EXPECT_EQ(with_thinking(budget(8000), R::kOpenRouter).at("reasoning"),
              json::parse(R"({"max_tokens":8000})"));
    EXPECT_EQ(with_thinking(R"("thinking":{"type":"adaptive"},"output_config":{"effort":"max"})",
                            R::kOpenRouter)
                  .at("reasoning"),
              json::parse(R"({"effort":"high"})"));
    EXPECT_EQ(with_thinking(R"("thinking":{"type":"adaptive"})", R::kOpenRouter).at("reasoning"),
              json::parse(R"({"enabled":true})"));

    const json::object qwen = with_thinking(budget(2048), R::kThinkingBudget);
    EXPECT_EQ(qwen.at("chat_template_kwargs"), json::parse(R"({"enable_thinking":true})"));
    EXPECT_EQ(qwen.at("enable_thinking"), json::value(true));
    EXPECT_EQ(qwen.at("thinking_budget").as_int64(), 2048);
    const json::object off = with_thinking(R"("thinking":{"type":"disabled"})", R::kThinkingBudget);
    EXPECT_EQ(off.at("chat_template_kwargs"), json::parse(R"({"enable_thinking":false})"));
    EXPECT_FALSE(off.contains("thinking_budget"));
    EXPECT_FALSE(
        with_thinking("\"temperature\":1", R::kThinkingBudget).contains("enable_thinking"));
}

TEST(OpenAIRequest, SamplingAndLimits) {
    const std::string body =
        request(R"([{"role":"user","content":"hi"}])",
                R"("temperature":0.7,"top_p":0.9,"top_k":40,)"
                R"("stop_sequences":["END","STOP"],"metadata":{"user_id":"u"},)"
                R"("service_tier":"auto","stream":false)");
    std::string error;
    auto out = translate_request(body, kTarget, {}, &error);
    ASSERT_TRUE(out);
    EXPECT_FALSE(out->stream);
    const json::object req = json::parse(out->body).as_object();
    EXPECT_EQ(req.at("max_tokens").as_int64(), 1024);
    EXPECT_EQ(req.at("temperature").as_double(), 0.7);
    EXPECT_NE(out->body.find("\"temperature\":0.7"), std::string::npos);  // not 7E-1
    EXPECT_EQ(req.at("top_p").as_double(), 0.9);
    EXPECT_EQ(req.at("stop"), json::parse(R"(["END","STOP"])"));
    for (std::string_view dropped :
         {"top_k", "metadata", "service_tier", "stream", "stream_options", "stop_sequences"}) {
        EXPECT_FALSE(req.contains(dropped)) << dropped;
    }
}

TEST(OpenAIRequest, MaxCompletionTokensProfileAndNoClamping) {
    TargetProfile profile;
    profile.max_completion_tokens = true;
    const json::object req = translate_ok(
        R"({"max_tokens":128000,"messages":[{"role":"user","content":"x"}]})", profile);
    EXPECT_EQ(req.at("max_completion_tokens").as_int64(), 128000);
    EXPECT_FALSE(req.contains("max_tokens"));
}

TEST(OpenAIRequest, StreamUsageProfile) {
    TargetProfile profile;
    profile.stream_usage = false;
    const json::object req = translate_ok(
        R"({"max_tokens":1,"stream":true,"messages":[{"role":"user","content":"x"}]})", profile);
    EXPECT_EQ(req.at("stream"), json::value(true));
    EXPECT_FALSE(req.contains("stream_options"));
}

TEST(OpenAIRequest, Errors) {
    std::string error;
    EXPECT_FALSE(translate_request("not json", kTarget, {}, &error));
    EXPECT_EQ(error, "request body is not valid JSON");
    EXPECT_FALSE(translate_request("[1]", kTarget, {}, &error));
    EXPECT_EQ(error, "request body is not a JSON object");
    EXPECT_FALSE(translate_request(R"({"model":"x"})", kTarget, {}, &error));
    EXPECT_EQ(error, "request has no messages");
    EXPECT_FALSE(translate_request(R"({"messages":[]})", kTarget, {}, &error));
    EXPECT_FALSE(translate_request(R"({"messages":{}})", kTarget, {}, nullptr));  // null is fine
    EXPECT_FALSE(translate_request("", kTarget, {}, &error));
}

TEST(OpenAIRequest, DeepNestingAndLoneSurrogatesAreTolerated) {
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "{\"a\":";
    deep += "1";
    for (int i = 0; i < 200; ++i) deep += "}";
    const json::object req = translate_ok(request(
        R"([{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":)" +
        deep + R"(}]},{"role":"user","content":"bad \udc00 surrogate"}])"));
    const json::array& m = messages_of(req);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[1].at("content").as_string(), "bad \xEF\xBF\xBD surrogate");
}

}  // namespace
}  // namespace qcc::openai
