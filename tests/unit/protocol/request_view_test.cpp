#include "protocol/anthropic/request_view.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/anthropic/session_key.hpp"
#include "test_data.hpp"

namespace qcc::anthropic {
namespace {

const std::vector<std::string> kFixtures = {
    "claude-code/cc-2.1.197-request1.body.json",
    "claude-code/cc-2.1.197-request2.body.json",
    "claude-code/cc-2.1.332-request1.body.json",
    "claude-code/cc-2.1.332-request2.body.json",
};

// Both code paths: the body followed by readable padding (parsed in place) and the body alone
// (copied first). They must agree, and offsets must be relative to `body` either way.
std::optional<RequestView> peek_both_ways(std::string_view body, std::string* error = nullptr) {
    std::string padded(body);
    padded.resize(body.size() + kJsonPadding, '\0');
    std::string in_place_error;
    std::string copied_error;
    auto in_place =
        peek_request(std::string_view(padded.data(), body.size()), padded.size(), &in_place_error);
    auto copied = peek_request(body, body.size(), &copied_error);
    EXPECT_EQ(in_place.has_value(), copied.has_value());
    EXPECT_EQ(in_place_error, copied_error);
    if (in_place && copied) {
        EXPECT_EQ(in_place->model, copied->model);
        EXPECT_EQ(in_place->model_offset, copied->model_offset);
        EXPECT_EQ(in_place->model_length, copied->model_length);
        EXPECT_EQ(in_place->stream, copied->stream);
        EXPECT_EQ(in_place->metadata_user_id, copied->metadata_user_id);
    }
    if (error != nullptr) *error = copied_error;
    return copied;
}

std::string_view model_token(std::string_view body, const RequestView& view) {
    return body.substr(view.model_offset, view.model_length);
}

TEST(RequestView, ReadsClaudeCodeFixtures) {
    for (const std::string& name : kFixtures) {
        SCOPED_TRACE(name);
        const std::string body = test::read_fixture(name);
        ASSERT_GT(body.size(), 40'000u);
        const auto view = peek_both_ways(body);
        ASSERT_TRUE(view.has_value());
        EXPECT_EQ(view->model, name.find("2.1.197") != std::string::npos ? "claude-opus-4-8"
                                                                         : "claude-opus-5-5");
        EXPECT_EQ(model_token(body, *view), "\"" + view->model + "\"");
        EXPECT_TRUE(view->stream);
        EXPECT_EQ(
            view->metadata_user_id,
            R"({"device_id":"e2e0000000000000000000000000000000000000000000000000000000000001",)"
            R"("account_uuid":"","session_id":"3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c91"})");
        EXPECT_EQ(session_key("", view->metadata_user_id, ""),
                  "3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c91");
    }
}

TEST(RequestView, SpliceKeepsEveryOtherByteOfFixtures) {
    for (const std::string& name : kFixtures) {
        SCOPED_TRACE(name);
        const std::string body = test::read_fixture(name);
        const auto view = peek_both_ways(body);
        ASSERT_TRUE(view.has_value());
        const std::string new_model = "claude-sonnet-4-5-20250929";
        const std::string out = splice_model(body, *view, new_model);
        const std::size_t tail = body.size() - view->model_offset - view->model_length;
        EXPECT_EQ(out.size(), body.size() - view->model_length + new_model.size() + 2);
        EXPECT_EQ(out.substr(0, view->model_offset), body.substr(0, view->model_offset));
        EXPECT_EQ(out.substr(out.size() - tail), body.substr(body.size() - tail));
        const auto again = peek_both_ways(out);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->model, new_model);
        EXPECT_EQ(again->model_offset, view->model_offset);
        EXPECT_TRUE(again->stream);
        EXPECT_EQ(again->metadata_user_id, view->metadata_user_id);
        // Splicing the original name back restores the exact bytes.
        EXPECT_EQ(splice_model(out, *again, view->model), body);
    }
}

TEST(RequestView, KeysInAnyOrderAndNestedModelKeysIgnored) {
    const std::string body =
        R"({"metadata":{"other":{"user_id":"nested"},"user_id":"user_ab_account__session_x"},)"
        R"("messages":[{"role":"user","model":"inner","content":[{"model":"deeper"}]}],)"
        R"("stream":true,"tools":[{"name":"model","input_schema":{"model":{"type":"string"}}}],)"
        "\n  \"model\" :\t\"claude-haiku-4-5\"  \n,\"max_tokens\":20}";
    const auto view = peek_both_ways(body);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "claude-haiku-4-5");
    EXPECT_EQ(model_token(body, *view), "\"claude-haiku-4-5\"");
    EXPECT_TRUE(view->stream);
    EXPECT_EQ(view->metadata_user_id, "user_ab_account__session_x");
}

TEST(RequestView, EscapedModelIsUnescapedAndTokenCoversEscapes) {
    const std::string body = R"({"stream":false,"model":"claude\u002dopus\"x\\y\/z"})";
    const auto view = peek_both_ways(body);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "claude-opus\"x\\y/z");
    EXPECT_EQ(model_token(body, *view), R"("claude\u002dopus\"x\\y\/z")");
    EXPECT_FALSE(view->stream);
    const std::string out = splice_model(body, *view, "new \"quoted\" model\n");
    EXPECT_EQ(out, R"({"stream":false,"model":"new \"quoted\" model\u000a"})");
    const auto again = peek_both_ways(out);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->model, "new \"quoted\" model\n");
}

