#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "protocol/openai/translate_stream.hpp"
#include "test_data.hpp"

namespace qcc::openai {
namespace {

namespace json = boost::json;

constexpr std::string_view kModel = "claude-sonnet-4-5";

struct Output {
    std::string out;
    bool finished = false;
};

// Feeds `pieces` in order to a fresh translator, then finish().
Output translate(const std::vector<std::string_view>& pieces, std::string id = {},
                 StreamTranslator* keep = nullptr) {
    StreamTranslator local(std::string(kModel), std::move(id));
    StreamTranslator& t = keep ? *keep : local;
    Output run;
    for (std::string_view piece : pieces) t.feed(piece, run.out);
    run.finished = t.finish(run.out);
    return run;
}

// An OpenAI chunk line with `delta` (JSON) for choice 0 and an optional finish_reason.
std::string chunk(std::string_view delta, std::string_view finish = {}) {
    std::string s = R"(data: {"id":"chatcmpl-t","object":"chat.completion.chunk","model":"m",)";
    s += R"("choices":[{"index":0,"delta":)";
    s += delta;
    s += R"(,"finish_reason":)";
    s += finish.empty() ? std::string("null") : "\"" + std::string(finish) + "\"";
    s += "}]}\n\n";
    return s;
}

std::string tool_delta(int index, std::string_view id, std::string_view name,
                       std::string_view arguments_json) {
    std::string call = "{\"index\":" + std::to_string(index);
    if (!id.empty()) call += ",\"id\":\"" + std::string(id) + "\",\"type\":\"function\"";
    call += ",\"function\":{";
    bool comma = false;
    if (!name.empty()) {
        call += "\"name\":\"" + std::string(name) + "\"";
        comma = true;
    }
    if (!arguments_json.empty()) {
        if (comma) call += ",";
        call += "\"arguments\":" + std::string(arguments_json);
    }
    call += "}}";
    return chunk("{\"tool_calls\":[" + call + "]}");
}

const std::string kDone = "data: [DONE]\n\n";

// Checks the Anthropic event grammar a client relies on: message_start first; blocks numbered
// 0, 1, 2, ...; each delta for the open block and of its type; a block closed before the next
// opens; message_delta after all blocks closed; message_stop last. Returns "" or the problem.
std::string check_grammar(const test::EventList& events, bool expect_stop) {
    bool started = false;
    bool stopped = false;
    bool delta_seen = false;
    int next_index = 0;
    int open_index = -1;
    std::string open_type;
    for (const auto& [name, data] : events) {
        boost::system::error_code ec;
        json::value v = json::parse(data, ec);
        if (ec || !v.is_object()) return "event data is not a JSON object: " + data;
        const json::object& obj = v.get_object();
        const json::string* type = obj.if_contains("type") ? obj.at("type").if_string() : nullptr;
        if (type == nullptr || *type != name) return "event name and data type differ: " + name;
        if (stopped) return "event after message_stop: " + name;
        if (name == "message_start") {
            if (started) return "second message_start";
            started = true;
            continue;
        }
        if (!started) return "event before message_start: " + name;
        if (name == "content_block_start") {
            if (open_index >= 0) return "block opened while another is open";
            if (delta_seen) return "block after message_delta";
            if (obj.at("index").as_int64() != next_index) return "block index out of order";
            open_index = next_index++;
            open_type = obj.at("content_block").at("type").as_string();
        } else if (name == "content_block_delta") {
            if (obj.at("index").as_int64() != open_index) return "delta for a block not open";
            const std::string_view delta_type = obj.at("delta").at("type").as_string();
            const std::string_view expected = open_type == "text"       ? "text_delta"
                                              : open_type == "thinking" ? "thinking_delta"
                                                                        : "input_json_delta";
            if (delta_type != expected) return "delta type does not match the block";
        } else if (name == "content_block_stop") {
            if (obj.at("index").as_int64() != open_index) return "stop for a block not open";
            open_index = -1;
        } else if (name == "message_delta") {
            if (open_index >= 0) return "message_delta with a block open";
            delta_seen = true;
        } else if (name == "message_stop") {
            if (!delta_seen) return "message_stop without message_delta";
            stopped = true;
        } else {
            return "unexpected event " + name;
        }
    }
    if (expect_stop && !stopped) return "no message_stop";
    return {};
}

// The final input of every tool_use block, accumulated from its input_json_delta events.
std::vector<std::string> tool_inputs(const test::EventList& events) {
    std::vector<std::string> inputs;
    for (const auto& [name, data] : events) {
        json::value v = json::parse(data);
        if (name == "content_block_start" &&
            v.at("content_block").at("type").as_string() == "tool_use") {
            inputs.emplace_back();
        } else if (name == "content_block_delta" &&
                   v.at("delta").at("type").as_string() == "input_json_delta") {
            inputs.back() += v.at("delta").at("partial_json").as_string();
        }
    }
    return inputs;
}

// The text of every text / thinking block.
std::string all_text(const test::EventList& events, std::string_view delta_type = "text_delta") {
    std::string text;
    for (const auto& [name, data] : events) {
        if (name != "content_block_delta") continue;
        json::value v = json::parse(data);
        if (v.at("delta").at("type").as_string() != delta_type) continue;
        text += v.at("delta").at(delta_type == "text_delta" ? "text" : "thinking").as_string();
    }
    return text;
}

json::value event_json(const test::EventList& events, std::string_view name, int nth = 0) {
    for (const auto& [n, data] : events) {
        if (n == name && nth-- == 0) return json::parse(data);
    }
    return nullptr;
}

// ---- golden recordings ----

struct Golden {
    const char* name;
    bool finished;        // finish() returns true
    bool error;           // error_seen()
    bool content;         // content_started()
    const char* stop;     // usage().stop_reason when finished
    std::int64_t input;   // usage().input_tokens
    std::int64_t output;  // usage().output_tokens
    std::int64_t cached;  // usage().cache_read_input_tokens
};

const Golden kGoldens[] = {
    {"text_only", true, false, true, "end_turn", 179, 17, 1024},
    {"reasoning_then_text", true, false, true, "end_turn", 8, 35, 32},
    {"openrouter_reasoning", true, false, true, "end_turn", 12, 9, 0},
    {"text_then_tools", true, false, true, "tool_use", 256, 48, 4864},
    {"parallel_tools", true, false, true, "tool_use", 300, 40, 0},
    {"tool_args_whole", true, false, true, "tool_use", 88, 31, 0},
    {"usage_after_finish", true, false, true, "end_turn", 10, 2, 0},
    {"finish_length", true, false, true, "max_tokens", 7, 4, 0},
    {"error_midstream", false, true, true, "", 0, 0, 0},
    {"error_first", false, true, false, "", 0, 0, 0},
};

class OpenAIStreamGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(OpenAIStreamGolden, MatchesExpectedEventByEvent) {
    const Golden& g = GetParam();
    const std::string input = test::read_fixture(std::string("openai/") + g.name + ".openai.sse");
    const std::string expected =
        test::read_fixture(std::string("openai/") + g.name + ".anthropic.sse");
    ASSERT_FALSE(input.empty());
    StreamTranslator t{std::string(kModel)};
    const Output run = translate({input}, {}, &t);
    EXPECT_EQ(run.finished, g.finished);
    EXPECT_EQ(t.error_seen(), g.error);
    EXPECT_EQ(t.content_started(), g.content);
    const test::EventList got = test::collect_whole(run.out);
    const test::EventList want = test::collect_whole(expected);
    ASSERT_EQ(got.size(), want.size()) << run.out;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first, want[i].first) << "event " << i;
        EXPECT_EQ(json::parse(got[i].second), json::parse(want[i].second)) << "event " << i;
    }
    EXPECT_EQ(run.out, expected);  // byte for byte, including the framing
    EXPECT_EQ(check_grammar(got, g.finished), "");
    if (g.finished) {
        EXPECT_EQ(t.usage().stop_reason, g.stop);
        EXPECT_EQ(t.usage().input_tokens, g.input);
        EXPECT_EQ(t.usage().output_tokens, g.output);
        EXPECT_EQ(t.usage().cache_read_input_tokens, g.cached);
    }
}

