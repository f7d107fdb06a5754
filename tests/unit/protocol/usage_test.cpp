#include "protocol/anthropic/usage.hpp"

#include <gtest/gtest.h>

namespace qcc::anthropic {
namespace {

TEST(ParseUsage, NonStreamingResponse) {
    const Usage usage = parse_usage_json(
        R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-opus-4-8",)"
        R"("content":[{"type":"text","text":"{\"usage\":{\"input_tokens\":999}}"}],)"
        R"("stop_reason":"end_turn","stop_sequence":null,)"
        R"("usage":{"input_tokens":21,"cache_creation_input_tokens":188086,)"
        R"("cache_read_input_tokens":4096,"output_tokens":393,)"
        R"("server_tool_use":{"web_search_requests":0},"service_tier":"standard"}})");
    EXPECT_EQ(usage.input_tokens, 21);
    EXPECT_EQ(usage.cache_creation_input_tokens, 188086);
    EXPECT_EQ(usage.cache_read_input_tokens, 4096);
    EXPECT_EQ(usage.output_tokens, 393);
    EXPECT_EQ(usage.stop_reason, "end_turn");
    EXPECT_EQ(usage.model, "claude-opus-4-8");
}

TEST(ParseUsage, UsageFirstAndMissingFields) {
    const Usage usage =
        parse_usage_json(R"({"usage":{"output_tokens":5,"input_tokens":3},"model":"m"})");
    EXPECT_EQ(usage.input_tokens, 3);
    EXPECT_EQ(usage.output_tokens, 5);
    EXPECT_EQ(usage.cache_creation_input_tokens, 0);
    EXPECT_EQ(usage.cache_read_input_tokens, 0);
    EXPECT_EQ(usage.stop_reason, "");
    EXPECT_EQ(usage.model, "m");
}

TEST(ParseUsage, OddNumbersAndNulls) {
    const Usage usage = parse_usage_json(
        R"({"usage":{"input_tokens":12.0,"output_tokens":-4,)"
        R"("cache_creation_input_tokens":null,"cache_read_input_tokens":"7"},"stop_reason":null})");
    EXPECT_EQ(usage.input_tokens, 12);
    EXPECT_EQ(usage.output_tokens, 0);
    EXPECT_EQ(usage.cache_creation_input_tokens, 0);
    EXPECT_EQ(usage.cache_read_input_tokens, 0);
    EXPECT_EQ(usage.stop_reason, "");
}

TEST(ParseUsage, CacheCreationSplit) {
    const Usage usage = parse_usage_json(
        R"({"model":"claude-sonnet-4-5","usage":{"input_tokens":4,)"
        R"("cache_creation_input_tokens":3000,"cache_read_input_tokens":120,)"
        R"("cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},)"
        R"("output_tokens":7}})");
    EXPECT_EQ(usage.input_tokens, 4);
    EXPECT_EQ(usage.cache_creation_input_tokens, 3000);
    EXPECT_EQ(usage.cache_creation_5m, 1000);
    EXPECT_EQ(usage.cache_creation_1h, 2000);
    EXPECT_EQ(usage.cache_read_input_tokens, 120);
    EXPECT_EQ(usage.output_tokens, 7);
    EXPECT_EQ(usage.model, "claude-sonnet-4-5");
}

TEST(ParseUsage, CacheCreationSplitOddShapes) {
    // Only one lifetime reported, unknown members ignored, a nested cache_creation elsewhere in
    // the body (inside content) does not count.
    Usage usage = parse_usage_json(
        R"({"content":[{"type":"text","text":"x",)"
        R"("cache_creation":{"ephemeral_1h_input_tokens":9}}],)"
        R"("usage":{"cache_creation_input_tokens":50,)"
        R"("cache_creation":{"ephemeral_1h_input_tokens":50,"ephemeral_24h_input_tokens":7}}})");
    EXPECT_EQ(usage.cache_creation_input_tokens, 50);
    EXPECT_EQ(usage.cache_creation_5m, 0);
    EXPECT_EQ(usage.cache_creation_1h, 50);

    // Non-object / null / negative / non-numeric values leave zeros.
    for (std::string_view body :
         {R"({"usage":{"cache_creation":null}})", R"({"usage":{"cache_creation":[1,2]}})",
          R"({"usage":{"cache_creation":{"ephemeral_5m_input_tokens":-5,)"
          R"("ephemeral_1h_input_tokens":"12"}}})",
          R"({"usage":{"cache_creation":{"ephemeral_5m_input_tokens":null}}})"}) {
        SCOPED_TRACE(body);
        usage = parse_usage_json(body);
        EXPECT_EQ(usage.cache_creation_5m, 0);
        EXPECT_EQ(usage.cache_creation_1h, 0);
    }

    // Without the split object (older API versions) both stay 0.
    usage = parse_usage_json(R"({"usage":{"cache_creation_input_tokens":188086}})");
    EXPECT_EQ(usage.cache_creation_input_tokens, 188086);
    EXPECT_EQ(usage.cache_creation_5m, 0);
    EXPECT_EQ(usage.cache_creation_1h, 0);

    // A truncated split object makes the whole body unusable, as for any other field.
    usage = parse_usage_json(
        R"({"usage":{"input_tokens":3,"cache_creation":{"ephemeral_5m_input_tokens":4)");
    EXPECT_EQ(usage.input_tokens, 0);
    EXPECT_EQ(usage.cache_creation_5m, 0);
}

TEST(ParseUsage, InvalidBodiesGiveZeros) {
    for (std::string_view body : {"", "null", "[]", "<html>", R"({"usage":{"input_tokens":5)",
                                  R"({"usage":"lots"})", R"({"usage":[1,2]})"}) {
        SCOPED_TRACE(body);
        const Usage usage = parse_usage_json(body);
        EXPECT_EQ(usage.input_tokens, 0);
        EXPECT_EQ(usage.output_tokens, 0);
        EXPECT_EQ(usage.model, "");
    }
}

}  // namespace
}  // namespace qcc::anthropic
