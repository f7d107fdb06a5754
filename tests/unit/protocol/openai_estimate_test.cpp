#include <string>

#include <gtest/gtest.h>

#include "protocol/openai/token_estimate.hpp"
#include "test_data.hpp"

namespace qcc::openai {
namespace {

// Fixed cost of a request with no content: reply priming.
constexpr std::int64_t kBase = 3;
// Per message.
constexpr std::int64_t kPerMessage = 4;

std::string one_message(std::string_view content_json) {
    return R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":)" +
           std::string(content_json) + "}]}";
}

std::string base64(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (i < bytes.size()) {  // tests only use lengths where this is a whole pad
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

TEST(OpenAIEstimate, NotAnObject) {
    EXPECT_EQ(estimate_input_tokens("not json"), -1);
    EXPECT_EQ(estimate_input_tokens("[1,2]"), -1);
    EXPECT_EQ(estimate_input_tokens("\"x\""), -1);
    EXPECT_EQ(estimate_input_tokens(""), -1);
    EXPECT_EQ(estimate_input_tokens("{}"), kBase);
}

TEST(OpenAIEstimate, TextHeuristic) {
    EXPECT_EQ(estimate_text_tokens(""), 0);
    EXPECT_EQ(estimate_text_tokens("abcd"), 1);
    EXPECT_EQ(estimate_text_tokens("abcde"), 2);                     // rounded up
    EXPECT_EQ(estimate_text_tokens("\xE4\xB8\x96\xE7\x95\x8C"), 2);  // 世界: one each
    EXPECT_EQ(estimate_text_tokens("\xC3\xA9\xC3\xA9"), 1);          // éé: two per token
    EXPECT_EQ(estimate_input_tokens(one_message("\"" + std::string(400, 'a') + "\"")),
              kBase + kPerMessage + 100);
}

TEST(OpenAIEstimate, SystemToolsAndBlocks) {
    const std::string body = R"({"system":[{"type":"text","text":"abcdabcd"}],
        "tools":[{"name":"abcd","description":"abcdabcd","input_schema":{}},
                 {"type":"web_search_20250305","name":"web_search"}],
        "messages":[
          {"role":"user","content":[{"type":"text","text":"abcd"},
              {"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},
          {"role":"assistant","content":[{"type":"thinking","thinking":"not counted at all"},
              {"type":"tool_use","id":"t","name":"abcd","input":{"k":1}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"t",
              "content":[{"type":"text","text":"abcdabcdabcd"}]}]}]})";
    const std::int64_t system = 2;
    const std::int64_t tools = 8 + 1 + 2 + 1;  // overhead, name, description, "{}" (2 bytes / 3)
    const std::int64_t messages = 3 * kPerMessage + (1 + 1600) + (1 + 3) + 3;  // {"k":1}: 7/3
    EXPECT_EQ(estimate_input_tokens(body), kBase + system + tools + messages);
}

TEST(OpenAIEstimate, PdfPagesAreCounted) {
    const std::string pdf =
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        "2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n"
        "3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n"
        "4 0 obj <</Type/Page/Parent 2 0 R>> endobj\n"
        "5 0 obj << /Type\n/Page >> endobj\n%%EOF\n";
    const std::string body = one_message(
        R"([{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":")" +
        base64(pdf) + R"("}}])");
    EXPECT_EQ(estimate_input_tokens(body), kBase + kPerMessage + 3 * 2000);
    // No visible page objects: at least one page.
    const std::string opaque = one_message(
        R"([{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":")" +
        base64("%PDF-1.7 compressed") + R"("}}])");
    EXPECT_EQ(estimate_input_tokens(opaque), kBase + kPerMessage + 2000);
}

TEST(OpenAIEstimate, ClaudeCodeFixturesArePlausible) {
    for (const char* name : {"claude-code/cc-2.1.197-request1.body.json",
                             "claude-code/cc-2.1.332-request2.body.json"}) {
        const std::string body = test::read_fixture(name);
        const std::int64_t tokens = estimate_input_tokens(body);
        // English prose and JSON schemas: roughly 3-5 bytes per token.
        EXPECT_GT(tokens, static_cast<std::int64_t>(body.size() / 6)) << name;
        EXPECT_LT(tokens, static_cast<std::int64_t>(body.size() / 2)) << name;
    }
}

TEST(OpenAIEstimate, GrowsWithContent) {
    const std::int64_t small = estimate_input_tokens(one_message("\"hello\""));
    const std::int64_t large = estimate_input_tokens(one_message("\"hello hello hello hello\""));
    EXPECT_GT(large, small);
}

}  // namespace
}  // namespace qcc::openai