TEST(RequestView, EscapedKeyNamesMatch) {
    const auto view = peek_both_ways(R"({"mod\u0065l":"m","str\u0065am":true})");
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "m");
    EXPECT_TRUE(view->stream);
}

TEST(RequestView, UnicodeModelKeptAsUtf8) {
    const std::string body = "{\"model\":\"mod\xC3\xA8le-\\u00e9\"}";
    const auto view = peek_both_ways(body);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "mod\xC3\xA8le-\xC3\xA9");
    EXPECT_EQ(view->model_length, body.size() - 10);
}

TEST(RequestView, ModelAbsent) {
    const auto view = peek_both_ways(R"({"messages":[],"max_tokens":1})");
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "");
    EXPECT_EQ(view->model_length, 0u);
    EXPECT_FALSE(view->stream);
    EXPECT_EQ(view->metadata_user_id, "");
    // Nothing to splice: the body comes back unchanged.
    EXPECT_EQ(splice_model(R"({"messages":[]})", *view, "x"), R"({"messages":[]})");
}

TEST(RequestView, NonStringValuesAreIgnored) {
    const auto view =
        peek_both_ways(R"({"model":42,"stream":"true","metadata":{"user_id":{"session_id":"s"}}})");
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "");
    EXPECT_EQ(view->model_length, 0u);
    EXPECT_FALSE(view->stream);
    EXPECT_EQ(view->metadata_user_id, "");
    const auto null_metadata = peek_both_ways(R"({"model":null,"metadata":null,"stream":null})");
    ASSERT_TRUE(null_metadata.has_value());
    EXPECT_EQ(null_metadata->model_length, 0u);
}

TEST(RequestView, RepeatedKeyLastWins) {
    const std::string body = R"({"model":"first","stream":true,"model":"second","stream":false})";
    const auto view = peek_both_ways(body);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "second");
    EXPECT_EQ(model_token(body, *view), "\"second\"");
    EXPECT_FALSE(view->stream);
}

TEST(RequestView, EmptyObjectAndEmptyModel) {
    ASSERT_TRUE(peek_both_ways("{}").has_value());
    const auto view = peek_both_ways(R"( { "model" : "" } )");
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "");
    EXPECT_EQ(view->model_length, 2u);
    EXPECT_EQ(splice_model(R"( { "model" : "" } )", *view, "m"), R"( { "model" : "m" } )");
}

TEST(RequestView, NotAnObjectIsRejected) {
    const std::vector<std::string> bad = {
        "",
        "   ",
        "[]",
        R"([{"model":"x"}])",
        "\"model\"",
        "42",
        "null",
        "not json",
        R"({"model":"x")",
        R"({"model":"x",)",
        R"({"model":"x","messages":[{"role":"user"}})",
        R"({"model":"unterminated})",
        R"({"model" "x"})",
        R"({"model":"x"} trailing)",
        R"({model:"x"})",
        "{\"model\":\"bad utf8 \xC3\x28\"}",
    };
    for (const std::string& body : bad) {
        SCOPED_TRACE(body);
        std::string error;
        EXPECT_FALSE(peek_both_ways(body, &error).has_value());
        EXPECT_FALSE(error.empty());
    }
    EXPECT_FALSE(peek_request("[1]", 3, nullptr).has_value());  // null error pointer is allowed
}

TEST(RequestView, InsufficientCapacityFallsBackToCopy) {
    // A capacity just short of the padding must not be trusted.
    std::string padded = R"({"model":"x"})";
    const std::size_t size = padded.size();
    padded.resize(size + kJsonPadding - 1, ' ');
    const auto view = peek_request(std::string_view(padded.data(), size), padded.size(), nullptr);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->model, "x");
    EXPECT_EQ(view->model_offset, 9u);
}

TEST(RequestView, SpliceRejectsViewsThatDoNotFit) {
    RequestView view;
    view.model_offset = 5;
    view.model_length = 100;
    EXPECT_EQ(splice_model("{\"model\":\"x\"}", view, "y"), "{\"model\":\"x\"}");
}

}  // namespace
}  // namespace qcc::anthropic