TEST_P(OpenAIStreamGolden, SameOutputAtEverySplit) {
    const Golden& g = GetParam();
    const std::string input = test::read_fixture(std::string("openai/") + g.name + ".openai.sse");
    const Output whole = translate({input});
    for (std::size_t k = 0; k <= input.size(); ++k) {
        const std::string_view all(input);
        const Output split = translate({all.substr(0, k), all.substr(k)});
        ASSERT_EQ(split.out, whole.out) << "split at " << k;
        ASSERT_EQ(split.finished, whole.finished) << "split at " << k;
    }
}

TEST_P(OpenAIStreamGolden, SameOutputFedByteByByte) {
    const Golden& g = GetParam();
    const std::string input = test::read_fixture(std::string("openai/") + g.name + ".openai.sse");
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i)
        bytes.push_back(std::string_view(input).substr(i, 1));
    EXPECT_EQ(translate(bytes).out, translate({input}).out);
}

TEST_P(OpenAIStreamGolden, CrlfLineEndingsGiveTheSameOutput) {
    const Golden& g = GetParam();
    const std::string input = test::read_fixture(std::string("openai/") + g.name + ".openai.sse");
    EXPECT_EQ(translate({test::with_line_endings(input, "\r\n")}).out, translate({input}).out);
}

INSTANTIATE_TEST_SUITE_P(Recordings, OpenAIStreamGolden, ::testing::ValuesIn(kGoldens),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(OpenAIStream, TextThenToolsGivesParsableToolInput) {
    const Output run = translate({test::read_fixture("openai/text_then_tools.openai.sse")});
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(all_text(events), "I'll run that now.");
    const auto inputs = tool_inputs(events);
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(json::parse(inputs[0]).at("command").as_string(), "echo \"héllo\" && ls -la");
    const json::value start = event_json(events, "content_block_start", 1);
    EXPECT_EQ(start.at("content_block").at("id").as_string(), "call_qR3bYb8Q7DXxXzN5zG1k2mPe");
    EXPECT_EQ(start.at("content_block").at("name").as_string(), "Bash");
    EXPECT_EQ(start.at("content_block").at("input"), json::object());
}

TEST(OpenAIStream, MessageStartEchoesClientModelAndUpstreamId) {
    StreamTranslator t{std::string(kModel)};
    const Output run = translate({test::read_fixture("openai/text_only.openai.sse")}, {}, &t);
    const json::value start = event_json(test::collect_whole(run.out), "message_start");
    EXPECT_EQ(start.at("message").at("model").as_string(), kModel);
    EXPECT_EQ(start.at("message").at("id").as_string(),
              "msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
    EXPECT_EQ(t.usage().model, "gpt-4o-2024-08-06");  // the usage names the serving model

    const Output named =
        translate({test::read_fixture("openai/text_only.openai.sse")}, "msg_given");
    EXPECT_EQ(event_json(test::collect_whole(named.out), "message_start")
                  .at("message")
                  .at("id")
                  .as_string(),
              "msg_given");
}

TEST(OpenAIStream, NothingBeforeTheFirstChunk) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: {\"id\":\"x\"", out);
    EXPECT_EQ(out, "");
    t.feed(",\"choices\":[]}\n\n", out);
    EXPECT_NE(out.find("event: message_start"), std::string::npos);
    EXPECT_FALSE(t.content_started());
}

TEST(OpenAIStream, MessageDeltaWaitsForTheUsageChunkAndDone) {
    const std::string input = test::read_fixture("openai/usage_after_finish.openai.sse");
    const auto finish_at = input.find("\"finish_reason\":\"stop\"");
    const auto usage_at = input.find("data:", finish_at);
    const auto done_at = input.find("data: [DONE]");
    ASSERT_NE(finish_at, std::string::npos);
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(std::string_view(input).substr(0, usage_at), out);
    EXPECT_NE(out.find("content_block_stop"), std::string::npos);  // the block closes at once
    EXPECT_EQ(out.find("message_delta"), std::string::npos);
    out.clear();
    t.feed(std::string_view(input).substr(usage_at, done_at - usage_at), out);
    EXPECT_EQ(out, "");
    EXPECT_EQ(t.usage().input_tokens, 10);
    t.feed(std::string_view(input).substr(done_at), out);
    const auto events = test::collect_whole(out);
    ASSERT_EQ(events.size(), 2u);
    const json::value delta = event_json(events, "message_delta");
    EXPECT_EQ(delta.at("usage").at("input_tokens").as_int64(), 10);
    EXPECT_EQ(delta.at("usage").at("output_tokens").as_int64(), 2);
    EXPECT_EQ(events[1].first, "message_stop");
    std::string after;
    EXPECT_TRUE(t.finish(after));
    EXPECT_EQ(after, "");  // already sent
}

TEST(OpenAIStream, FinishReasonWithoutDoneEndsAtFinish) {
    Output run = translate({chunk(R"({"role":"assistant","content":"hi"})"), chunk("{}", "stop")});
    EXPECT_TRUE(run.finished);
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    EXPECT_EQ(event_json(events, "message_delta").at("usage").at("output_tokens").as_int64(), 0);
}

TEST(OpenAIStream, DoneWithoutFinishReasonEndsTheMessage) {
    const Output run = translate({chunk(R"({"content":"hi"})"), kDone});
    EXPECT_TRUE(run.finished);
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    EXPECT_EQ(event_json(events, "message_delta").at("delta").at("stop_reason").as_string(),
              "end_turn");
}

TEST(OpenAIStream, CutStreamIsReportedAndLeftOpen) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(chunk(R"({"content":"partial"})") + tool_delta(0, "call_1", "Bash", R"("{\"comm")"),
           out);
    EXPECT_TRUE(t.content_started());
    std::string tail;
    EXPECT_FALSE(t.finish(tail));
    EXPECT_EQ(tail, "");  // a half tool call is never closed into something runnable
    EXPECT_FALSE(t.error_seen());
}

TEST(OpenAIStream, EmptyOrDoneOnlyStreamIsNotAnEnding) {
    EXPECT_FALSE(translate({}).finished);
    const Output done_only = translate({kDone});
    EXPECT_FALSE(done_only.finished);
    EXPECT_EQ(done_only.out, "");
}

TEST(OpenAIStream, ErrorBeforeContentEmitsNothing) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(test::read_fixture("openai/error_first.openai.sse"), out);
    EXPECT_EQ(out, "");
    EXPECT_TRUE(t.error_seen());
    EXPECT_FALSE(t.content_started());
    EXPECT_EQ(t.error_type(), "rate_limit_error");
    EXPECT_EQ(t.error_message(), "Rate limit reached for requests");
    EXPECT_FALSE(t.finish(out));
    EXPECT_EQ(out, "");
}

