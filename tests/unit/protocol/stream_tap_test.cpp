#include "protocol/anthropic/stream_tap.hpp"

#include <string>

#include <gtest/gtest.h>

#include "protocol/anthropic/error_body.hpp"
#include "test_data.hpp"

namespace qcc::anthropic {
namespace {

TEST(StreamTap, ReadsUsageStopReasonAndModelFromAnthropicStream) {
    StreamTap tap;
    tap.feed(test::kAnthropicStream);
    EXPECT_EQ(tap.events(), test::kAnthropicStreamEvents);
    EXPECT_TRUE(tap.first_event_seen());
    EXPECT_FALSE(tap.first_event_is_error());
    EXPECT_FALSE(tap.error_seen());
    EXPECT_EQ(tap.error_type(), "");
    EXPECT_TRUE(tap.message_stop_seen());
    const Usage& usage = tap.usage();
    EXPECT_EQ(usage.input_tokens, 12);
    EXPECT_EQ(usage.cache_creation_input_tokens, 1843);
    EXPECT_EQ(usage.cache_read_input_tokens, 17254);
    EXPECT_EQ(usage.cache_creation_5m, 0);  // this fixture predates the split
    EXPECT_EQ(usage.cache_creation_1h, 0);
    EXPECT_EQ(usage.output_tokens, 89);
    EXPECT_EQ(usage.stop_reason, "tool_use");
    EXPECT_EQ(usage.model, "claude-opus-4-8");
}

TEST(StreamTap, SameResultAtEverySplit) {
    const std::string crlf = test::with_line_endings(test::kAnthropicStream, "\r\n");
    for (std::size_t cut = 0; cut <= crlf.size(); ++cut) {
        StreamTap tap;
        tap.feed(std::string_view(crlf).substr(0, cut));
        tap.feed(std::string_view(crlf).substr(cut));
        ASSERT_EQ(tap.events(), test::kAnthropicStreamEvents) << cut;
        ASSERT_EQ(tap.usage().output_tokens, 89) << cut;
        ASSERT_EQ(tap.usage().cache_read_input_tokens, 17254) << cut;
        ASSERT_TRUE(tap.message_stop_seen()) << cut;
    }
}

TEST(StreamTap, FirstEventWaitsForNonPing) {
    StreamTap tap;
    tap.feed("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    EXPECT_EQ(tap.events(), 1u);
    EXPECT_FALSE(tap.first_event_seen());
    tap.feed("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n");
    EXPECT_FALSE(tap.first_event_seen());  // not dispatched before its blank line
    tap.feed("\n");
    EXPECT_TRUE(tap.first_event_seen());
    EXPECT_FALSE(tap.first_event_is_error());
}

TEST(StreamTap, FirstNonPingEventIsError) {
    StreamTap tap;
    tap.feed(test::kOverloadedStream);
    EXPECT_EQ(tap.events(), 2u);
    EXPECT_TRUE(tap.first_event_seen());
    EXPECT_TRUE(tap.first_event_is_error());
    EXPECT_TRUE(tap.error_seen());
    EXPECT_EQ(tap.error_type(), "overloaded_error");
    EXPECT_FALSE(tap.message_stop_seen());
}

TEST(StreamTap, ErrorAfterContentIsNotFirst) {
    StreamTap tap;
    const std::string_view stream = test::kAnthropicStream;
    // Cut after the content_block_start event, then fail.
    const std::size_t cut = stream.find("event: ping");
    tap.feed(stream.substr(0, cut));
    tap.feed(sse_error_event("api_error", "upstream reset"));
    tap.feed(test::kOverloadedStream);
    EXPECT_TRUE(tap.first_event_seen());
    EXPECT_FALSE(tap.first_event_is_error());
    EXPECT_TRUE(tap.error_seen());
    EXPECT_EQ(tap.error_type(), "api_error");  // the first error wins
    EXPECT_EQ(tap.usage().input_tokens, 12);
}

TEST(StreamTap, MessageDeltaUpdatesInputAndCacheFieldsWhenPresent) {
    StreamTap tap;
    tap.feed(
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-haiku-4-5\","
        "\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":null,"
        "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n");
    EXPECT_EQ(tap.usage().output_tokens, 1);
    EXPECT_EQ(tap.usage().model, "claude-haiku-4-5");
    tap.feed(
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},"
        "\"usage\":{\"output_tokens\":10}}\n\n");
    tap.feed(
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        "\"usage\":{\"input_tokens\":7,\"cache_creation_input_tokens\":300,"
        "\"cache_read_input_tokens\":4000,\"output_tokens\":42}}\n\n");
    const Usage& usage = tap.usage();
    EXPECT_EQ(usage.input_tokens, 7);
    EXPECT_EQ(usage.cache_creation_input_tokens, 300);
    EXPECT_EQ(usage.cache_read_input_tokens, 4000);
    EXPECT_EQ(usage.output_tokens, 42);
    EXPECT_EQ(usage.stop_reason, "end_turn");
    EXPECT_FALSE(tap.message_stop_seen());
}

TEST(StreamTap, CacheCreationSplitFromMessageStart) {
    StreamTap tap;
    tap.feed(
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-opus-4-5\","
        "\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":2500,"
        "\"cache_read_input_tokens\":40000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":500,"
        "\"ephemeral_1h_input_tokens\":2000},\"output_tokens\":1,\"service_tier\":\"standard\"}}}"
        "\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
        "\"usage\":{\"output_tokens\":77}}\n\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n\n");
    const Usage& usage = tap.usage();
    EXPECT_EQ(usage.input_tokens, 3);
    EXPECT_EQ(usage.cache_creation_input_tokens, 2500);
    EXPECT_EQ(usage.cache_creation_5m, 500);
    EXPECT_EQ(usage.cache_creation_1h, 2000);
    EXPECT_EQ(usage.cache_read_input_tokens, 40000);
    EXPECT_EQ(usage.output_tokens, 77);
    EXPECT_EQ(usage.stop_reason, "end_turn");
    EXPECT_TRUE(tap.message_stop_seen());
}

TEST(StreamTap, MessageDeltaOverridesCacheCreationSplit) {
    StreamTap tap;
    tap.feed(
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,"
        "\"cache_creation_input_tokens\":100,\"cache_creation\":"
        "{\"ephemeral_5m_input_tokens\":100,\"ephemeral_1h_input_tokens\":0}}}}\n\n");
    EXPECT_EQ(tap.usage().cache_creation_5m, 100);
    // A delta without the split keeps it; one with the split replaces what it carries.
    tap.feed(
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":5}}\n\n");
    EXPECT_EQ(tap.usage().cache_creation_5m, 100);
    EXPECT_EQ(tap.usage().cache_creation_1h, 0);
    tap.feed(
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":9,"
        "\"cache_creation_input_tokens\":700,\"cache_creation\":"
        "{\"ephemeral_1h_input_tokens\":600}}}\n\n");
    EXPECT_EQ(tap.usage().cache_creation_input_tokens, 700);
    EXPECT_EQ(tap.usage().cache_creation_5m, 100);
    EXPECT_EQ(tap.usage().cache_creation_1h, 600);
    EXPECT_EQ(tap.usage().output_tokens, 9);
    // A malformed delta changes nothing (no half-applied split).
    tap.feed(
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"usage\":{\"cache_creation\":"
        "{\"ephemeral_5m_input_tokens\":1,\"ephemeral_1h_input_tokens\":\n\n");
    EXPECT_EQ(tap.usage().cache_creation_5m, 100);
    EXPECT_EQ(tap.usage().cache_creation_1h, 600);
}

TEST(StreamTap, CacheCreationSplitAtEverySplitPoint) {
    const std::string stream =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,"
        "\"cache_creation_input_tokens\":30,\"cache_creation\":"
        "{\"ephemeral_5m_input_tokens\":10,\"ephemeral_1h_input_tokens\":20}}}}\r\n\r\n"
        "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        StreamTap tap;
        tap.feed(std::string_view(stream).substr(0, cut));
        tap.feed(std::string_view(stream).substr(cut));
        ASSERT_EQ(tap.usage().cache_creation_5m, 10) << cut;
        ASSERT_EQ(tap.usage().cache_creation_1h, 20) << cut;
        ASSERT_TRUE(tap.message_stop_seen()) << cut;
    }
}

TEST(StreamTap, MalformedJsonIsSkippedWithoutPartialUpdates) {
    StreamTap tap;
    tap.feed(
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,"
        "\"output_tokens\":\n\n"
        "event: message_delta\n"
        "data: not json at all\n\n"
        "event: error\n"
        "data: <html>502 Bad Gateway</html>\n\n");
    EXPECT_EQ(tap.events(), 3u);
    EXPECT_EQ(tap.usage().input_tokens, 0);
    EXPECT_EQ(tap.usage().output_tokens, 0);
    EXPECT_TRUE(tap.first_event_is_error() == false);
    EXPECT_TRUE(tap.error_seen());
    EXPECT_EQ(tap.error_type(), "");
}

TEST(StreamTap, UnnamedEventsAreNamedByTheirType) {
    StreamTap tap;
    tap.feed(
        "data: {\"type\": \"ping\"}\n\n"
        "data: "
        "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"x\"}}\n\n");
    EXPECT_TRUE(tap.first_event_is_error());
    EXPECT_EQ(tap.error_type(), "rate_limit_error");
    StreamTap tap2;
    tap2.feed(
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},"
        "\"usage\":{\"output_tokens\":3}}\n\ndata: {\"type\":\"message_stop\"}\n\n");
    EXPECT_EQ(tap2.usage().output_tokens, 3);
    EXPECT_EQ(tap2.usage().stop_reason, "max_tokens");
    EXPECT_TRUE(tap2.message_stop_seen());
}

TEST(StreamTap, GarbageNeverThrows) {
    StreamTap tap;
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
    tap.feed(garbage);
    tap.feed("\n\n\n\nevent: message_stop\ndata: {}\n\n");
    EXPECT_TRUE(tap.message_stop_seen());
}

}  // namespace
}  // namespace qcc::anthropic
