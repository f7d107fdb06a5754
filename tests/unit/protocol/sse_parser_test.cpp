#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/sse/parser.hpp"
#include "test_data.hpp"

namespace qcc::sse {
namespace {

using test::collect;
using test::collect_whole;
using test::EventList;

TEST(SseParser, ParsesAnthropicStream) {
    const EventList events = collect_whole(test::kAnthropicStream);
    ASSERT_EQ(events.size(), test::kAnthropicStreamEvents);
    EXPECT_EQ(events.front().first, "message_start");
    EXPECT_EQ(events[2].first, "ping");
    EXPECT_EQ(events[2].second, R"({"type": "ping"})");
    EXPECT_EQ(events.back().first, "message_stop");
    EXPECT_EQ(events.back().second, R"({"type":"message_stop"})");
}

// The tap sees TCP segments wherever they fall: every split must give the same events.
void expect_same_events_at_every_split(std::string_view stream) {
    const EventList expected = collect_whole(stream);
    ASSERT_FALSE(expected.empty());
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        Parser parser;
        const EventList got = collect(parser, {stream.substr(0, cut), stream.substr(cut)});
        ASSERT_EQ(got, expected) << "split at byte " << cut;
    }
    for (std::size_t a = 0; a < stream.size(); a += 11) {
        for (std::size_t b = a; b <= stream.size(); b += 17) {
            Parser parser;
            const EventList got =
                collect(parser, {stream.substr(0, a), stream.substr(a, b - a), stream.substr(b)});
            ASSERT_EQ(got, expected) << "split at bytes " << a << " and " << b;
        }
    }
    Parser parser;
    EventList one_by_one;
    for (char c : stream) {
        const EventList got = collect(parser, {std::string_view(&c, 1)});
        one_by_one.insert(one_by_one.end(), got.begin(), got.end());
    }
    EXPECT_EQ(one_by_one, expected);
}

TEST(SseParser, SplitAtEveryByteLf) { expect_same_events_at_every_split(test::kAnthropicStream); }

TEST(SseParser, SplitAtEveryByteCrLf) {
    const std::string crlf = test::with_line_endings(test::kAnthropicStream, "\r\n");
    EXPECT_EQ(collect_whole(crlf), collect_whole(test::kAnthropicStream));
    expect_same_events_at_every_split(crlf);
}

TEST(SseParser, SplitAtEveryByteCr) {
    const std::string cr = test::with_line_endings(test::kAnthropicStream, "\r");
    EXPECT_EQ(collect_whole(cr), collect_whole(test::kAnthropicStream));
    expect_same_events_at_every_split(cr);
}

TEST(SseParser, MixedLineEndings) {
    const std::string_view stream = "event: a\r\ndata: 1\rdata: 2\n\r\nevent: b\ndata: 3\r\r";
    const EventList expected = {{"a", "1\n2"}, {"b", "3"}};
    EXPECT_EQ(collect_whole(stream), expected);
    expect_same_events_at_every_split(stream);
}

TEST(SseParser, CrLfSplitBetweenCrAndLfIsOneLineEnd) {
    Parser parser;
    // If the \n after a split \r were taken as a second line end, "data: x" would dispatch early
    // as an event with data "x" and the following data line would start a new one.
    const EventList got = collect(parser, {"data: x\r", "\ndata: y\r", "\n\r", "\n"});
    const EventList expected = {{"", "x\ny"}};
    EXPECT_EQ(got, expected);
}

TEST(SseParser, MultipleDataLinesJoinedWithNewline) {
    const EventList expected = {{"", "first\n\nthird"}};
    EXPECT_EQ(collect_whole("data: first\ndata:\ndata: third\n\n"), expected);
}

TEST(SseParser, CommentsAndUnknownFieldsIgnored) {
    const EventList expected = {{"update", "payload"}};
    EXPECT_EQ(collect_whole(": keep-alive\n"
                            ":\n"
                            "id: 42\n"
                            "retry: 1000\n"
                            "event: update\n"
                            "foo: bar\n"
                            ": comment between fields\n"
                            "data: payload\n"
                            "\n"),
              expected);
}

TEST(SseParser, CommentOnlyBlockDispatchesNothing) {
    EXPECT_TRUE(collect_whole(": ping\n\n: ping\n\n").empty());
}

TEST(SseParser, OnlyOneSpaceAfterColonStripped) {
    const EventList expected = {{"x", "  two spaces"}, {"y", "none"}};
    EXPECT_EQ(collect_whole("event: x\ndata:   two spaces\n\nevent:y\ndata:none\n\n"), expected);
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
    // "data" alone is a data line with an empty value, so the event is dispatched with data "".
    const EventList expected = {{"", ""}};
    EXPECT_EQ(collect_whole("data\n\n"), expected);
}

TEST(SseParser, EventWithoutDataIsNotDispatchedAndItsNameIsDropped) {
    const EventList expected = {{"", "later"}};
    EXPECT_EQ(collect_whole("event: lonely\n\ndata: later\n\n"), expected);
}

TEST(SseParser, ColonInValueKept) {
    const EventList expected = {{"", "a: b: c"}};
    EXPECT_EQ(collect_whole("data: a: b: c\n\n"), expected);
}

TEST(SseParser, FieldNamesAreCaseSensitive) {
    const EventList expected = {{"", "kept"}};
    EXPECT_EQ(collect_whole("Event: no\nDATA: no\ndata: kept\n\n"), expected);
}

TEST(SseParser, UnterminatedEventIsNotDispatched) {
    Parser parser;
    EXPECT_TRUE(collect(parser, {"event: message_start\ndata: {}\n"}).empty());
    const EventList expected = {{"message_start", "{}"}};
    EXPECT_EQ(collect(parser, {"\n"}), expected);
}

TEST(SseParser, LeadingBomSkippedEvenWhenSplit) {
    const EventList expected = {{"", "x"}};
    EXPECT_EQ(collect_whole("\xEF\xBB\xBF"
                            "data: x\n\n"),
              expected);
    Parser parser;
    EXPECT_EQ(collect(parser, {"\xEF", "\xBB",
                               "\xBF"
                               "data: x\n",
                               "\n"}),
              expected);
}

TEST(SseParser, BomPrefixThatIsNotABomIsContent) {
    // "\xEF" followed by "data" makes the field name "\xEF" "data", which is unknown.
    EXPECT_TRUE(collect_whole("\xEF"
                              "data: x\n\n")
                    .empty());
    const EventList expected = {{"", "y"}};
    EXPECT_EQ(collect_whole("\xEF\xBB\n\ndata: y\n\n"), expected);
}

TEST(SseParser, OnlyFirstBomSkipped) {
    // A second BOM is part of the first line's field name, which then is not "data".
    EXPECT_TRUE(collect_whole("\xEF\xBB\xBF\xEF\xBB\xBF"
                              "data: x\n\n")
                    .empty());
}

TEST(SseParser, EmptyFeedsAreHarmless) {
    Parser parser;
    const EventList got = collect(parser, {"", "data: a", "", "\r", "", "\n", "", "\n", ""});
    const EventList expected = {{"", "a"}};
    EXPECT_EQ(got, expected);
}

TEST(SseParser, EventWithinLimitIsKept) {
    Parser parser(16);
    const EventList got = collect(parser, {"event: ab\ndata: 0123456789abcd\n\n"});
    ASSERT_EQ(got.size(), 1u);  // name (2) + data (14) = 16 bytes, exactly the limit
    EXPECT_EQ(got[0].second, "0123456789abcd");
    EXPECT_FALSE(parser.overflow());
}

TEST(SseParser, OversizedEventInOneChunkIsDiscarded) {
    Parser parser(16);
    const EventList got =
        collect(parser, {"event: big\ndata: 0123456789abcdef\ndata: more\n\ndata: ok\n\n"});
    const EventList expected = {{"", "ok"}};
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(parser.overflow());
}

TEST(SseParser, OversizedEventAcrossDataLinesIsDiscarded) {
    Parser parser(16);
    const EventList got =
        collect(parser, {"data: 0123456789\ndata: 0123456789\n\nevent: next\ndata: ok\n\n"});
    const EventList expected = {{"next", "ok"}};
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(parser.overflow());
}

TEST(SseParser, HugeLineSpanningFeedsStaysBounded) {
    constexpr std::size_t kMax = 1024;
    Parser parser(kMax);
    const std::string chunk(4096, 'x');
    EventList events;
    const auto on_event = [&](const Event& e) {
        events.emplace_back(std::string(e.name), std::string(e.data));
    };
    parser.feed("event: flood\ndata: ", on_event);
    for (int i = 0; i < 2048; ++i) {  // 8 MiB of one data line
        parser.feed(chunk, on_event);
        ASSERT_LE(parser.buffered_bytes(), kMax);
    }
    EXPECT_TRUE(parser.overflow());
    parser.feed("\r", on_event);
    parser.feed("\n\r\nevent: after\ndata: fine\n\n", on_event);
    const EventList expected = {{"after", "fine"}};
    EXPECT_EQ(events, expected);
    EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(SseParser, HugeCommentSpanningFeedsIsNotBufferedAndNotAnOverflow) {
    Parser parser(64);
    EventList events;
    const auto on_event = [&](const Event& e) {
        events.emplace_back(std::string(e.name), std::string(e.data));
    };
    parser.feed(":", on_event);
    const std::string chunk(1000, 'c');
    for (int i = 0; i < 100; ++i) parser.feed(chunk, on_event);
    EXPECT_EQ(parser.buffered_bytes(), 0u);
    parser.feed("\ndata: x\n\n", on_event);
    EXPECT_FALSE(parser.overflow());
    const EventList expected = {{"", "x"}};
    EXPECT_EQ(events, expected);
}

TEST(SseParser, ViewsPointAtCompleteEventData) {
    Parser parser;
    std::vector<std::size_t> sizes;
    parser.feed("data: abc\n", [&](const Event& e) { sizes.push_back(e.data.size()); });
    parser.feed("data: def\n\n", [&](const Event& e) {
        sizes.push_back(e.data.size());
        EXPECT_EQ(e.data, "abc\ndef");
        EXPECT_EQ(e.name, "");
    });
    ASSERT_EQ(sizes.size(), 1u);
    EXPECT_EQ(sizes[0], 7u);
}

TEST(SseParser, ThrowingCallbackLeavesParserUsable) {
    Parser parser;
    EXPECT_THROW(parser.feed("event: a\ndata: 1\n\n", [](const Event&) { throw 1; }), int);
    const EventList expected = {{"", "2"}};
    EXPECT_EQ(collect(parser, {"data: 2\n\n"}), expected);
}

}  // namespace
}  // namespace qcc::sse
