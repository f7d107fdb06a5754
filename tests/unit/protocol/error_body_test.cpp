#include "protocol/anthropic/error_body.hpp"

#include <gtest/gtest.h>

#include "protocol/anthropic/json_util.hpp"
#include "protocol/sse/parser.hpp"

namespace qcc::anthropic {
namespace {

TEST(ErrorBody, Format) {
    EXPECT_EQ(error_body("overloaded_error", "Overloaded"),
              R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
}

TEST(ErrorBody, EscapesMessage) {
    EXPECT_EQ(
        error_body("api_error", "bad \"thing\"\n\\ at\tx"),
        R"({"type":"error","error":{"type":"api_error","message":"bad \"thing\"\u000a\\ at\u0009x"}})");
}

TEST(ErrorBody, SseErrorEventIsOneParsableEvent) {
    const std::string event = sse_error_event("api_error", "upstream reset\nafter 10 bytes");
    EXPECT_EQ(event.substr(0, 19), "event: error\ndata: ");
    EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
    sse::Parser parser;
    int count = 0;
    parser.feed(event, [&](const sse::Event& e) {
        ++count;
        EXPECT_EQ(e.name, "error");
        EXPECT_EQ(e.data, error_body("api_error", "upstream reset\nafter 10 bytes"));
        EXPECT_EQ(parse_error_type(e.data), "api_error");
    });
    EXPECT_EQ(count, 1);
}

TEST(ErrorBody, ParseErrorTypeRoundTrips) {
    for (std::string_view type :
         {"invalid_request_error", "authentication_error", "permission_error", "not_found_error",
          "request_too_large", "rate_limit_error", "api_error", "overloaded_error"}) {
        EXPECT_EQ(parse_error_type(error_body(type, "m")), type);
    }
}

TEST(ErrorBody, ParseErrorTypeOfRealBodies) {
    EXPECT_EQ(parse_error_type(
                  R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of )"
                  R"(request tokens has exceeded your per-minute rate limit"},)"
                  R"("request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})"),
              "rate_limit_error");
    // Field order is not fixed, and OpenAI-style bodies carry error.type too.
    EXPECT_EQ(parse_error_type(R"({"error":{"message":"m","type":"insufficient_quota"}})"),
              "insufficient_quota");
    EXPECT_EQ(parse_error_type("\n  {\"error\" : {\"type\" : \"api_error\"}}\n"), "api_error");
}

TEST(ErrorBody, ParseErrorTypeAbsentOrNotJson) {
    EXPECT_EQ(parse_error_type(""), "");
    EXPECT_EQ(parse_error_type("<html><body>502 Bad Gateway</body></html>"), "");
    EXPECT_EQ(parse_error_type(R"({"type":"error"})"), "");
    EXPECT_EQ(parse_error_type(R"({"error":"overloaded"})"), "");
    EXPECT_EQ(parse_error_type(R"({"error":{"type":529}})"), "");
    EXPECT_EQ(parse_error_type(R"([{"error":{"type":"api_error"}}])"), "");
    EXPECT_EQ(parse_error_type(R"({"error":{"type":"api_error")"), "");
}

TEST(JsonEscape, EscapesQuotesBackslashesAndControls) {
    EXPECT_EQ(json_escape(""), "");
    EXPECT_EQ(json_escape("plain text 123"), "plain text 123");
    EXPECT_EQ(json_escape("a\"b\\c"), R"(a\"b\\c)");
    EXPECT_EQ(json_escape("\n\r\t\b\f"), R"(\u000a\u000d\u0009\u0008\u000c)");
    EXPECT_EQ(json_escape(std::string_view("\x00\x1f", 2)), R"(\u0000\u001f)");
    EXPECT_EQ(json_escape("/ and \x7f stay"), "/ and \x7f stay");
}

TEST(JsonEscape, KeepsValidUtf8AndReplacesInvalid) {
    EXPECT_EQ(json_escape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    const std::string kFffd = "\xEF\xBF\xBD";
    EXPECT_EQ(json_escape("a\xFF"
                          "b"),
              "a" + kFffd + "b");
    EXPECT_EQ(json_escape("\xC3"), kFffd);                                      // truncated
    EXPECT_EQ(json_escape("\xC0\xAF"), kFffd + kFffd);                          // overlong
    EXPECT_EQ(json_escape("\xED\xA0\x80"), kFffd + kFffd + kFffd);              // surrogate
    EXPECT_EQ(json_escape("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
}

TEST(JsonEscape, OutputIsValidJsonString) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    const std::string body = error_body(json_escape(all).substr(0, 0) + "t", all);
    EXPECT_EQ(parse_error_type(body), "t");  // the parser accepts it: escapes and UTF-8 are valid
}

}  // namespace
}  // namespace qcc::anthropic