TEST(OpenAIStream, ErrorAfterContentStopsAllOutput) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(chunk(R"({"content":"Hello"})"), out);
    const std::size_t before = out.size();
    t.feed("data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n", out);
    t.feed(chunk(R"({"content":" more"})") + chunk("{}", "stop") + kDone, out);
    EXPECT_EQ(out.size(), before);
    EXPECT_TRUE(t.error_seen());
    EXPECT_TRUE(t.content_started());
    EXPECT_EQ(t.error_type(), "api_error");
    EXPECT_EQ(t.error_message(), "boom");
    EXPECT_FALSE(t.finish(out));
    EXPECT_EQ(out.size(), before);
}

TEST(OpenAIStream, NamedErrorEventAndFinishReasonErrorAreErrors) {
    StreamTranslator named{std::string(kModel)};
    std::string out;
    named.feed("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n",
               out);
    EXPECT_TRUE(named.error_seen());
    EXPECT_EQ(named.error_type(), "overloaded_error");

    StreamTranslator reason{std::string(kModel)};
    reason.feed(chunk(R"({"content":"x"})") + chunk("{}", "error"), out);
    EXPECT_TRUE(reason.error_seen());
    EXPECT_EQ(reason.error_type(), "api_error");
}

TEST(OpenAIStream, InterleavedParallelCallsAreSerialized) {
    // A target that streams two calls' fragments alternately.
    const Output run = translate({
        chunk(R"({"role":"assistant"})"),
        tool_delta(0, "call_a", "Read", R"("{\"file_path\":")"),
        tool_delta(1, "call_b", "Glob", R"("{\"pattern\":")"),
        tool_delta(0, "", "", R"("\"/a\"}")"),
        tool_delta(1, "", "", R"("\"*.md\"}")"),
        chunk("{}", "tool_calls"),
        kDone,
    });
    ASSERT_TRUE(run.finished);
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    const auto inputs = tool_inputs(events);
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_EQ(json::parse(inputs[0]), json::parse(R"({"file_path":"/a"})"));
    EXPECT_EQ(json::parse(inputs[1]), json::parse(R"({"pattern":"*.md"})"));
}

TEST(OpenAIStream, AllHeadersFirstThenArguments) {
    const Output run = translate({
        tool_delta(0, "call_a", "Read", R"("")"),
        tool_delta(1, "call_b", "Read", R"("")"),
        tool_delta(0, "", "", R"("{\"file_path\":\"/a\"}")"),
        tool_delta(1, "", "", R"("{\"file_path\":\"/b\"}")"),
        chunk("{}", "tool_calls"),
        kDone,
    });
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    const auto inputs = tool_inputs(events);
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_EQ(json::parse(inputs[0]).at("file_path").as_string(), "/a");
    EXPECT_EQ(json::parse(inputs[1]).at("file_path").as_string(), "/b");
    EXPECT_EQ(event_json(events, "content_block_start", 1).at("content_block").at("id").as_string(),
              "call_b");
}

TEST(OpenAIStream, ArgumentsBeforeTheNameAreHeldThenFlushed) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(tool_delta(0, "", "", R"("{\"x\":")"), out);
    EXPECT_FALSE(t.content_started());
    t.feed(tool_delta(0, "call_late", "Tool", R"("1}")"), out);
    EXPECT_TRUE(t.content_started());
    t.feed(chunk("{}", "tool_calls") + kDone, out);
    const auto events = test::collect_whole(out);
    EXPECT_EQ(check_grammar(events, true), "");
    ASSERT_EQ(tool_inputs(events).size(), 1u);
    EXPECT_EQ(tool_inputs(events)[0], R"({"x":1})");
}

TEST(OpenAIStream, MissingIdIsSynthesizedAndMissingArgumentsAreEmptyObject) {
    const Output run =
        translate({tool_delta(0, "", "NoArgs", ""), chunk("{}", "tool_calls"), kDone}, "msg_abc");
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    EXPECT_EQ(event_json(events, "content_block_start").at("content_block").at("id").as_string(),
              "toolu_abc_0");
    ASSERT_EQ(tool_inputs(events).size(), 1u);
    EXPECT_EQ(tool_inputs(events)[0], "{}");
}

TEST(OpenAIStream, ToolIdsAreSanitizedForTheAnthropicPattern) {
    const Output run = translate(
        {tool_delta(0, "functions.Bash:0", "Bash", R"("{}")"), chunk("{}", "tool_calls")});
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(event_json(events, "content_block_start").at("content_block").at("id").as_string(),
              "functions_Bash_0");
}

TEST(OpenAIStream, LateFragmentForAClosedCallIsDropped) {
    const Output run = translate({
        tool_delta(0, "call_a", "A", R"("{\"k\":1}")"),
        tool_delta(1, "call_b", "B", R"("{\"j\":")"),
        tool_delta(0, "", "", R"("  ")"),  // after A was complete and closed
        tool_delta(1, "", "", R"("2}")"),
        chunk("{}", "tool_calls"),
    });
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    const auto inputs = tool_inputs(events);
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_EQ(inputs[0], R"({"k":1})");
    EXPECT_EQ(inputs[1], R"({"j":2})");
}

TEST(OpenAIStream, ReusedIndexWithANewIdIsANewCall) {
    const Output run = translate({
        tool_delta(0, "call_1", "A", R"("{}")"),
        tool_delta(0, "call_2", "B", R"("{}")"),
        chunk("{}", "tool_calls"),
    });
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(tool_inputs(events).size(), 2u);
    EXPECT_EQ(
        event_json(events, "content_block_start", 1).at("content_block").at("name").as_string(),
        "B");
}

TEST(OpenAIStream, WholeCallsInSeparateChunksWithoutIndexOrId) {
    // Gemini-style: each call complete in its own chunk, no index, empty id.
    const auto call = [](std::string_view name, std::string_view args) {
        return chunk(R"({"tool_calls":[{"id":"","type":"function","function":{"name":")" +
                     std::string(name) + R"(","arguments":)" + std::string(args) + "}}]}");
    };
    const Output run =
        translate({call("Read", R"("{\"p\":\"/a\"}")"), call("Read", R"("{\"p\":\"/b\"}")"),
                   call("Glob", R"("{\"g\":\"*\"}")"), chunk("{}", "stop")},
                  "msg_g");
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    const auto inputs = tool_inputs(events);
    ASSERT_EQ(inputs.size(), 3u);
    EXPECT_EQ(inputs[0], R"({"p":"/a"})");
    EXPECT_EQ(inputs[1], R"({"p":"/b"})");
    EXPECT_EQ(inputs[2], R"({"g":"*"})");
    EXPECT_EQ(event_json(events, "content_block_start", 2).at("content_block").at("id").as_string(),
              "toolu_g_2");
}

TEST(OpenAIStream, RepeatedIdAndNameInEveryDeltaIsOneCall) {
    const Output run =
        translate({tool_delta(0, "call_1", "Bash", R"("{\"command\":")"),
                   tool_delta(0, "call_1", "Bash", R"("\"ls\"}")"),
                   tool_delta(0, "call_1", "Bash", R"("")"), chunk("{}", "tool_calls")});
    const auto inputs = tool_inputs(test::collect_whole(run.out));
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(inputs[0], R"({"command":"ls"})");
}

TEST(OpenAIStream, ArgumentsSentAsAnObjectAreSerialized) {
    const Output run =
        translate({tool_delta(0, "call_1", "A", R"({"path":"/x"})"), chunk("{}", "tool_calls")});
    const auto inputs = tool_inputs(test::collect_whole(run.out));
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(inputs[0], R"({"path":"/x"})");
}

TEST(OpenAIStream, TextAfterToolCallsOpensANewTextBlock) {
    const Output run = translate({
        chunk(R"({"content":"Before."})"),
        tool_delta(0, "call_1", "A", R"("{}")"),
        chunk(R"({"content":"After."})"),
        chunk(R"({"reasoning_content":"Hmm."})"),
        chunk("{}", "stop"),
        kDone,
    });
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    EXPECT_EQ(
        event_json(events, "content_block_start", 2).at("content_block").at("type").as_string(),
        "text");
    EXPECT_EQ(
        event_json(events, "content_block_start", 3).at("content_block").at("type").as_string(),
        "thinking");
    EXPECT_EQ(all_text(events), "Before.After.");
    EXPECT_EQ(all_text(events, "thinking_delta"), "Hmm.");
    // "stop" after tool calls still asks the client to run them.
    EXPECT_EQ(event_json(events, "message_delta").at("delta").at("stop_reason").as_string(),
              "tool_use");
}

TEST(OpenAIStream, ReasoningContentWinsOverReasoningInTheSameDelta) {
    const Output run = translate(
        {chunk(R"({"reasoning_content":"once","reasoning":"once"})"), chunk("{}", "stop")});
    EXPECT_EQ(all_text(test::collect_whole(run.out), "thinking_delta"), "once");
}

TEST(OpenAIStream, Utf8SequenceSplitAcrossChunksIsRejoined) {
    // Some servers emit raw bytes of a character split across two chunks.
    const Output run = translate({chunk("{\"content\":\"a\xE4\xB8\"}"),
                                  chunk("{\"content\":\"\x96z\"}"), chunk("{}", "stop")});
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(all_text(events), "a\xE4\xB8\x96z");  // 世
    EXPECT_EQ(check_grammar(events, true), "");
}

TEST(OpenAIStream, UnfinishedUtf8SequenceBecomesReplacementCharacter) {
    const Output run = translate({chunk("{\"content\":\"ok\xE4\xB8\"}"), chunk("{}", "stop")});
    EXPECT_EQ(all_text(test::collect_whole(run.out)), "ok\xEF\xBF\xBD");
}

TEST(OpenAIStream, LoneSurrogateEscapeDoesNotLoseTheChunk) {
    const Output run = translate({chunk(R"({"content":"x\ud83dy"})"), chunk("{}", "stop")});
    EXPECT_EQ(all_text(test::collect_whole(run.out)), "x\xEF\xBF\xBDy");
}

TEST(OpenAIStream, StopSequenceNamedByVllm) {
    std::string finish = R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop",)";
    finish += R"("stop_reason":"END"}]})";
    finish += "\n\n";
    StreamTranslator t{std::string(kModel)};
    const Output run = translate({chunk(R"({"content":"x"})"), finish, kDone}, {}, &t);
    const json::value delta = event_json(test::collect_whole(run.out), "message_delta");
    EXPECT_EQ(delta.at("delta").at("stop_reason").as_string(), "stop_sequence");
    EXPECT_EQ(delta.at("delta").at("stop_sequence").as_string(), "END");
    EXPECT_EQ(t.usage().stop_reason, "stop_sequence");
}

TEST(OpenAIStream, ContentFilterIsARefusal) {
    const Output run = translate({chunk(R"({"content":"x"})"), chunk("{}", "content_filter")});
    EXPECT_EQ(event_json(test::collect_whole(run.out), "message_delta")
                  .at("delta")
                  .at("stop_reason")
                  .as_string(),
              "refusal");
}

TEST(OpenAIStream, OnlyTheFirstChoiceIsTranslated) {
    std::string two = R"(data: {"choices":[{"index":1,"delta":{"content":"other"}},)";
    two += R"({"index":0,"delta":{"content":"mine"}}]})";
    two += "\n\n";
    const Output run = translate({two, chunk("{}", "stop")});
    EXPECT_EQ(all_text(test::collect_whole(run.out)), "mine");
}

TEST(OpenAIStream, LegacyFunctionCallDelta) {
    const Output run = translate({chunk(R"({"function_call":{"name":"f","arguments":"{\"a\""}})"),
                                  chunk(R"({"function_call":{"arguments":":1}"}})"),
                                  chunk("{}", "function_call")});
    const auto events = test::collect_whole(run.out);
    EXPECT_EQ(check_grammar(events, true), "");
    ASSERT_EQ(tool_inputs(events).size(), 1u);
    EXPECT_EQ(tool_inputs(events)[0], R"({"a":1})");
}

TEST(OpenAIStream, GarbageEventsAreIgnored) {
    const Output run =
        translate({"data: not json\n\n", "data: [1,2]\n\n", chunk(R"({"content":"x"})"),
                   "event: ping\ndata: {}\n\n", chunk("{}", "stop")});
    EXPECT_TRUE(run.finished);
    EXPECT_EQ(all_text(test::collect_whole(run.out)), "x");
}

TEST(OpenAIStream, OversizedEventBreaksTheStream) {
    StreamTranslator t{std::string(kModel)};
    std::string out;
    t.feed(chunk(R"({"content":"x"})"), out);
    std::string huge = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
    huge.append(std::size_t{17} << 20, 'a');
    huge += "\"}}]}\n\n";
    t.feed(huge, out);
    EXPECT_TRUE(t.error_seen());
    EXPECT_FALSE(t.finish(out));
}

TEST(OpenAIStream, MovedTranslatorKeepsItsState) {
    StreamTranslator a{std::string(kModel)};
    std::string out;
    a.feed(chunk(R"({"content":"x"})"), out);
    StreamTranslator b = std::move(a);
    b.feed(chunk("{}", "stop"), out);
    EXPECT_TRUE(b.finish(out));
    EXPECT_EQ(check_grammar(test::collect_whole(out), true), "");
}

}  // namespace
}  // namespace qcc::openai
